//! Merging two cards of one person into one: phones, emails, tags, visits, message history and
//! consent evidence combined; consent afterwards is the stricter of the two (a channel stays
//! granted only if both cards had it). Previewed first, and undoable until the merge leaves the
//! device: the two documents as they were are kept in `merge_undo`.

use automerge::Automerge;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use uuid::Uuid;

use super::{Store, docs, projection};
use crate::crdt::client::{self as client_doc, Card, ClientRecord};
use crate::error::{Error, Result};
use crate::model::{Channel, ConsentEvent, ConsentSource, ConsentSubject, Phone};

/// What the kept card will hold after the merge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergePreview {
    pub kept: Uuid,
    pub merged: Uuid,
    pub name: String,
    pub phones: Vec<Phone>,
    pub email: Option<String>,
    pub tags: Vec<String>,
    pub visits: usize,
    pub messages: usize,
    /// Channel → granted after the merge (the stricter of the two cards).
    pub consent: Vec<(Channel, bool)>,
    /// What will be withdrawn on the kept card because the other card had no consent.
    pub withdrawn: Vec<Channel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndoableMerge {
    pub undo: Uuid,
    pub kept: Uuid,
    pub merged: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeOutcome {
    /// Give this to `undo_merge` to put both cards back (until the next sync).
    pub undo: Uuid,
}

/// The kept card with the other's data added.
fn merged_card(keep: &Card, other: &Card) -> Card {
    let mut c = keep.clone();
    for p in &other.phones {
        if !c.phones.iter().any(|q| q.key() == p.key()) {
            c.phones.push(Phone {
                primary: false,
                ..p.clone()
            });
        }
    }
    for t in &other.tags {
        if !c.tags.contains(t) {
            c.tags.push(t.clone());
        }
    }
    c.tags.sort();
    let mut comment: Vec<String> = c.comment.iter().cloned().collect();
    match (&c.email, &other.email) {
        (None, Some(e)) => c.email = Some(e.clone()),
        (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b) => {
            comment.push(format!("Other email: {b}"))
        }
        _ => {}
    }
    if let Some(oc) = other.comment.as_ref().filter(|oc| !comment.contains(oc)) {
        comment.push(oc.clone());
    }
    c.comment = (!comment.is_empty()).then(|| comment.join("\n"));
    c.given_name = c.given_name.or_else(|| other.given_name.clone());
    c.family_name = c.family_name.or_else(|| other.family_name.clone());
    c.birthday = c.birthday.or(other.birthday);
    c.loyalty_card = c
        .loyalty_card
        .clone()
        .or_else(|| other.loyalty_card.clone());
    c.discount_percent = c.discount_percent.max(other.discount_percent);
    c
}

/// Channels granted on the kept card but not on the other: withdrawn by the merge.
fn to_withdraw(keep: &ClientRecord, other: &ClientRecord) -> Vec<Channel> {
    keep.consent
        .channels
        .iter()
        .filter(|(c, granted)| *granted && !other.consent.granted(*c))
        .map(|(c, _)| *c)
        .collect()
}

fn load_record(
    conn: &Connection,
    actor: &automerge::ActorId,
    id: Uuid,
) -> Result<(Automerge, ClientRecord)> {
    let doc = docs::load(conn, id, actor)?.ok_or(Error::NotFound { kind: "client", id })?;
    let rec = client_doc::read(&doc, id)?;
    if rec.deleted {
        return Err(Error::validation(
            "client",
            "a deleted card cannot be merged",
        ));
    }
    Ok((doc, rec))
}

impl Store {
    pub fn preview_merge(&self, keep: Uuid, other: Uuid) -> Result<MergePreview> {
        if keep == other {
            return Err(Error::validation(
                "client",
                "a card cannot be merged with itself",
            ));
        }
        let (_, k) = load_record(&self.conn, &self.actor, keep)?;
        let (_, o) = load_record(&self.conn, &self.actor, other)?;
        let card = merged_card(&k.card, &o.card);
        let withdrawn = to_withdraw(&k, &o);
        Ok(MergePreview {
            kept: keep,
            merged: other,
            name: card.name,
            phones: card.phones,
            email: card.email,
            tags: card.tags,
            visits: k
                .visits
                .iter()
                .chain(&o.visits)
                .filter(|v| !v.deleted)
                .count(),
            messages: k.messages.len() + o.messages.len(),
            consent: k
                .consent
                .channels
                .iter()
                .map(|(c, g)| (*c, *g && o.consent.granted(*c)))
                .collect(),
            withdrawn,
        })
    }

    /// Merges `other` into `keep` in one transaction; `other` becomes a tombstone that names
    /// `keep`.
    pub fn merge_clients(&mut self, keep: Uuid, other: Uuid) -> Result<MergeOutcome> {
        if keep == other {
            return Err(Error::validation(
                "client",
                "a card cannot be merged with itself",
            ));
        }
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (mut kd, k) = load_record(&tx, &self.actor, keep)?;
        let (mut od, o) = load_record(&tx, &self.actor, other)?;
        let undo = Uuid::now_v7();
        tx.execute(
            "INSERT INTO merge_undo (id, kept, merged, kept_data, merged_data, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                undo,
                keep,
                other,
                kd.save(),
                od.save(),
                now.timestamp_millis()
            ],
        )?;

        let card = merged_card(&k.card, &o.card);
        if card != k.card {
            client_doc::edit_card(&mut kd, &k.card, &card, now)?;
        }
        // Visits and messages keep their ids: the merged card is a tombstone whose children are
        // not projected (see `project_client`), so each id names one row.
        for v in o.visits.iter().filter(|v| !v.deleted) {
            let moved = crate::model::Visit {
                client_id: keep,
                ..v.clone()
            };
            client_doc::put_visit(&mut kd, keep, None, &moved, now)?;
        }
        for m in &o.messages {
            client_doc::put_message(
                &mut kd,
                &crate::model::MessageRecord {
                    client_id: keep,
                    ..m.clone()
                },
            )?;
        }
        for ev in &o.consent.evidence {
            client_doc::put_consent_evidence(&mut kd, ev, now)?;
        }
        for channel in to_withdraw(&k, &o) {
            let ev = ConsentEvent {
                id: Uuid::now_v7(),
                subject: ConsentSubject::Channel(channel),
                granted: false,
                at: now,
                staff_id: self.staff_id,
                device_id: self.device_id,
                source: ConsentSource::Other,
                note: format!("merged with card {other}, which had no consent for {channel}"),
            };
            client_doc::record_consent(&mut kd, &ev)?;
        }
        client_doc::mark_merged(&mut od, keep, now)?;

        // The merged card first: its visit rows must be gone before the kept card claims the ids.
        for (id, doc) in [(other, &od), (keep, &kd)] {
            docs::save(&tx, id, docs::Kind::Client, doc)?;
            projection::project_client(&tx, &client_doc::read(doc, id)?, false)?;
        }
        self.checkpointer.commit(tx)?;
        Ok(MergeOutcome { undo })
    }

    /// Puts both cards back as they were before the merge. Possible until the merge has been
    /// synced: after that other devices hold it, and only a new edit can change it.
    pub fn undo_merge(&mut self, undo: Uuid) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(Uuid, Uuid, Vec<u8>, Vec<u8>)> = tx
            .query_row(
                "SELECT kept, merged, kept_data, merged_data FROM merge_undo WHERE id = ?1",
                params![undo],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let (kept, merged, kept_data, merged_data) = row.ok_or(Error::NotFound {
            kind: "merge that can be undone",
            id: undo,
        })?;
        // The kept card first: it gives the visit ids back before the merged card takes them.
        for (id, bytes) in [(kept, kept_data), (merged, merged_data)] {
            let doc = Automerge::load(&bytes).map_err(|e| Error::CorruptDocument {
                id,
                reason: e.to_string(),
            })?;
            docs::save(&tx, id, docs::Kind::Client, &doc)?;
            projection::project_client(&tx, &client_doc::read(&doc, id)?, false)?;
        }
        tx.execute("DELETE FROM merge_undo WHERE id = ?1", params![undo])?;
        self.checkpointer.commit(tx)?;
        Ok(())
    }

    /// Merges that can still be undone, newest first.
    pub fn undoable_merges(&self) -> Result<Vec<UndoableMerge>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, kept, merged, at FROM merge_undo ORDER BY at DESC, id DESC")?;
        let rows = stmt.query_map([], |r| {
            let at: i64 = r.get(3)?;
            Ok(UndoableMerge {
                undo: r.get(0)?,
                kept: r.get(1)?,
                merged: r.get(2)?,
                at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
