//! Reading every stored number again from what was typed when the phone reader changes (issue
//! 23: the old reader stored some foreign numbers as strangers' and rejected Russian landlines).
//!
//! The card keeps `raw`, so nothing needs the old reading: each number whose E.164 comes out
//! differently is written as an ordinary card edit (so it syncs to the other devices) and listed
//! in `phone_corrections` for the master to see once.

use rusqlite::{TransactionBehavior, params};
use uuid::Uuid;

use super::clients::with_client;
use super::{Store, docs, meta_get, meta_set};
use crate::crdt::client as client_doc;
use crate::error::Result;
use crate::model::Phone;

/// The reader the book was last read with; a different one reads every number again. Named by
/// the library and its metadata, so a metadata update (new ranges) reads them again too.
pub(crate) const PHONE_READER: &str = "rlibphonenumber 2.2.15, metadata 9.0.42";

/// A number read differently by the new reader than the card had stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneCorrection {
    pub client: Uuid,
    pub name: String,
    /// As typed, and as it stays.
    pub raw: String,
    /// The E.164 the card had, and the one it has now (`None`: not a dialable number).
    pub was: Option<String>,
    pub now: Option<String>,
}

impl Store {
    /// Reads every number again if the book was last read by another reader. A book with no
    /// business yet has nothing to read; it is read when it has one.
    pub(crate) fn reread_phones_if_needed(&mut self) -> Result<()> {
        if meta_get(&self.conn, "phone_reader")?.as_deref() == Some(PHONE_READER) {
            return Ok(());
        }
        let Some(region) = self.business.as_ref().map(|b| b.region) else {
            return Ok(());
        };
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids: Vec<Uuid> = {
            let mut q = tx.prepare("SELECT id FROM docs WHERE kind = 'client'")?;
            q.query_map([], |r| r.get::<_, Uuid>(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut found = 0;
        for id in ids {
            // Read-only first: most cards are right, and a write per card would touch them all.
            let Some(doc) = docs::load(&tx, id, &self.actor)? else {
                continue;
            };
            let card = client_doc::read(&doc, id)?.card;
            let (phones, changes) = read_again(&card.phones, region);
            if changes.is_empty() {
                continue;
            }
            let mut new = card.clone();
            new.phones = phones;
            with_client(&tx, &self.actor, id, |doc, rec| {
                client_doc::edit_card(doc, &rec.card, &new, now)
            })?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO phone_corrections (client_id, raw, was, now, at, seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0)
                 ON CONFLICT (client_id, raw) DO UPDATE
                 SET now = excluded.now, at = excluded.at, seen = 0",
            )?;
            for (raw, was, is) in changes {
                ins.execute(params![id, raw, was, is, now.timestamp_millis()])?;
                found += 1;
            }
        }
        meta_set(&tx, "phone_reader", PHONE_READER)?;
        self.checkpointer.commit(tx)?;
        if found > 0 {
            tracing::info!(found, "phone numbers read again differently");
        }
        Ok(())
    }

    /// The numbers the last reader read differently, not yet seen by the master, by client name.
    pub fn phone_corrections(&self) -> Result<Vec<PhoneCorrection>> {
        let mut q = self.conn.prepare(
            "SELECT p.client_id, coalesce(c.name, ''), p.raw, p.was, p.now
             FROM phone_corrections p LEFT JOIN clients c ON c.id = p.client_id
             WHERE p.seen = 0 ORDER BY c.sort_key, p.raw",
        )?;
        let rows = q.query_map([], |r| {
            Ok(PhoneCorrection {
                client: r.get(0)?,
                name: r.get(1)?,
                raw: r.get(2)?,
                was: r.get(3)?,
                now: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The master has seen the corrections: they are not listed again.
    pub fn mark_phone_corrections_seen(&mut self) -> Result<()> {
        self.conn
            .execute("UPDATE phone_corrections SET seen = 1 WHERE seen = 0", [])?;
        Ok(())
    }
}

/// The card's numbers read again, the same number twice kept once (first stays primary), and
/// `(raw, was, now)` for each that changed.
type Change = (String, Option<String>, Option<String>);

fn read_again(phones: &[Phone], region: crate::phone::Region) -> (Vec<Phone>, Vec<Change>) {
    let mut out: Vec<Phone> = Vec::new();
    let mut changes = Vec::new();
    for p in phones {
        let e164 = crate::phone::to_e164(&p.raw, region);
        if e164 != p.e164 {
            changes.push((p.raw.clone(), p.e164.clone(), e164.clone()));
        }
        let q = Phone {
            e164,
            primary: out.is_empty(),
            ..p.clone()
        };
        if !out.iter().any(|o| o.key() == q.key()) {
            out.push(q);
        }
    }
    (out, changes)
}
