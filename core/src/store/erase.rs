//! The right to erasure: "forget this client".
//!
//! Deleting a client (a tombstone in its document) keeps everything for an undo and for sync.
//! Forgetting removes the person: the client's document is dropped whole (automerge keeps every
//! old value in its history, so editing the document could never erase it), with its projection
//! rows and any merge undo that holds a copy. What stays is the client's random id in `erased`,
//! so that the document is never taken in again, and the server is told at the next sync; it
//! erases its copy and tells every other device, which does the same (see `sync_apply`).
//!
//! The book runs with `secure_delete`, so freed pages are overwritten; after a forget the FTS
//! index is merged (its old segments hold the text) and the WAL emptied, so no byte of the
//! client remains in the book's files.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{Store, projection};
use crate::error::{Error, Result};

impl Store {
    /// Forgets a client for good, on this device now and everywhere after the next sync. Not
    /// undoable. Cards merged into this one are documents of their own: forget them too.
    pub fn forget_client(&mut self, id: Uuid) -> Result<()> {
        let kind: Option<String> = self
            .conn
            .query_row("SELECT kind FROM docs WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()?;
        match kind.as_deref() {
            Some("client") => {}
            Some(_) => return Err(Error::validation("client", "not a client")),
            None => return Err(Error::NotFound { kind: "client", id }),
        }
        let at = self.now().timestamp_millis();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        erase_local(&tx, id)?;
        tx.execute(
            "INSERT OR IGNORE INTO erased (id, at, sent) VALUES (?1, ?2, 0)",
            params![id, at],
        )?;
        tx.commit()?;
        self.scrub(false)
    }

    /// Clients forgotten here that the server has not recorded yet.
    pub fn erasures_to_send(&self) -> Result<Vec<Uuid>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM erased WHERE sent = 0 ORDER BY at")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// The server recorded these erasures.
    pub fn erasures_sent(&mut self, ids: &[Uuid]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for id in ids {
            tx.prepare_cached("UPDATE erased SET sent = 1 WHERE id = ?1")?
                .execute(params![id])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Whether a document was forgotten here (and must never be taken in again).
    pub fn is_erased(&self, id: Uuid) -> Result<bool> {
        is_erased(&self.conn, id)
    }

    /// Leaves no trace of deleted rows in the files: FTS5 records deletions as markers over
    /// its old segments, which still hold the text, until they are merged; the WAL holds the
    /// pages as they were until it is emptied. `rebuild` also rewrites the file (`VACUUM`),
    /// which is worth it only when most of the book went.
    pub(crate) fn scrub(&self, rebuild: bool) -> Result<()> {
        self.conn.execute(
            "INSERT INTO client_fts (client_fts) VALUES ('optimize')",
            [],
        )?;
        if rebuild {
            self.conn.execute_batch("VACUUM")?;
        }
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

pub(crate) fn is_erased(conn: &Connection, id: Uuid) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM erased WHERE id = ?1)")?
        .query_row(params![id], |r| r.get(0))?)
}

/// Removes a client's document, projection and merge undo records. Returns whether the device
/// held anything of it.
pub(crate) fn erase_local(conn: &Connection, id: Uuid) -> Result<bool> {
    let had_doc = conn
        .prepare_cached("DELETE FROM docs WHERE id = ?1 AND kind = 'client'")?
        .execute(params![id])?
        > 0;
    let projected = projection::remove_client(conn, id)?;
    conn.prepare_cached("DELETE FROM merge_undo WHERE kept = ?1 OR merged = ?1")?
        .execute(params![id])?;
    Ok(had_doc || projected)
}

/// Records an erasure the server announced (already done there: nothing to send).
pub(crate) fn record_remote(conn: &Connection, id: Uuid, at_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO erased (id, at, sent) VALUES (?1, ?2, 1)
         ON CONFLICT (id) DO UPDATE SET sent = 1",
    )?
    .execute(params![id, at_ms])?;
    Ok(())
}
