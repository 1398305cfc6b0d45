//! The client document: one per client, holding the card, consent with its evidence, and visits.
//!
//! ```text
//! ROOT { schema, kind: "client", id, name, given?, family?, email?, birthday?, comment?, class,
//!        loyalty?, discount, source, created, updated, deleted?, primary_phone?, telegram_chat?,
//!        wa_last_in?,
//!        "phone:<e164 | raw:…>" → { raw, e164?, label },
//!        "tag:<tag>"            → true,
//!        "consent:<subject>"    → <event id>,
//!        "ce:<event id>"        → { s, g, at, staff?, dev, src, note },
//!        "visit:<visit id>"     → { start, zone, dur, services, total, paid, status, staff?,
//!                                   note?, reminder?, repeat?, created, updated, deleted? },
//!        "msg:<message id>"     → { ch, kind, body, at, staff?, dev?, visit?, tpl?, rule?,
//!                                   status, status_at, detail?, from? },
//!        conv?, conv_at?, conv_until?, conv_staff?   (the conversation: status, since, …),
//!        lead?                  (an unknown sender's card, made by the server: not yet a client),
//!        "note:<note id>"       → { body, at, staff?, dev? } }
//! ```
//!
//! Collections are flat, prefixed keys of the root map rather than nested container maps: no
//! container ever has to be created, so two devices can never each create "the" visits map and
//! hide one another's visits after a merge, and a later version can add a new kind of entry
//! (a new prefix) without that hazard either. It also saves the container operations, which
//! cost as much as the card's fields when a client is created. Readers list a collection with a
//! range scan over its prefix.
//!
//! Consent is the one place where "last writer wins" is wrong: a withdrawal made concurrently with
//! a grant must win. Each change of consent writes a fresh event id under its subject (never a
//! boolean: automerge drops a put of an unchanged value, and a re-withdrawal concurrent with a
//! grant would vanish), so concurrent changes survive as a conflict that `get_all` returns, and the
//! reader resolves it: granted only if every concurrent value is a grant.

use std::collections::BTreeMap;

use automerge::transaction::{Transactable, Transaction};
use automerge::{ActorId, Automerge, ObjType, ROOT, ReadDoc};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::conflicts::{self, ListedPhone, PHONES_SET};
use super::{MapReader, SCHEMA_VERSION, change, existing_map, put_opt_str, put_time};
use crate::error::{Error, Result};
use crate::model::{
    Birthday, Channel, ClientClass, ClientSource, ConsentEvent, ConsentSource, ConsentState,
    ConsentSubject, Conversation, MessageKind, MessageRecord, MessageStatus, Note,
    NotificationKind, Phone, ReminderOverride, ServiceLine, Visit, VisitStatus,
};

const PHONE: &str = "phone:";
/// The label a phone gets when none is given; not stored.
const DEFAULT_LABEL: &str = "mobile";
const TAG: &str = "tag:";
const CONSENT: &str = "consent:";
const CONSENT_EVENT: &str = "ce:";
pub(crate) const VISIT: &str = "visit:";
const MESSAGE: &str = "msg:";
const NOTE: &str = "note:";

/// The card fields of a client, resolved (phones normalised) and ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phones: Vec<Phone>,
    pub email: Option<String>,
    pub birthday: Option<Birthday>,
    pub comment: Option<String>,
    pub class: ClientClass,
    pub tags: Vec<String>,
    pub loyalty_card: Option<String>,
    pub discount_percent: u8,
    pub source: ClientSource,
}

impl ClientRecord {
    /// What [`read`] returns for a document just made by [`create`] from `card`, without reading
    /// it back (creating many clients at once is dominated by automerge's per-key cost, and a
    /// read-back costs a third as much again). A property test holds the two equal.
    pub fn of_new(id: Uuid, card: &Card, at: DateTime<Utc>) -> ClientRecord {
        let mut card = card.clone();
        card.phones.sort_by(|a, b| {
            b.primary
                .cmp(&a.primary)
                .then_with(|| a.key().cmp(&b.key()))
        });
        card.tags.sort();
        card.tags.dedup();
        // Timestamps are stored in milliseconds.
        let at = DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at);
        ClientRecord {
            id,
            schema: SCHEMA_VERSION,
            card,
            created_at: at,
            updated_at: at,
            deleted: false,
            consent: read_consent(&MapReader::root(&Automerge::new())),
            visits: Vec::new(),
            messages: Vec::new(),
            merged_into: None,
            conversation: None,
            notes: Vec::new(),
            lead: false,
            changed_by: BTreeMap::new(),
        }
    }
}

impl ClientRecord {
    /// The start of the latest visit that took place (arrived or completed): what the card's
    /// figures and a mailing's audience mean by "last visit".
    pub fn last_visit(&self) -> Option<DateTime<Utc>> {
        self.visits
            .iter()
            .filter(|v| !v.deleted && v.status.took_place())
            .map(|v| v.start)
            .max()
    }
}

/// Everything a client document says, as of its current heads.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    pub id: Uuid,
    pub schema: i64,
    pub card: Card,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted: bool,
    pub consent: ConsentState,
    /// Ordered by start.
    pub visits: Vec<Visit>,
    /// Ordered by time.
    pub messages: Vec<MessageRecord>,
    /// Set when this card was merged into another: its visits, messages and evidence live there.
    pub merged_into: Option<Uuid>,
    pub conversation: Option<Conversation>,
    /// Ordered by time.
    pub notes: Vec<Note>,
    /// A card the server made for someone who wrote without being a client: it lives in the
    /// inbox until a master attaches it to a client or makes it one.
    pub lead: bool,
    /// The device that last changed each visit ([`visit_changed_by`]): staff are alerted about
    /// changes someone else made.
    pub changed_by: BTreeMap<Uuid, Uuid>,
}

/// A new client document.
pub fn create(actor: ActorId, id: Uuid, card: &Card, at: DateTime<Utc>) -> Result<Automerge> {
    let mut doc = Automerge::new().with_actor(actor);
    change(&mut doc, at, |tx| {
        tx.put(ROOT, "schema", SCHEMA_VERSION)?;
        tx.put(ROOT, "kind", "client")?;
        tx.put(ROOT, "id", id.to_string())?;
        put_time(tx, &ROOT, "created", at)?;
        write_card(tx, None, card, at)
    })?;
    Ok(doc)
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Writes the fields of `new` that differ from `old` (all of them when `old` is `None`). Writing
/// only what changed keeps concurrent edits of different fields from overwriting each other.
fn write_card(
    tx: &mut Transaction<'_>,
    old: Option<&Card>,
    new: &Card,
    at: DateTime<Utc>,
) -> Result<()> {
    // On creation a field without a value is simply not written.
    macro_rules! changed {
        ($f:ident) => {
            match old {
                Some(o) => o.$f != new.$f,
                None => !is_default(&new.$f),
            }
        };
    }
    if old.is_none() || old.is_some_and(|o| o.name != new.name) {
        tx.put(ROOT, "name", new.name.as_str())?;
    }
    if changed!(given_name) {
        put_opt_str(tx, &ROOT, "given", new.given_name.as_deref())?;
    }
    if changed!(family_name) {
        put_opt_str(tx, &ROOT, "family", new.family_name.as_deref())?;
    }
    if changed!(email) {
        put_opt_str(tx, &ROOT, "email", new.email.as_deref())?;
    }
    if changed!(birthday) {
        put_opt_str(
            tx,
            &ROOT,
            "birthday",
            new.birthday.map(|b| b.to_string()).as_deref(),
        )?;
    }
    if changed!(comment) {
        put_opt_str(tx, &ROOT, "comment", new.comment.as_deref())?;
    }
    // Defaults are not written on creation: every key costs an automerge operation, and they
    // dominate the cost of importing a phone book.
    if old.map_or(new.class != ClientClass::Regular, |o| o.class != new.class) {
        tx.put(ROOT, "class", new.class.as_str())?;
    }
    if changed!(loyalty_card) {
        put_opt_str(tx, &ROOT, "loyalty", new.loyalty_card.as_deref())?;
    }
    if changed!(discount_percent) {
        tx.put(ROOT, "discount", i64::from(new.discount_percent))?;
    }
    if old.map_or(new.source != ClientSource::Manual, |o| {
        o.source != new.source
    }) {
        tx.put(ROOT, "source", new.source.as_str())?;
    }
    if changed!(phones) {
        let old_phones = old.map(|o| o.phones.as_slice()).unwrap_or_default();
        write_phones(tx, old_phones, &new.phones, false)?;
        // An edit of the list says what the list is now (see `crdt::conflicts`); a new card's
        // list needs no register until someone changes it, and imports save the operation.
        if old.is_some() {
            put_phone_list(tx, &new.phones)?;
        }
    }
    if changed!(tags) {
        let old_tags = old.map(|o| o.tags.as_slice()).unwrap_or_default();
        for t in old_tags {
            if !new.tags.contains(t) {
                tx.delete(ROOT, format!("{TAG}{t}"))?;
            }
        }
        for t in &new.tags {
            if !old_tags.contains(t) {
                tx.put(ROOT, format!("{TAG}{t}"), true)?;
            }
        }
    }
    if old.is_some() {
        put_time(tx, &ROOT, "updated", at)?;
    }
    Ok(())
}

/// Writes the numbers of `new` that `old` lacks or holds differently, deletes the ones it no
/// longer has, and the primary number when it changed (always when `force`: settling must
/// overwrite a concurrent choice of primary even when it keeps the shown one).
fn write_phones(
    tx: &mut Transaction<'_>,
    old_phones: &[Phone],
    new_phones: &[Phone],
    force: bool,
) -> Result<()> {
    for p in old_phones {
        if !new_phones.iter().any(|n| n.key() == p.key()) {
            tx.delete(ROOT, format!("{PHONE}{}", p.key()))?;
        }
    }
    for p in new_phones {
        let same = |o: &&Phone| o.key() == p.key() && o.raw == p.raw && o.label == p.label;
        if old_phones.iter().any(|o| same(&o)) {
            continue;
        }
        let obj = tx.put_object(ROOT, format!("{PHONE}{}", p.key()), ObjType::Map)?;
        tx.put(&obj, "raw", p.raw.as_str())?;
        if p.label != DEFAULT_LABEL {
            tx.put(&obj, "label", p.label.as_str())?;
        }
        if let Some(e) = &p.e164 {
            tx.put(&obj, "e164", e.as_str())?;
        }
    }
    let primary = new_phones.iter().find(|p| p.primary).map(Phone::key);
    let old_primary = old_phones.iter().find(|p| p.primary).map(Phone::key);
    if force || primary != old_primary {
        put_opt_str(tx, &ROOT, "primary_phone", primary.as_deref())?;
    }
    Ok(())
}

fn put_phone_list(tx: &mut Transaction<'_>, phones: &[Phone]) -> Result<()> {
    let list: Vec<ListedPhone> = phones
        .iter()
        .map(|p| ListedPhone {
            raw: p.raw.clone(),
            label: p.label.clone(),
        })
        .collect();
    tx.put(ROOT, PHONES_SET, conflicts::phone_list_json(&list))?;
    Ok(())
}

/// Settles concurrent replacements of the phone list: the card holds exactly `phones` (one
/// side's list, or the union), and the register and the primary number are written afresh so
/// no concurrent value of either survives.
pub fn settle_phones(
    doc: &mut Automerge,
    old: &Card,
    phones: &[Phone],
    at: DateTime<Utc>,
) -> Result<()> {
    change(doc, at, |tx| {
        write_phones(tx, &old.phones, phones, true)?;
        put_phone_list(tx, phones)?;
        put_time(tx, &ROOT, "updated", at)
    })
}

/// Edits the card: writes what differs between `old` and `new`.
pub fn edit_card(doc: &mut Automerge, old: &Card, new: &Card, at: DateTime<Utc>) -> Result<()> {
    change(doc, at, |tx| write_card(tx, Some(old), new, at))
}

/// Marks the client deleted (a tombstone that syncs) or restores it.
pub fn set_deleted(doc: &mut Automerge, deleted: bool, at: DateTime<Utc>) -> Result<()> {
    change(doc, at, |tx| {
        tx.put(ROOT, "deleted", deleted)?;
        put_time(tx, &ROOT, "updated", at)
    })
}

/// Appends a consent event and makes it the subject's current value.
pub fn record_consent(doc: &mut Automerge, ev: &ConsentEvent) -> Result<()> {
    change(doc, ev.at, |tx| {
        write_evidence(tx, ev)?;
        tx.put(
            ROOT,
            format!("{CONSENT}{}", ev.subject.key()),
            ev.id.to_string(),
        )?;
        Ok(())
    })
}

fn write_evidence(tx: &mut Transaction<'_>, ev: &ConsentEvent) -> Result<()> {
    let e = tx.put_object(ROOT, format!("{CONSENT_EVENT}{}", ev.id), ObjType::Map)?;
    tx.put(&e, "s", ev.subject.key())?;
    tx.put(&e, "g", ev.granted)?;
    put_time(tx, &e, "at", ev.at)?;
    if let Some(staff) = ev.staff_id {
        tx.put(&e, "staff", staff.to_string())?;
    }
    tx.put(&e, "dev", ev.device_id.to_string())?;
    tx.put(&e, "src", ev.source.as_str())?;
    tx.put(&e, "note", ev.note.as_str())?;
    Ok(())
}

/// Adds a visit (`visit.id` is new) or rewrites the fields of an existing one that differ from
/// `old`.
pub fn put_visit(
    doc: &mut Automerge,
    client_id: Uuid,
    old: Option<&Visit>,
    visit: &Visit,
    at: DateTime<Utc>,
) -> Result<()> {
    change(doc, at, |tx| {
        let key = format!("{VISIT}{}", visit.id);
        let obj = match old {
            None => tx.put_object(ROOT, key, ObjType::Map)?,
            Some(_) => existing_map(tx, &ROOT, &key, client_id)?,
        };
        macro_rules! changed {
            ($f:ident) => {
                old.is_none_or(|o| o.$f != visit.$f)
            };
        }
        if changed!(start) {
            put_time(tx, &obj, "start", visit.start)?;
        }
        if changed!(zone) {
            tx.put(&obj, "zone", visit.zone.as_str())?;
        }
        if changed!(duration_min) {
            tx.put(&obj, "dur", i64::from(visit.duration_min))?;
        }
        if changed!(services) {
            // The service lines are one value: a master edits a visit's services as a list, and
            // two concurrent edits of it should leave one coherent list, not an interleaving.
            let json = serde_json::to_string(&visit.services).expect("service lines serialise");
            tx.put(&obj, "services", json)?;
        }
        if changed!(total) {
            tx.put(&obj, "total", visit.total)?;
        }
        if changed!(paid) {
            tx.put(&obj, "paid", visit.paid)?;
        }
        if changed!(status) {
            tx.put(&obj, "status", visit.status.as_str())?;
        }
        if changed!(staff_id) {
            put_opt_str(
                tx,
                &obj,
                "staff",
                visit.staff_id.map(|s| s.to_string()).as_deref(),
            )?;
        }
        if changed!(note) {
            put_opt_str(tx, &obj, "note", visit.note.as_deref())?;
        }
        if changed!(reminder) {
            match visit.reminder {
                ReminderOverride::Default => {
                    if tx.get(&obj, "reminder")?.is_some() {
                        tx.delete(&obj, "reminder")?;
                    }
                }
                ReminderOverride::Off => tx.put(&obj, "reminder", -1i64)?,
                ReminderOverride::MinutesBefore(m) => tx.put(&obj, "reminder", i64::from(m))?,
            }
        }
        if changed!(repeat_after_days) {
            match visit.repeat_after_days {
                Some(d) => tx.put(&obj, "repeat", i64::from(d))?,
                None => {
                    if tx.get(&obj, "repeat")?.is_some() {
                        tx.delete(&obj, "repeat")?;
                    }
                }
            }
        }
        if old.is_none() {
            put_time(tx, &obj, "created", visit.created_at)?;
        }
        if changed!(deleted) && (old.is_some() || visit.deleted) {
            tx.put(&obj, "deleted", visit.deleted)?;
        }
        put_time(tx, &obj, "updated", at)?;
        put_time(tx, &ROOT, "updated", at)
    })
}

/// Copies a consent event into this document's evidence without making it current (a merge
/// brings the other card's evidence along; the current state is decided separately).
pub fn put_consent_evidence(
    doc: &mut Automerge,
    ev: &ConsentEvent,
    at: DateTime<Utc>,
) -> Result<()> {
    change(doc, at, |tx| write_evidence(tx, ev))
}

/// Marks the card merged into another: a tombstone that names where it went, with its visits
/// tombstoned too (they now live in the other card).
pub fn mark_merged(doc: &mut Automerge, into: Uuid, at: DateTime<Utc>) -> Result<()> {
    change(doc, at, |tx| {
        tx.put(ROOT, "deleted", true)?;
        tx.put(ROOT, "merged_into", into.to_string())?;
        let visits: Vec<String> = MapReader::root(&*tx)
            .prefixed(VISIT)
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        for key in visits {
            if let Some((automerge::Value::Object(ObjType::Map), obj)) = tx.get(ROOT, &key)? {
                tx.put(&obj, "deleted", true)?;
            }
        }
        put_time(tx, &ROOT, "updated", at)
    })
}

/// Binds the client's Telegram chat (the server does, when the client starts the bot from the
/// card's link): messages go to that chat id. Devices only need to know it exists.
pub fn bind_telegram(doc: &mut Automerge, chat: &str, at: DateTime<Utc>) -> Result<()> {
    change(doc, at, |tx| {
        tx.put(ROOT, "telegram_chat", chat)?;
        Ok(())
    })
}

/// The Telegram chat the client's bot conversation is in, if bound.
pub fn telegram_chat(doc: &Automerge) -> Option<String> {
    MapReader::root(doc).str("telegram_chat")
}

/// When the client last wrote on WhatsApp (the server records it from the webhook): a
/// business may send free text only within 24 hours of it.
pub fn set_whatsapp_last_inbound(doc: &mut Automerge, at: DateTime<Utc>) -> Result<()> {
    change(doc, at, |tx| put_time(tx, &ROOT, "wa_last_in", at))
}

pub fn whatsapp_last_inbound(doc: &Automerge) -> Option<DateTime<Utc>> {
    MapReader::root(doc).time("wa_last_in")
}

/// Appends a message to the client's history.
pub fn put_message(doc: &mut Automerge, m: &MessageRecord) -> Result<()> {
    change(doc, m.at, |tx| {
        let o = tx.put_object(ROOT, format!("{MESSAGE}{}", m.id), ObjType::Map)?;
        tx.put(&o, "ch", m.channel.as_str())?;
        tx.put(&o, "kind", m.kind.as_str())?;
        tx.put(&o, "body", m.body.as_str())?;
        put_time(tx, &o, "at", m.at)?;
        for (key, id) in [
            ("staff", m.staff_id),
            ("dev", m.device_id),
            ("visit", m.visit_id),
            ("tpl", m.template_id),
            ("rule", m.rule_id),
        ] {
            if let Some(id) = id {
                tx.put(&o, key, id.to_string())?;
            }
        }
        tx.put(&o, "status", m.status.as_str())?;
        put_time(tx, &o, "status_at", m.status_at)?;
        if let Some(d) = &m.detail {
            tx.put(&o, "detail", d.as_str())?;
        }
        Ok(())
    })
}

/// Writes a message's new status into the history: in place when the entry exists (a reply
/// the master wrote keeps its text, author and device), whole otherwise. The body is written
/// only when the update carries one.
pub fn record_message(doc: &mut Automerge, m: &MessageRecord) -> Result<()> {
    let key = format!("{MESSAGE}{}", m.id);
    let Some((automerge::Value::Object(ObjType::Map), obj)) = doc.get(ROOT, &key)? else {
        return put_message(doc, m);
    };
    change(doc, m.status_at, |tx| {
        tx.put(&obj, "status", m.status.as_str())?;
        put_time(tx, &obj, "status_at", m.status_at)?;
        put_opt_str(tx, &obj, "detail", m.detail.as_deref())?;
        if !m.body.is_empty() {
            tx.put(&obj, "body", m.body.as_str())?;
        }
        Ok(())
    })
}

/// Notes the number (or chat) an inbound message came from, on its history entry: a reply goes
/// back where the client wrote from.
pub fn set_message_from(
    doc: &mut Automerge,
    message: Uuid,
    from: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let key = format!("{MESSAGE}{message}");
    let Some((automerge::Value::Object(ObjType::Map), obj)) = doc.get(ROOT, &key)? else {
        return Ok(());
    };
    change(doc, at, |tx| {
        tx.put(&obj, "from", from)?;
        Ok(())
    })
}

/// The number (or chat) an inbound message came from, if the server noted it.
pub fn message_from(doc: &Automerge, message: Uuid) -> Option<String> {
    MapReader::root(doc)
        .map(&format!("{MESSAGE}{message}"))?
        .str("from")
}

/// Where the client last wrote from on `channel` (the `from` of their latest inbound message).
pub fn last_inbound_from(doc: &Automerge, channel: Channel) -> Option<String> {
    let root = MapReader::root(doc);
    root.prefixed(MESSAGE)
        .into_iter()
        .filter_map(|(_, full)| {
            let m = root.map(&full)?;
            (m.str("kind").as_deref() == Some(MessageKind::Inbound.as_str())
                && m.str("ch").as_deref() == Some(channel.as_str()))
            .then(|| Some((m.time("at")?, m.str("from")?)))
            .flatten()
        })
        .max()
        .map(|(_, from)| from)
}

/// Sets the conversation's status (and, where given, who has it and until when it waits).
pub fn set_conversation(doc: &mut Automerge, c: &Conversation) -> Result<()> {
    change(doc, c.since, |tx| {
        tx.put(ROOT, "conv", c.status.as_str())?;
        put_time(tx, &ROOT, "conv_at", c.since)?;
        match c.until {
            Some(t) => put_time(tx, &ROOT, "conv_until", t)?,
            None => put_opt_str(tx, &ROOT, "conv_until", None)?,
        }
        put_opt_str(
            tx,
            &ROOT,
            "conv_staff",
            c.staff_id.map(|s| s.to_string()).as_deref(),
        )
    })
}

pub fn put_note(doc: &mut Automerge, n: &Note) -> Result<()> {
    change(doc, n.at, |tx| {
        let o = tx.put_object(ROOT, format!("{NOTE}{}", n.id), ObjType::Map)?;
        tx.put(&o, "body", n.body.as_str())?;
        put_time(tx, &o, "at", n.at)?;
        put_opt_str(
            tx,
            &o,
            "staff",
            n.staff_id.map(|s| s.to_string()).as_deref(),
        )?;
        put_opt_str(tx, &o, "dev", n.device_id.map(|s| s.to_string()).as_deref())?;
        Ok(())
    })
}

/// Marks the card a lead (an unknown sender), or a client from now on.
pub fn set_lead(doc: &mut Automerge, lead: bool, at: DateTime<Utc>) -> Result<()> {
    change(doc, at, |tx| {
        tx.put(ROOT, "lead", lead)?;
        put_time(tx, &ROOT, "updated", at)
    })
}

/// The device that last changed a visit: the automerge actor of its `updated` field, which
/// every edit of a visit writes. A device's actor is its id; the server's actors are random, so
/// a change the server made (a client's answer) names no device.
pub fn visit_changed_by(doc: &Automerge, visit: Uuid) -> Option<Uuid> {
    let (_, obj) = doc.get(ROOT, format!("{VISIT}{visit}")).ok()??;
    let (_, id) = doc.get(&obj, "updated").ok()??;
    match id {
        automerge::ObjId::Id(_, actor, _) => Uuid::from_slice(actor.to_bytes()).ok(),
        automerge::ObjId::Root => None,
    }
}

/// Reads the whole client document.
pub fn read(doc: &Automerge, expected_id: Uuid) -> Result<ClientRecord> {
    let root = MapReader::root(doc).snapshot();
    let corrupt = |reason: &str| Error::CorruptDocument {
        id: expected_id,
        reason: reason.into(),
    };
    if root.str("kind").as_deref() != Some("client") {
        return Err(corrupt("not a client document"));
    }
    if root.uuid("id") != Some(expected_id) {
        return Err(corrupt("id does not match"));
    }
    let created_at = root
        .time("created")
        .ok_or_else(|| corrupt("no creation time"))?;

    let primary_key = root.str("primary_phone");
    let mut phones: Vec<Phone> = root
        .prefixed(PHONE)
        .into_iter()
        .filter_map(|(k, _)| {
            let p = root.map(&format!("{PHONE}{k}"))?;
            Some(Phone {
                e164: p.str("e164"),
                raw: p.str("raw")?,
                label: p.str("label").unwrap_or_else(|| DEFAULT_LABEL.into()),
                primary: primary_key.as_deref() == Some(k.as_str()),
            })
        })
        .collect();
    // Primary first, then in key order, so every device lists them the same way.
    phones.sort_by(|a, b| {
        b.primary
            .cmp(&a.primary)
            .then_with(|| a.key().cmp(&b.key()))
    });
    if !phones.is_empty() && !phones.iter().any(|p| p.primary) {
        phones[0].primary = true;
    }

    let tags = root.prefixed(TAG).into_iter().map(|(t, _)| t).collect();
    let card = Card {
        name: root.str("name").unwrap_or_default(),
        given_name: root.str("given"),
        family_name: root.str("family"),
        phones,
        email: root.str("email"),
        birthday: root.str("birthday").and_then(|b| b.parse().ok()),
        comment: root.str("comment"),
        class: root
            .str("class")
            .and_then(|c| ClientClass::parse(&c).ok())
            .unwrap_or(ClientClass::Regular),
        tags,
        loyalty_card: root.str("loyalty"),
        discount_percent: root.i64("discount").unwrap_or(0).clamp(0, 100) as u8,
        source: root
            .str("source")
            .and_then(|s| s.parse().ok())
            .unwrap_or(ClientSource::Manual),
    };

    let mut visits: Vec<Visit> = root
        .prefixed(VISIT)
        .into_iter()
        .filter_map(|(k, full)| {
            let v = read_visit(&root.map(&full)?.snapshot(), &k, expected_id);
            if v.is_none() {
                tracing::warn!(client = %expected_id, "skipping an unreadable visit");
            }
            v
        })
        .collect();
    visits.sort_by(|a, b| a.start.cmp(&b.start).then(a.id.cmp(&b.id)));

    let mut messages: Vec<MessageRecord> = root
        .prefixed(MESSAGE)
        .into_iter()
        .filter_map(|(k, full)| read_message(&root.map(&full)?.snapshot(), &k, expected_id))
        .collect();
    messages.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));

    Ok(ClientRecord {
        id: expected_id,
        schema: root.i64("schema").unwrap_or(0),
        card,
        created_at,
        updated_at: root.time("updated").unwrap_or(created_at),
        deleted: root.bool("deleted").unwrap_or(false),
        consent: read_consent(&root),
        messages,
        merged_into: root.uuid("merged_into"),
        conversation: read_conversation(&root),
        notes: read_notes(&root, expected_id),
        lead: root.bool("lead").unwrap_or(false),
        changed_by: visits
            .iter()
            .filter_map(|v| Some((v.id, visit_changed_by(doc, v.id)?)))
            .collect(),
        visits,
    })
}

fn read_conversation(root: &MapReader<'_, Automerge>) -> Option<Conversation> {
    Some(Conversation {
        status: root.str("conv")?.parse().ok()?,
        since: root.time("conv_at")?,
        until: root.time("conv_until"),
        staff_id: root.uuid("conv_staff"),
    })
}

fn read_notes(root: &MapReader<'_, Automerge>, client_id: Uuid) -> Vec<Note> {
    let mut notes: Vec<Note> = root
        .prefixed(NOTE)
        .into_iter()
        .filter_map(|(k, full)| {
            let n = root.map(&full)?;
            Some(Note {
                id: Uuid::parse_str(&k).ok()?,
                client_id,
                body: n.str("body").unwrap_or_default(),
                at: n.time("at")?,
                staff_id: n.uuid("staff"),
                device_id: n.uuid("dev"),
            })
        })
        .collect();
    notes.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
    notes
}

fn read_message(m: &MapReader<'_, Automerge>, key: &str, client_id: Uuid) -> Option<MessageRecord> {
    let at = m.time("at")?;
    Some(MessageRecord {
        id: Uuid::parse_str(key).ok()?,
        client_id,
        channel: m.str("ch")?.parse().ok()?,
        kind: m
            .str("kind")
            .and_then(|k| k.parse().ok())
            .unwrap_or(MessageKind::Manual),
        body: m.str("body").unwrap_or_default(),
        at,
        staff_id: m.uuid("staff"),
        device_id: m.uuid("dev"),
        visit_id: m.uuid("visit"),
        template_id: m.uuid("tpl"),
        rule_id: m.uuid("rule"),
        // A status written by a newer version reads as `uncertain`: shown, never resent.
        status: m.str("status").map_or(MessageStatus::Uncertain, |s| {
            s.parse().unwrap_or(MessageStatus::Uncertain)
        }),
        status_at: m.time("status_at").unwrap_or(at),
        detail: m.str("detail"),
    })
}

fn read_visit(v: &MapReader<'_, Automerge>, key: &str, client_id: Uuid) -> Option<Visit> {
    let start = v.time("start")?;
    let created_at = v.time("created").unwrap_or(start);
    Some(Visit {
        id: Uuid::parse_str(key).ok()?,
        client_id,
        start,
        zone: v.str("zone").unwrap_or_else(|| "UTC".into()),
        duration_min: v.i64("dur").unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
        services: v
            .str("services")
            .and_then(|s| serde_json::from_str::<Vec<ServiceLine>>(&s).ok())
            .unwrap_or_default(),
        total: v.i64("total").unwrap_or(0),
        paid: v.i64("paid").unwrap_or(0),
        status: v
            .str("status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(VisitStatus::Booked),
        staff_id: v.uuid("staff"),
        note: v.str("note"),
        reminder: match v.i64("reminder") {
            None => ReminderOverride::Default,
            Some(m) if m < 0 => ReminderOverride::Off,
            Some(m) => ReminderOverride::MinutesBefore(m.min(u32::MAX as i64) as u32),
        },
        repeat_after_days: v.i64("repeat").map(|d| d.clamp(0, u32::MAX as i64) as u32),
        created_at,
        updated_at: v.time("updated").unwrap_or(created_at),
        deleted: v.bool("deleted").unwrap_or(false),
    })
}

fn read_consent(root: &MapReader<'_, Automerge>) -> ConsentState {
    let mut evidence: Vec<ConsentEvent> = Vec::new();
    let mut granted_by_event: BTreeMap<String, bool> = BTreeMap::new();
    {
        for (key, full) in root.prefixed(CONSENT_EVENT) {
            let Some(e) = root.map(&full).map(MapReader::snapshot) else {
                continue;
            };
            let Some(granted) = e.bool("g") else { continue };
            granted_by_event.insert(key.clone(), granted);
            let (Ok(id), Some(subject), Some(at)) = (
                Uuid::parse_str(&key),
                e.str("s").and_then(|s| ConsentSubject::from_key(&s)),
                e.time("at"),
            ) else {
                continue;
            };
            evidence.push(ConsentEvent {
                id,
                subject,
                granted,
                at,
                staff_id: e.uuid("staff"),
                device_id: e.uuid("dev").unwrap_or_default(),
                source: e
                    .str("src")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(ConsentSource::Other),
                note: e.str("note").unwrap_or_default(),
            });
        }
    }
    evidence.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));

    let state = |subject: ConsentSubject| -> bool {
        let values = root.all_str(&format!("{CONSENT}{}", subject.key()));
        if values.is_empty() {
            return subject.default_granted();
        }
        // Withdrawal wins: granted only if every concurrent value is a known grant.
        values
            .iter()
            .all(|ev| granted_by_event.get(ev).copied().unwrap_or(false))
    };
    ConsentState {
        channels: Channel::ALL
            .iter()
            .map(|c| (*c, state(ConsentSubject::Channel(*c))))
            .collect(),
        notifications: NotificationKind::ALL
            .iter()
            .map(|n| (*n, state(ConsentSubject::Notification(*n))))
            .collect(),
        evidence,
    }
}
