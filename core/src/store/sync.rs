//! The store's side of sync: what to send, and applying what came back, each in one transaction.
//!
//! The network round trip happens between [`Store::sync_outbox`] and [`Store::sync_apply`], with
//! the store free for local edits meanwhile. Nothing is marked as held by the server until its
//! answer has arrived: a request lost or cut mid-way is simply sent again, and the server
//! ignores changes it already has.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{Store, docs, erase, meta_get, meta_set};
use crate::crdt;
use crate::error::{Error, Result};
use crate::sync::wire::{Chunk, Cursor, SyncResponse};

/// Where this book syncs, kept in its `meta` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    pub server: String,
    pub token: String,
    /// This device's id on the server (not its automerge actor).
    pub device_id: Uuid,
    pub business_id: Uuid,
}

/// What one request pushes, and the heads each document had when it was read.
#[derive(Debug, Default)]
pub struct Outbox {
    pub cursor: Cursor,
    pub chunks: Vec<Chunk>,
    heads: Vec<Vec<u8>>,
    /// More dirty documents wait beyond this request's byte budget.
    pub more: bool,
}

/// What applying an answer changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Documents that received something new.
    pub pulled: u32,
    /// Of those, documents that also had local changes the server had not seen yet: concurrent
    /// edits, merged.
    pub concurrent: u32,
    /// The client documents that changed, for a UI to refresh.
    pub changed_clients: Vec<Uuid>,
    /// Staff members whose Telegram alerts now go to another chat than before (their link was
    /// opened in a new chat): every device says so, so that a stolen link is noticed.
    pub staff_alerts_moved: Vec<Uuid>,
}

impl Store {
    pub fn sync_config(&self) -> Result<Option<SyncConfig>> {
        let get = |k: &str| meta_get(&self.conn, k);
        let (Some(server), Some(token), Some(device), Some(business)) = (
            get("sync.server")?,
            get("sync.token")?,
            get("sync.device")?,
            get("sync.business")?,
        ) else {
            return Ok(None);
        };
        let parse = |s: &str, f: &'static str| {
            Uuid::parse_str(s).map_err(|_| Error::validation(f, "damaged"))
        };
        Ok(Some(SyncConfig {
            server,
            token,
            device_id: parse(&device, "sync.device")?,
            business_id: parse(&business, "sync.business")?,
        }))
    }

    /// Records the pairing. `cursor` is where pulling starts: `Start` for a device joining a
    /// business, the head of an empty feed for the device that created it (everything on the
    /// server will have come from it, so there is nothing to page through).
    pub(crate) fn set_sync_config(&mut self, cfg: &SyncConfig, cursor: Cursor) -> Result<()> {
        let tx = self.conn.transaction()?;
        meta_set(&tx, "sync.server", &cfg.server)?;
        meta_set(&tx, "sync.token", &cfg.token)?;
        meta_set(&tx, "sync.device", &cfg.device_id.to_string())?;
        meta_set(&tx, "sync.business", &cfg.business_id.to_string())?;
        meta_set(&tx, "sync.cursor", &cursor.to_text())?;
        tx.commit()?;
        Ok(())
    }

    pub fn sync_cursor(&self) -> Result<Cursor> {
        Ok(meta_get(&self.conn, "sync.cursor")?
            .and_then(|s| Cursor::from_text(&s))
            .unwrap_or_default())
    }

    /// How many documents hold changes the server has not acknowledged: the counter the
    /// triggers of migration 009 keep, one row to read.
    pub fn unsynced_docs(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT n FROM docs_pending")?
            .query_row([], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// The changes to push next, up to about `max_bytes`. A document the server holds nothing
    /// of goes whole; otherwise only the changes after the heads the server acknowledged.
    ///
    /// Client merges still undoable become final here: once their changes leave the device,
    /// other devices build on them and an undo could no longer restore the cards as they were.
    pub fn sync_outbox(&mut self, max_bytes: usize) -> Result<Outbox> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM merge_undo", [])?;
        let cursor = meta_get(&tx, "sync.cursor")?
            .and_then(|s| Cursor::from_text(&s))
            .unwrap_or_default();
        let mut out = Outbox {
            cursor,
            ..Outbox::default()
        };
        let mut size = 0;
        {
            let mut stmt = tx
                .prepare("SELECT id, data, heads, synced FROM docs WHERE dirty = 1 ORDER BY rid")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                if size >= max_bytes && !out.chunks.is_empty() {
                    out.more = true;
                    break;
                }
                let id: Uuid = row.get(0)?;
                let data: Vec<u8> = row.get(1)?;
                let heads: Option<Vec<u8>> = row.get(2)?;
                let synced: Option<Vec<u8>> = row.get(3)?;
                let heads = match heads {
                    Some(h) => h,
                    // Saved before schema 3: read the heads once.
                    None => crdt::encode_heads(&crdt::load_strict(id, &data)?.get_heads()),
                };
                if synced.as_deref() == Some(&heads[..]) {
                    continue;
                }
                let send = match synced.as_deref().and_then(crdt::decode_heads) {
                    Some(known) => {
                        let doc = crdt::load_strict(id, &data)?;
                        if known
                            .iter()
                            .all(|h| doc.get_change_meta_by_hash(h).is_some())
                        {
                            doc.save_after(&known)
                        } else {
                            data
                        }
                    }
                    None => data,
                };
                size += send.len();
                out.chunks.push(Chunk {
                    doc: id,
                    data: send,
                });
                out.heads.push(heads);
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Forgets what the server was thought to hold of `doc`: it is sent whole next time.
    pub fn sync_resend_whole(&mut self, doc: Uuid) -> Result<()> {
        self.conn.execute(
            "UPDATE docs SET synced = NULL, dirty = 1 WHERE id = ?1",
            params![doc],
        )?;
        Ok(())
    }

    /// Records the server's answer to `outbox`: what was pushed is now held by the server, what
    /// was pulled is merged, and the cursor moves on (never back: answers to overlapping
    /// requests may arrive in any order).
    pub fn sync_apply(&mut self, outbox: &Outbox, resp: &SyncResponse) -> Result<Applied> {
        let now_ms = self.now().timestamp_millis();
        // The staff as they were, when the business document is in this page: whose Telegram
        // alerts moved is told after it is applied.
        let before = match self.business.as_ref().map(|b| b.id) {
            Some(id) if resp.pull.iter().any(|c| c.doc == id) => {
                Some(self.business_by_id(id)?.staff)
            }
            _ => None,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (chunk, heads) in outbox.chunks.iter().zip(&outbox.heads) {
            // Still dirty if it changed again while the request was out.
            tx.prepare_cached(
                "UPDATE docs SET synced = ?2, dirty = (heads IS NOT ?2) WHERE id = ?1",
            )?
            .execute(params![chunk.doc, heads])?;
        }
        let pushed: std::collections::HashSet<Uuid> = outbox.chunks.iter().map(|c| c.doc).collect();
        // An empty book's first pass through whole documents is a bulk load: the projection's
        // secondary indexes are dropped for it and built once at its end (index maintenance on
        // a growing book was most of a fresh device's first sync).
        let whole_pass = matches!(resp.cursor, Cursor::Full(_)) && resp.more;
        if whole_pass && matches!(outbox.cursor, Cursor::Start) {
            let empty: bool =
                tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM clients)", [], |r| {
                    r.get(0)
                })?;
            if empty {
                bulk::begin(&tx)?;
            }
        }
        let mut applied = Applied::default();
        let mut business_changed = false;
        // Client cards taken in, for a fresh device's "receiving N of M clients".
        let mut cards_in_page = 0;
        // Documents new to this device (their first appearance in the page) are decoded on
        // every core first; the rest merge with what is stored, in order.
        let mut seen = std::collections::HashSet::new();
        let mut fresh = Vec::new();
        // Erasures (empty chunks) and anything of a client forgotten here are not documents
        // to take in.
        let mut skip = std::collections::HashSet::new();
        let mut erasing = false;
        for (i, chunk) in resp.pull.iter().enumerate() {
            if chunk.data.is_empty() || erase::is_erased(&tx, chunk.doc)? {
                skip.insert(i);
                erasing |= chunk.data.is_empty();
                continue;
            }
            let present: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM docs WHERE id = ?1)")?
                .query_row(params![chunk.doc], |r| r.get(0))?;
            if seen.insert(chunk.doc) && !present {
                fresh.push(i);
            }
        }
        // Decoders on every core feed the writer, which stores in page order as soon as each
        // document is ready: decoding (automerge's load) and writing (the projection) overlap.
        let fresh_set: std::collections::HashSet<usize> = fresh.iter().copied().collect();
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        let pull = &resp.pull;
        let next = std::sync::atomic::AtomicUsize::new(0);

        std::thread::scope(|scope| -> Result<()> {
            let (send, decoded) = std::sync::mpsc::channel();
            for _ in 0..threads.min(fresh.len()) {
                let (send, next, fresh) = (send.clone(), &next, &fresh);
                scope.spawn(move || {
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&i) = fresh.get(k) else { break };
                        let d = docs::decode_new(pull[i].doc, &pull[i].data);
                        // The writer stopped (an error): nothing more is wanted.
                        if send.send((i, d)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(send);
            let mut ready = std::collections::HashMap::new();
            for (i, chunk) in pull.iter().enumerate() {
                if skip.contains(&i) {
                    if chunk.data.is_empty() {
                        if erase::erase_local(&tx, chunk.doc)? {
                            applied.pulled += 1;
                            applied.changed_clients.push(chunk.doc);
                        }
                        erase::record_remote(&tx, chunk.doc, now_ms)?;
                    }
                    continue;
                }
                let is_fresh = fresh_set.contains(&i);
                let was_dirty: Option<bool> = if is_fresh {
                    None
                } else {
                    tx.prepare_cached("SELECT dirty FROM docs WHERE id = ?1")?
                        .query_row(params![chunk.doc], |r| r.get(0))
                        .optional()?
                };
                let decoded = if is_fresh {
                    loop {
                        if let Some(d) = ready.remove(&i) {
                            break Some(d);
                        }
                        let (j, d) = decoded.recv().expect("every fresh chunk is decoded");
                        ready.insert(j, d);
                    }
                } else {
                    None
                };
                let kind = match decoded {
                    Some(d) => match d? {
                        Some(d) => Some(docs::write_new_synced(&tx, chunk.doc, d)?),
                        None => None,
                    },
                    None => docs::merge(&tx, chunk.doc, &chunk.data)?,
                };
                let Some(kind) = kind else {
                    continue;
                };
                applied.pulled += 1;
                match kind {
                    docs::Kind::Client => {
                        cards_in_page += 1;
                        applied.changed_clients.push(chunk.doc)
                    }
                    docs::Kind::Business => business_changed = true,
                }
                if was_dirty == Some(true) || pushed.contains(&chunk.doc) {
                    applied.concurrent += 1;
                }
                if !is_fresh && was_dirty != Some(true) {
                    // New here, or without local changes the server lacks: the document holds
                    // exactly what the server sent on top of what it held, so the server holds
                    // all of it.
                    tx.prepare_cached("UPDATE docs SET synced = heads, dirty = 0 WHERE id = ?1")?
                        .execute(params![chunk.doc])?;
                }
            }
            Ok(())
        })?;
        if !whole_pass {
            bulk::end(&tx)?;
        }
        let current = meta_get(&tx, "sync.cursor")?
            .and_then(|s| Cursor::from_text(&s))
            .unwrap_or_default();
        if rank(resp.cursor) > rank(current) {
            meta_set(&tx, "sync.cursor", &resp.cursor.to_text())?;
        }
        super::sync_state::count_received(&tx, outbox.cursor, cards_in_page, resp.total_docs)?;
        self.checkpointer.commit(tx)?;
        if erasing {
            self.scrub(false)?;
        }
        if business_changed {
            self.refresh_business()?;
            if let (Some(before), Ok(now)) = (before, self.business()) {
                applied.staff_alerts_moved = alerts_moved(&before, &now.staff);
            }
        }
        Ok(applied)
    }
}

/// The bulk load of an empty book: secondary indexes of the projection dropped, their SQL kept in
/// `meta` so that they are built again at the end of the pass, or when the book is next opened
/// if the pass was cut short (reads are correct without them, only slower).
pub(crate) mod bulk {
    use rusqlite::Connection;

    use crate::error::Result;
    use crate::store::{meta_get, meta_set};

    const KEY: &str = "sync.bulk_indexes";

    pub(crate) fn begin(conn: &Connection) -> Result<()> {
        if meta_get(conn, KEY)?.is_some() {
            return Ok(());
        }
        let indexes: Vec<(String, String)> = conn
            .prepare(
                "SELECT name, sql FROM sqlite_schema
                 WHERE type = 'index' AND sql IS NOT NULL
                   AND tbl_name IN ('clients', 'client_tags', 'name_words', 'phone_keys',
                                    'phone_digits', 'visits', 'consent_events', 'messages')
                   AND sql NOT LIKE 'CREATE UNIQUE%'",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let sqls: Vec<&str> = indexes.iter().map(|(_, sql)| sql.as_str()).collect();
        meta_set(
            conn,
            KEY,
            &serde_json::to_string(&sqls).expect("strings serialise"),
        )?;
        for (name, _) in &indexes {
            conn.execute_batch(&format!("DROP INDEX \"{name}\""))?;
        }
        Ok(())
    }

    /// Builds the dropped indexes again; nothing to do outside a bulk load.
    pub(crate) fn end(conn: &Connection) -> Result<()> {
        let Some(json) = meta_get(conn, KEY)? else {
            return Ok(());
        };
        let sqls: Vec<String> = serde_json::from_str(&json).unwrap_or_default();
        for sql in sqls {
            conn.execute_batch(&sql)?;
        }
        conn.execute("DELETE FROM meta WHERE key = ?1", [KEY])?;
        Ok(())
    }
}

fn rank(c: Cursor) -> (u8, u64) {
    match c {
        Cursor::Start => (0, 0),
        Cursor::Full(n) => (1, n),
        Cursor::Feed(n) => (2, n),
    }
}

/// The staff members whose Telegram chat changed from one chat to another (a first chat, or
/// one removed, moves nobody's alerts to a stranger).
fn alerts_moved(
    before: &[crate::model::StaffMember],
    now: &[crate::model::StaffMember],
) -> Vec<Uuid> {
    now.iter()
        .filter(|s| {
            before.iter().any(|b| {
                b.id == s.id
                    && matches!((&b.telegram, &s.telegram), (Some(old), Some(new)) if old != new)
            })
        })
        .map(|s| s.id)
        .collect()
}
