//! The embedded backend: one SQLite file, one writer connection, a few readers (WAL).
//!
//! SQLite work is blocking, so every call runs on tokio's blocking pool. Writes are serialized
//! by the writer's mutex, which is also what makes the feed's sequence numbers follow commit
//! order: a reader that sees sequence number n has seen every commit before it.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kartka_core::sync::wire::{Chunk, Cursor, DeviceInfo};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{
    Device, NewDevice, PAGE_ROWS, Pull, PushOutcome, Result, Row, Storage, StorageError, accept,
    erasable, page,
};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/001_init.sql"),
    include_str!("../../migrations/sqlite/002_notify.sql"),
    include_str!("../../migrations/sqlite/003_erasure.sql"),
    include_str!("../../migrations/sqlite/004_walls.sql"),
];
const READERS: usize = 4;

#[derive(Clone)]
pub struct SqliteStorage {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    feed: broadcast::Sender<Uuid>,
}

fn open_conn(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: an acknowledged push survives a power cut, not only a crash of the process.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted content is overwritten, not left in free pages: an erased client's data must not
    // stay readable in the file (see `erase`).
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

impl SqliteStorage {
    pub fn open(path: &Path) -> Result<SqliteStorage> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StorageError::Backend(e.to_string()))?;
        }
        let mut writer = open_conn(path)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open_conn(path).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(SqliteStorage {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                feed: broadcast::channel(1024).0,
            }),
        })
    }

    pub(super) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| StorageError::Backend(e.to_string()))?
    }

    pub(super) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let i = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let conn = inner.readers[i].lock().unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await
        .map_err(|e| StorageError::Backend(e.to_string()))?
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found as usize > MIGRATIONS.len() {
        return Err(StorageError::Backend(format!(
            "the database has schema {found}, newer than this server knows"
        )));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for sql in &MIGRATIONS[found as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as u32)?;
    tx.commit()?;
    Ok(())
}

fn insert_device(conn: &Connection, business: Uuid, d: &NewDevice, owner: bool) -> Result<()> {
    conn.execute(
        "INSERT INTO devices (id, business_id, name, owner, token_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![d.id, business, d.name, owner, &d.token_hash[..], d.at_ms],
    )?;
    Ok(())
}

impl Storage for SqliteStorage {
    async fn create_business(&self, id: Uuid, name: &str, owner: NewDevice) -> Result<()> {
        let name = name.to_string();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM businesses WHERE id = ?1)
                     OR EXISTS (SELECT 1 FROM docs WHERE id = ?1)",
                params![id],
                |r| r.get(0),
            )?;
            if exists {
                return Err(StorageError::BusinessExists);
            }
            tx.execute(
                "INSERT INTO businesses (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![id, name, owner.at_ms],
            )?;
            insert_device(&tx, id, &owner, true)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn device_by_token(&self, token_hash: [u8; 32]) -> Result<Option<Device>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT id, business_id, owner, revoked_at IS NOT NULL
                     FROM devices WHERE token_hash = ?1",
                )?
                .query_row(params![&token_hash[..]], |r| {
                    Ok(Device {
                        id: r.get(0)?,
                        business_id: r.get(1)?,
                        owner: r.get(2)?,
                        revoked: r.get(3)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn touch_device(&self, device: Uuid, at_ms: i64) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE devices SET last_seen = ?2
                 WHERE id = ?1 AND (last_seen IS NULL OR last_seen < ?2 - 60000)",
            )?
            .execute(params![device, at_ms])?;
            Ok(())
        })
        .await
    }

    async fn create_invite(
        &self,
        business: Uuid,
        by: Uuid,
        code_hash: [u8; 32],
        expires_at_ms: i64,
    ) -> Result<()> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO invites (code_hash, business_id, created_by, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![&code_hash[..], business, by, expires_at_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn redeem_invite(&self, code_hash: [u8; 32], device: NewDevice) -> Result<Uuid> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let business: Option<Uuid> = tx
                .query_row(
                    "UPDATE invites SET used_at = ?2
                     WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                     RETURNING business_id",
                    params![&code_hash[..], device.at_ms],
                    |r| r.get(0),
                )
                .optional()?;
            let business = business.ok_or(StorageError::InviteInvalid)?;
            insert_device(&tx, business, &device, false)?;
            tx.commit()?;
            Ok(business)
        })
        .await
    }

    async fn list_devices(&self, business: Uuid) -> Result<Vec<DeviceInfo>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT id, name, owner, created_at, last_seen, revoked_at IS NOT NULL
                 FROM devices WHERE business_id = ?1 ORDER BY created_at, id",
            )?;
            let rows = stmt.query_map(params![business], |r| {
                Ok(DeviceInfo {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    owner: r.get(2)?,
                    created_at: ms(r.get(3)?),
                    last_seen: r.get::<_, Option<i64>>(4)?.map(ms),
                    revoked: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn revoke_device(&self, business: Uuid, device: Uuid, at_ms: i64) -> Result<()> {
        self.write(move |conn| {
            let n = conn.execute(
                "UPDATE devices SET revoked_at = coalesce(revoked_at, ?3)
                 WHERE id = ?1 AND business_id = ?2",
                params![device, business, at_ms],
            )?;
            if n == 0 {
                return Err(StorageError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn push(
        &self,
        business: Uuid,
        origin: Option<Uuid>,
        chunks: Vec<Chunk>,
    ) -> Result<PushOutcome> {
        let outcome = self
            .write(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let mut seq = business_seq(&tx, business)?;
                let mut outcome = PushOutcome::default();
                for chunk in chunks {
                    let stored: Option<(Uuid, Vec<u8>)> = tx
                        .prepare_cached("SELECT business_id, data FROM docs WHERE id = ?1")?
                        .query_row(params![chunk.doc], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    if let Some((owner, _)) = &stored
                        && *owner != business
                    {
                        return Err(StorageError::ForeignDocument { doc: chunk.doc });
                    }
                    let Some(acc) = accept(
                        business,
                        chunk.doc,
                        stored.as_ref().map(|s| &s.1[..]),
                        &chunk.data,
                    )?
                    else {
                        continue;
                    };
                    seq += 1;
                    tx.prepare_cached(
                        "INSERT INTO docs (id, business_id, kind, seq, data)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, data = excluded.data",
                    )?
                    .execute(params![chunk.doc, business, acc.kind, seq, acc.data])?;
                    tx.prepare_cached(
                        "INSERT INTO feed (business_id, seq, doc_id, origin, changes)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        business,
                        seq,
                        chunk.doc,
                        origin,
                        acc.changes
                    ])?;
                    outcome.accepted += 1;
                }
                if outcome.accepted > 0 {
                    tx.execute(
                        "UPDATE businesses SET seq = ?2 WHERE id = ?1",
                        params![business, seq],
                    )?;
                    tx.commit()?;
                }
                Ok(outcome)
            })
            .await?;
        if outcome.accepted > 0 {
            // No receiver is fine: nobody is waiting.
            let _ = self.inner.feed.send(business);
        }
        Ok(outcome)
    }

    async fn pull(
        &self,
        business: Uuid,
        cursor: Cursor,
        exclude: Option<Uuid>,
        budget: usize,
    ) -> Result<Pull> {
        self.read(move |conn| {
            let (after, full) = match cursor {
                Cursor::Start => (0, true),
                Cursor::Full(n) => (n, true),
                Cursor::Feed(n) => (n, false),
            };
            let after_i = i64::try_from(after).unwrap_or(i64::MAX);
            let sql = if full {
                "SELECT seq, id, NULL, data FROM docs
                 WHERE business_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            } else {
                "SELECT seq, doc_id, origin, changes FROM feed
                 WHERE business_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            };
            let rows = conn
                .prepare_cached(sql)?
                .query_map(params![business, after_i, PAGE_ROWS], |r| {
                    Ok(Row {
                        seq: r.get(0)?,
                        doc: r.get(1)?,
                        origin: r.get(2)?,
                        data: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            if rows.is_empty() && !full && after > 0 {
                let seq: i64 = conn
                    .prepare_cached("SELECT seq FROM businesses WHERE id = ?1")?
                    .query_row(params![business], |r| r.get(0))?;
                if (seq as u64) < after {
                    return Ok(restart());
                }
            }
            Ok(page(rows, after, full, exclude, budget))
        })
        .await
    }

    async fn erase(
        &self,
        business: Uuid,
        by_device: Uuid,
        docs: Vec<Uuid>,
        at_ms: i64,
    ) -> Result<u32> {
        let erased = self
            .write(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let mut seq = business_seq(&tx, business)?;
                let mut erased = 0;
                for doc in docs {
                    let stored: Option<(Uuid, String)> = tx
                        .prepare_cached("SELECT business_id, kind FROM docs WHERE id = ?1")?
                        .query_row(params![doc], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    if !erasable(business, doc, stored)? {
                        continue;
                    }
                    seq += 1;
                    for sql in [
                        "DELETE FROM feed WHERE business_id = ?1 AND doc_id = ?2",
                        "DELETE FROM client_contacts WHERE business_id = ?1 AND client_id = ?2",
                        "DELETE FROM messages WHERE business_id = ?1 AND client_id = ?2",
                        "DELETE FROM writers WHERE business_id = ?1 AND client_id = ?2",
                    ] {
                        tx.prepare_cached(sql)?.execute(params![business, doc])?;
                    }
                    tx.prepare_cached("DELETE FROM sched_visits WHERE client_id = ?1")?
                        .execute(params![doc])?;
                    tx.prepare_cached(
                        "INSERT INTO docs (id, business_id, kind, seq, data)
                         VALUES (?1, ?2, 'erased', ?3, x'')
                         ON CONFLICT (id) DO UPDATE SET kind = 'erased', seq = excluded.seq,
                             data = x''",
                    )?
                    .execute(params![doc, business, seq])?;
                    tx.prepare_cached(
                        "INSERT INTO feed (business_id, seq, doc_id, origin, changes)
                         VALUES (?1, ?2, ?3, ?4, x'')",
                    )?
                    .execute(params![business, seq, doc, by_device])?;
                    tx.prepare_cached(
                        "INSERT OR IGNORE INTO erasures (business_id, doc_id, erased_at, by_device)
                         VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![business, doc, at_ms, by_device])?;
                    erased += 1;
                }
                tx.execute(
                    "UPDATE businesses SET seq = ?2 WHERE id = ?1",
                    params![business, seq],
                )?;
                tx.commit()?;
                // The WAL still holds the pages as they were before: empty it. A reader in the
                // middle of a query can keep it from finishing; the next checkpoint then does.
                if erased > 0 {
                    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
                }
                Ok(erased)
            })
            .await?;
        if erased > 0 {
            let _ = self.inner.feed.send(business);
        }
        Ok(erased)
    }

    async fn doc_count(&self, business: Uuid) -> Result<u64> {
        self.read(move |conn| {
            let n: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM docs WHERE business_id = ?1 AND kind = 'client'",
                )?
                .query_row(params![business], |r| r.get(0))?;
            Ok(n as u64)
        })
        .await
    }

    async fn read_doc(&self, business: Uuid, doc: Uuid) -> Result<Option<Vec<u8>>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT data FROM docs WHERE id = ?1 AND business_id = ?2 AND kind <> 'erased'",
                )?
                .query_row(params![doc, business], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.inner.feed.subscribe()
    }

    async fn ping(&self) -> Result<()> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }
}

/// The business's last feed sequence number, read under the write lock.
fn business_seq(tx: &rusqlite::Transaction<'_>, business: Uuid) -> Result<i64> {
    tx.query_row(
        "SELECT seq FROM businesses WHERE id = ?1",
        params![business],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StorageError::NotFound)
}

/// The answer to a cursor from the future (the server's data was restored from an older
/// backup): start over with whole documents, which loses nothing on either side.
pub(crate) fn restart() -> Pull {
    Pull {
        chunks: Vec::new(),
        cursor: Cursor::Full(0),
        more: true,
    }
}

pub(crate) fn ms(v: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(v).unwrap_or_default()
}
