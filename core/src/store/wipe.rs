//! Erasing the whole book from this device: what a device revoked by its owner (a lost or
//! stolen phone) does when the server tells it so.
//!
//! Deleting rows is not enough: SQLite leaves deleted content in free pages and in the WAL. The
//! book runs with `secure_delete`, so freed pages are overwritten; `scrub` then merges the FTS
//! index, rebuilds the file from the (now empty) tables and empties the WAL, so no byte of a
//! client remains in the book's files.

use rusqlite::TransactionBehavior;
use uuid::Uuid;

use super::{Store, meta_set};
use crate::error::Result;

impl Store {
    /// Erases every client, visit, message, setting and the pairing; the book is left empty,
    /// uninitialised, unpaired, with a new device id. Not undoable.
    pub fn wipe(&mut self) -> Result<()> {
        let tables: Vec<String> = self
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'client_fts_%'",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Children first: the projection's foreign keys point at `clients`.
        for t in [
            "client_tags",
            "name_words",
            "phone_keys",
            "visits",
            "consent_events",
            "messages",
        ] {
            if tables.iter().any(|x| x == t) {
                tx.execute(&format!("DELETE FROM {t}"), [])?;
            }
        }
        for t in &tables {
            tx.execute(&format!("DELETE FROM \"{t}\""), [])?;
        }
        // The waiting-records counter is a row, not a table of rows: nothing waits now.
        tx.execute("INSERT INTO docs_pending (n) VALUES (0)", [])?;
        let device = Uuid::now_v7();
        meta_set(&tx, "device_id", &device.to_string())?;
        tx.commit()?;
        // The whole book goes: rebuilding the file also drops its free pages.
        self.scrub(true)?;
        self.device_id = device;
        self.actor = automerge::ActorId::from(device.as_bytes());
        self.staff_id = None;
        self.business = None;
        Ok(())
    }
}
