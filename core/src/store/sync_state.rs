//! The sync status kept in the book: the outcome of every attempt, in `meta`, read back with
//! the count of records waiting to be sent ([`crate::sync::status`] has the model).
//!
//! Keys: `sync.last_ok` (ms of the last sync that went through), `sync.link` (`up:ms` or
//! `down:ms`: since when the server has answered, or not), `sync.error` (`kind`, ms and the
//! error's words, tab-separated), and for a fresh device `sync.received` / `sync.total`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{Store, meta_set};
use crate::error::{Error, Result};
use crate::sync::status::{Activity, Link, Problem, ProblemKind, Receiving, SyncState};
use crate::sync::wire::Cursor;

/// Every key the status reads, in one statement: the status is read again after every write
/// while an app is subscribed, so the statement text is fixed (no string built per read).
const STATE_SQL: &str = "SELECT key, value FROM meta WHERE key IN ('sync.server', 'sync.cursor', \
                         'sync.last_ok', 'sync.link', 'sync.error', 'sync.received', 'sync.total')";

impl Store {
    /// The book's sync status: one read of `meta` and the waiting-records counter, no network.
    pub fn sync_state(&self) -> Result<SyncState> {
        let mut stmt = self.conn.prepare_cached(STATE_SQL)?;
        let mut rows = stmt.query([])?;
        let mut state = SyncState {
            server: None,
            link: Link::Unknown,
            last_synced_at: None,
            pending: 0,
            activity: self.sync_activity,
            receiving: None,
            last_error: None,
        };
        let (mut cursor, mut received, mut total) = (None, 0, None);
        while let Some(row) = rows.next()? {
            let key: String = row.get(0)?;
            let value: String = row.get(1)?;
            match key.as_str() {
                "sync.server" => state.server = Some(value),
                "sync.cursor" => cursor = Cursor::from_text(&value),
                "sync.last_ok" => state.last_synced_at = instant(&value),
                "sync.link" => state.link = link(&value),
                "sync.error" => state.last_error = problem(&value),
                "sync.received" => received = value.parse().unwrap_or(0),
                "sync.total" => total = value.parse().ok(),
                _ => {}
            }
        }
        if state.server.is_some() && !matches!(cursor, Some(Cursor::Feed(_))) {
            state.receiving = Some(Receiving { received, total });
        }
        state.pending = self.unsynced_docs()?;
        Ok(state)
    }

    /// Records how an attempt to sync ended.
    pub(crate) fn record_sync_outcome(
        &mut self,
        outcome: std::result::Result<(), &Error>,
    ) -> Result<()> {
        let now = self.now();
        let ms = now.timestamp_millis().to_string();
        let tx = self.conn.transaction()?;
        let was = super::meta_get(&tx, "sync.link")?;
        let up = was.as_deref().is_some_and(|l| l.starts_with("up:"));
        let down = was.as_deref().is_some_and(|l| l.starts_with("down:"));
        match outcome {
            Ok(()) => {
                meta_set(&tx, "sync.last_ok", &ms)?;
                if !up {
                    meta_set(&tx, "sync.link", &format!("up:{ms}"))?;
                }
                tx.execute("DELETE FROM meta WHERE key = 'sync.error'", [])?;
            }
            Err(e) => {
                let kind = ProblemKind::of(e);
                // Refused is still an answer: the server is there.
                if kind.is_offline() && !down {
                    meta_set(&tx, "sync.link", &format!("down:{ms}"))?;
                } else if !kind.is_offline() && !up {
                    meta_set(&tx, "sync.link", &format!("up:{ms}"))?;
                }
                // Tabs and line breaks in the words would break the record's fields.
                let detail = e.to_string().replace(['\t', '\n', '\r'], " ");
                meta_set(
                    &tx,
                    "sync.error",
                    &format!("{}\t{ms}\t{detail}", kind.as_str()),
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn set_sync_activity(&mut self, activity: Activity) {
        self.sync_activity = activity;
    }

    /// What this process's sync is doing now.
    pub fn sync_activity(&self) -> Activity {
        self.sync_activity
    }

    /// Rows written through this book since it was opened: a cheap "did anything change", for
    /// an observer deciding whether to read the status again.
    pub fn write_count(&self) -> u64 {
        self.conn.total_changes()
    }
}

/// Counts what a fresh device's page brought, inside the page's own transaction (so the count
/// is exact across a crash); `total` is the server's figure from the first page.
pub(super) fn count_received(
    conn: &Connection,
    asked_from: Cursor,
    received: usize,
    total: Option<u64>,
) -> Result<()> {
    if matches!(asked_from, Cursor::Feed(_)) {
        return Ok(());
    }
    if matches!(asked_from, Cursor::Start) {
        conn.execute("DELETE FROM meta WHERE key = 'sync.received'", [])?;
    }
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('sync.received', ?1)
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + ?1",
    )?
    .execute(params![received as i64])?;
    if let Some(total) = total {
        meta_set(conn, "sync.total", &total.to_string())?;
    }
    Ok(())
}

fn instant(ms: &str) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms.parse().ok()?)
}

fn link(value: &str) -> Link {
    match value.split_once(':') {
        Some(("up", ms)) => instant(ms).map_or(Link::Unknown, |since| Link::Connected { since }),
        Some(("down", ms)) => instant(ms).map_or(Link::Unknown, |since| Link::Offline { since }),
        _ => Link::Unknown,
    }
}

fn problem(value: &str) -> Option<Problem> {
    let mut parts = value.splitn(3, '\t');
    let kind = ProblemKind::parse(parts.next()?)?;
    let at = instant(parts.next()?)?;
    Some(Problem {
        kind,
        at,
        detail: parts.next().unwrap_or_default().to_string(),
    })
}
