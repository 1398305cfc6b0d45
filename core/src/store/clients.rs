//! Client cards and consent: the writes, and the single-client reads.

use rusqlite::{Connection, TransactionBehavior, params};
use uuid::Uuid;

use super::{BusinessContext, Store, docs, projection, search};
use crate::crdt::client::{self as client_doc, Card, ClientRecord};
use crate::error::{Error, Result};
use crate::fold::fold;
use crate::model::{
    Client, ClientClass, ClientPatch, ClientSource, ConsentEvent, ConsentSource, ConsentState,
    ConsentSubject, NewClient, Phone,
};

const MAX_TEXT: usize = 2000;

fn clean(field: &'static str, s: Option<String>, max: usize) -> Result<Option<String>> {
    let Some(s) = s else { return Ok(None) };
    let t = s.trim();
    if t.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("longer than {max} characters"),
        ));
    }
    Ok((!t.is_empty()).then(|| t.to_string()))
}

fn check_email(email: Option<String>) -> Result<Option<String>> {
    let email = clean("email", email, 254)?;
    if let Some(e) = &email {
        let ok = e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }) && !e.chars().any(char::is_whitespace)
            && e.matches('@').count() == 1;
        if !ok {
            return Err(Error::validation(
                "email",
                "expected an address such as anna@example.com",
            ));
        }
    }
    Ok(email)
}

/// Normalises typed numbers with the business's region. A number that does not parse is kept
/// as typed, without an E.164 form, so nothing the master entered is dropped; the first number
/// is the primary one; the same number twice is kept once.
pub(crate) fn resolve_phones(ctx: &BusinessContext, typed: Vec<(String, String)>) -> Vec<Phone> {
    let mut out: Vec<Phone> = Vec::new();
    for (raw, label) in typed {
        let raw = raw.trim().to_string();
        if raw.is_empty() {
            continue;
        }
        let p = Phone {
            e164: crate::phone::to_e164(&raw, ctx.region),
            raw,
            label: if label.trim().is_empty() {
                "mobile".into()
            } else {
                label.trim().to_string()
            },
            primary: out.is_empty(),
        };
        if !out.iter().any(|o| o.key() == p.key()) {
            out.push(p);
        }
    }
    out
}

fn clean_tags(tags: impl IntoIterator<Item = String>) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_string();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 64 {
            return Err(Error::validation("tag", "longer than 64 characters"));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out.sort();
    Ok(out)
}

fn check_card(card: &Card) -> Result<()> {
    if card.name.is_empty() {
        return Err(Error::validation("name", "must not be empty"));
    }
    if card.name.chars().count() > 200 {
        return Err(Error::validation("name", "longer than 200 characters"));
    }
    if card.discount_percent > 100 {
        return Err(Error::validation("discount", "must be between 0 and 100"));
    }
    Ok(())
}

pub(crate) fn resolve_new(ctx: &BusinessContext, new: NewClient) -> Result<Card> {
    let given_name = clean("given_name", new.given_name, 200)?;
    let family_name = clean("family_name", new.family_name, 200)?;
    let mut name = new.name.trim().to_string();
    if name.is_empty() {
        // Phone books often have only the name parts.
        name = [given_name.as_deref(), family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
    }
    let card = Card {
        name,
        given_name,
        family_name,
        phones: resolve_phones(ctx, new.phones),
        email: check_email(new.email)?,
        birthday: new.birthday,
        comment: clean("comment", new.comment, MAX_TEXT)?,
        class: new.class.unwrap_or(ClientClass::Regular),
        tags: clean_tags(new.tags)?,
        loyalty_card: clean("loyalty_card", new.loyalty_card, 64)?,
        discount_percent: new.discount_percent.unwrap_or(0),
        source: new.source.unwrap_or(ClientSource::Manual),
    };
    check_card(&card)?;
    Ok(card)
}

fn apply_patch(ctx: &BusinessContext, old: &Card, p: ClientPatch) -> Result<Card> {
    let mut c = old.clone();
    if let Some(n) = p.name {
        c.name = n.trim().to_string();
    }
    if let Some(v) = p.given_name {
        c.given_name = clean("given_name", v, 200)?;
    }
    if let Some(v) = p.family_name {
        c.family_name = clean("family_name", v, 200)?;
    }
    if let Some(v) = p.phones {
        c.phones = resolve_phones(ctx, v);
    }
    if let Some(v) = p.email {
        c.email = check_email(v)?;
    }
    if let Some(v) = p.birthday {
        c.birthday = v;
    }
    if let Some(v) = p.comment {
        c.comment = clean("comment", v, MAX_TEXT)?;
    }
    if let Some(v) = p.class {
        c.class = v;
    }
    if !p.add_tags.is_empty() || !p.remove_tags.is_empty() {
        let remove: Vec<String> = p.remove_tags.iter().map(|t| t.trim().to_string()).collect();
        c.tags = clean_tags(
            c.tags
                .into_iter()
                .filter(|t| !remove.contains(t))
                .chain(p.add_tags),
        )?;
    }
    if let Some(v) = p.loyalty_card {
        c.loyalty_card = clean("loyalty_card", v, 64)?;
    }
    if let Some(v) = p.discount_percent {
        c.discount_percent = v;
    }
    check_card(&c)?;
    Ok(c)
}

/// Loads, reads, changes, saves and re-projects one client document, all inside `conn`'s
/// transaction.
pub(crate) fn with_client<T>(
    conn: &Connection,
    actor: &automerge::ActorId,
    id: Uuid,
    f: impl FnOnce(&mut automerge::Automerge, &ClientRecord) -> Result<T>,
) -> Result<T> {
    let mut doc = docs::load(conn, id, actor)?.ok_or(Error::NotFound { kind: "client", id })?;
    let record = client_doc::read(&doc, id)?;
    let out = f(&mut doc, &record)?;
    docs::save(conn, id, docs::Kind::Client, &doc)?;
    projection::project_client(conn, &client_doc::read(&doc, id)?, false)?;
    Ok(out)
}

impl Store {
    pub fn create_client(&mut self, new: NewClient) -> Result<Client> {
        let id = self.create_clients(vec![new])?.remove(0);
        self.get_client(id)
    }

    /// Creates many clients in one transaction: all or none.
    pub fn create_clients(&mut self, new: Vec<NewClient>) -> Result<Vec<Uuid>> {
        let ctx = self.ctx()?.clone();
        let cards = new
            .into_iter()
            .map(|n| resolve_new(&ctx, n))
            .collect::<Result<Vec<_>>>()?;
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(cards.len());
        for card in &cards {
            let id = Uuid::now_v7();
            let doc = client_doc::create(self.actor.clone(), id, card, now)?;
            docs::save(&tx, id, docs::Kind::Client, &doc)?;
            projection::project_client(&tx, &ClientRecord::of_new(id, card, now), true)?;
            ids.push(id);
        }
        self.checkpointer.commit(tx)?;
        Ok(ids)
    }

    pub fn update_client(&mut self, id: Uuid, patch: ClientPatch) -> Result<Client> {
        let ctx = self.ctx()?.clone();
        let now = self.now();
        let author = self.author()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, id, |doc, rec| {
            let new = apply_patch(&ctx, &rec.card, patch)?;
            let (o, n) = (&rec.card, &new);
            if o.name != n.name
                || o.phones != n.phones
                || o.comment != n.comment
                || o.birthday != n.birthday
            {
                super::conflicts::name_author(doc, &author, now)?;
            }
            if new != rec.card {
                client_doc::edit_card(doc, &rec.card, &new, now)?;
            }
            Ok(())
        })?;
        self.checkpointer.commit(tx)?;
        self.get_client(id)
    }

    /// Deletes a client: a tombstone that syncs. The card and its history stay readable (and
    /// restorable) until the client is purged.
    pub fn delete_client(&mut self, id: Uuid) -> Result<()> {
        self.set_client_deleted(id, true)
    }

    pub fn restore_client(&mut self, id: Uuid) -> Result<()> {
        self.set_client_deleted(id, false)
    }

    fn set_client_deleted(&mut self, id: Uuid, deleted: bool) -> Result<()> {
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, id, |doc, rec| {
            if rec.deleted != deleted {
                client_doc::set_deleted(doc, deleted, now)?;
            }
            Ok(())
        })?;
        self.checkpointer.commit(tx)?;
        Ok(())
    }

    /// One client card, deleted ones included, with its derived figures.
    pub fn get_client(&self, id: Uuid) -> Result<Client> {
        search::client_by_id(&self.conn, id, self.now())?
            .ok_or(Error::NotFound { kind: "client", id })
    }

    /// Records a change of consent with its evidence. Recording the state a client already has
    /// still appends the evidence (a renewed consent is evidence too).
    pub fn set_consent(
        &mut self,
        client: Uuid,
        subject: ConsentSubject,
        granted: bool,
        source: ConsentSource,
        note: &str,
    ) -> Result<ConsentEvent> {
        let note = clean("note", Some(note.to_string()), MAX_TEXT)?.unwrap_or_default();
        let ev = ConsentEvent {
            id: Uuid::now_v7(),
            subject,
            granted,
            at: self.now(),
            staff_id: self.staff_id,
            device_id: self.device_id,
            source,
            note,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, client, |doc, _| {
            client_doc::record_consent(doc, &ev)
        })?;
        self.checkpointer.commit(tx)?;
        Ok(ev)
    }

    /// A client's consent per channel and per notification type, with all the evidence.
    pub fn consent(&self, client: Uuid) -> Result<ConsentState> {
        search::consent_of(&self.conn, client)?.ok_or(Error::NotFound {
            kind: "client",
            id: client,
        })
    }

    /// Clients whose folded name equals `name` (for duplicate checks on import and entry).
    pub fn clients_named(&self, name: &str) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM clients WHERE sort_key = ?1 AND deleted = 0 ORDER BY id",
        )?;
        let ids = stmt
            .query_map(params![fold(name)], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }
}
