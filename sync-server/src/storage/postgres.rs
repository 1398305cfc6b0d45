//! The PostgreSQL backend: any number of server processes on one database.
//!
//! Processes keep no state of their own between requests. Pushes of one business serialize on
//! its `businesses` row (`SELECT … FOR UPDATE`), which makes the feed's sequence numbers follow
//! commit order across every process; a commit is announced with `NOTIFY`, and each process
//! relays the notifications it LISTENs to onto its own broadcast channel for long-polls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::poll_fn;
use kartka_core::sync::wire::{Chunk, Cursor, DeviceInfo};
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, NoTls};
use uuid::Uuid;

use super::sqlite::{ms, restart};
use super::{
    Device, NewDevice, PAGE_ROWS, Pull, PushOutcome, Result, Row, Storage, StorageError, accept,
    erasable, page,
};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/001_init.sql"),
    include_str!("../../migrations/postgres/002_notify.sql"),
    include_str!("../../migrations/postgres/003_erasure.sql"),
    include_str!("../../migrations/postgres/004_walls.sql"),
];
const CHANNEL: &str = "kartka_feed";

#[derive(Clone)]
pub struct PgStorage {
    pub(super) pool: Pool,
    feed: broadcast::Sender<Uuid>,
    batches: Arc<Mutex<HashMap<Uuid, Batch>>>,
}

/// Pushes of one business waiting for the transaction that commits them together.
///
/// Pushes of a business serialise on its row lock, and each commit waits for PostgreSQL to
/// flush its WAL; one push per transaction made 200 devices at one edit a second queue behind
/// each other (p99 229 ms). Pushes that arrive while a transaction is out are committed
/// together by the next one: one lock, one flush, many pushes, each still all-or-nothing.
#[derive(Default)]
struct Batch {
    running: bool,
    waiting: Vec<Pending>,
}

struct Pending {
    origin: Option<Uuid>,
    chunks: Vec<Chunk>,
    reply: tokio::sync::oneshot::Sender<Result<PushOutcome>>,
}

impl PgStorage {
    pub async fn connect(url: &str, pool_size: usize) -> Result<PgStorage> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StorageError::Backend(e.to_string()))?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .build()
            .map_err(|e| StorageError::Backend(e.to_string()))?;
        migrate(&pool).await?;
        let feed = broadcast::channel(1024).0;
        tokio::spawn(listen(config, feed.clone()));
        Ok(PgStorage {
            pool,
            feed,
            batches: Arc::default(),
        })
    }
}

impl PgStorage {
    /// Commits a batch of pushes in one transaction and answers each. A push that is refused
    /// (garbage, another business's document) is answered with its error and leaves no trace;
    /// the others still commit.
    async fn push_batch(&self, business: Uuid, batch: Vec<Pending>) {
        let mut replies = Vec::with_capacity(batch.len());
        let outcome = self.commit_batch(business, batch, &mut replies).await;
        let notify = matches!(outcome, Ok(true));
        for (reply, result) in replies {
            let result = match &outcome {
                Ok(_) => result,
                Err(e) => Err(StorageError::Backend(e.to_string())),
            };
            let _ = reply.send(result);
        }
        if notify {
            let _ = self.feed.send(business);
        }
    }

    /// Returns whether anything was committed.
    async fn commit_batch(
        &self,
        business: Uuid,
        batch: Vec<Pending>,
        replies: &mut Vec<(
            tokio::sync::oneshot::Sender<Result<PushOutcome>>,
            Result<PushOutcome>,
        )>,
    ) -> Result<bool> {
        let mut client = match self.pool.get().await {
            Ok(c) => c,
            Err(e) => {
                let e = StorageError::from(e);
                for p in batch {
                    replies.push((p.reply, Err(StorageError::Backend(e.to_string()))));
                }
                return Err(e);
            }
        };
        // Replies are recorded before anything can fail below, so every push is answered.
        let mut pending = Vec::new();
        for p in batch {
            pending.push((p.origin, p.chunks));
            replies.push((p.reply, Ok(PushOutcome::default())));
        }
        let tx = client.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT seq FROM businesses WHERE id = $1 FOR UPDATE",
                &[&business],
            )
            .await?
        else {
            for r in replies.iter_mut() {
                r.1 = Err(StorageError::NotFound);
            }
            return Ok(false);
        };
        let mut seq: i64 = row.get(0);
        // Every document the batch touches, read once under the lock.
        let ids: Vec<Uuid> = pending
            .iter()
            .flat_map(|(_, chunks)| chunks.iter().map(|c| c.doc))
            .collect();
        let mut stored: HashMap<Uuid, (Uuid, Vec<u8>)> = tx
            .query(
                "SELECT id, business_id, data FROM docs WHERE id = ANY($1)",
                &[&ids],
            )
            .await?
            .into_iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect();
        let mut writes = Vec::new();
        for (i, (origin, chunks)) in pending.into_iter().enumerate() {
            // Merge this push against the batch's state so far; keep it only if every chunk
            // is accepted.
            let mut staged: Vec<(Uuid, super::Accepted)> = Vec::new();
            let mut outcome = PushOutcome::default();
            let mut refused = None;
            for chunk in chunks {
                let current = staged
                    .iter()
                    .rev()
                    .find(|(d, _)| *d == chunk.doc)
                    .map(|(_, a)| a.data.as_slice())
                    .or_else(|| stored.get(&chunk.doc).map(|(_, d)| d.as_slice()));
                if let Some((owner, _)) = stored.get(&chunk.doc)
                    && *owner != business
                {
                    refused = Some(StorageError::ForeignDocument { doc: chunk.doc });
                    break;
                }
                match accept(business, chunk.doc, current, &chunk.data) {
                    Ok(Some(acc)) => {
                        outcome.accepted += 1;
                        staged.push((chunk.doc, acc));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        refused = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = refused {
                replies[i].1 = Err(e);
                continue;
            }
            for (doc, acc) in staged {
                seq += 1;
                stored.insert(doc, (business, acc.data.clone()));
                writes.push((doc, acc, seq, origin));
            }
            replies[i].1 = Ok(outcome);
        }
        if writes.is_empty() {
            return Ok(false);
        }
        for (doc, acc, seq, origin) in &writes {
            tx.execute(
                "INSERT INTO docs (id, business_id, kind, seq, data) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, data = excluded.data",
                &[doc, &business, &acc.kind, seq, &acc.data],
            )
            .await?;
            tx.execute(
                "INSERT INTO feed (business_id, seq, doc_id, origin, changes)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&business, seq, doc, origin, &acc.changes],
            )
            .await?;
        }
        tx.execute(
            "UPDATE businesses SET seq = $2 WHERE id = $1",
            &[&business, &seq],
        )
        .await?;
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&CHANNEL, &business.to_string()],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

async fn migrate(pool: &Pool) -> Result<()> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Two processes starting at once must not both migrate.
    tx.execute("SELECT pg_advisory_xact_lock(4242017)", &[])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .await?;
    let found: i32 = tx
        .query_opt("SELECT version FROM schema_version", &[])
        .await?
        .map(|r| r.get(0))
        .unwrap_or(0);
    if found as usize > MIGRATIONS.len() {
        return Err(StorageError::Backend(format!(
            "the database has schema {found}, newer than this server knows"
        )));
    }
    for sql in &MIGRATIONS[found as usize..] {
        tx.batch_execute(sql).await?;
    }
    tx.execute("DELETE FROM schema_version", &[]).await?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES ($1)",
        &[&(MIGRATIONS.len() as i32)],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Relays NOTIFYs to the local broadcast; reconnects when the connection drops. While it is
/// down, long-polls simply wait out their timeout: nothing is lost, only delayed.
async fn listen(config: tokio_postgres::Config, feed: broadcast::Sender<Uuid>) {
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut conn)) => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    while let Some(msg) = poll_fn(|cx| conn.poll_message(cx)).await {
                        match msg {
                            Ok(AsyncMessage::Notification(n)) => {
                                if tx.send(n.payload().to_string()).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                });
                if client
                    .batch_execute(&format!("LISTEN {CHANNEL}"))
                    .await
                    .is_ok()
                {
                    while let Some(payload) = rx.recv().await {
                        if let Ok(b) = Uuid::parse_str(&payload) {
                            let _ = feed.send(b);
                        }
                    }
                }
                driver.abort();
            }
            Err(e) => tracing::warn!(error = %e, "LISTEN connection failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn hash_param(h: &[u8; 32]) -> &[u8] {
    &h[..]
}

async fn insert_device(
    tx: &deadpool_postgres::Transaction<'_>,
    business: Uuid,
    d: &NewDevice,
    owner: bool,
) -> Result<()> {
    tx.execute(
        "INSERT INTO devices (id, business_id, name, owner, token_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &d.id,
            &business,
            &d.name,
            &owner,
            &hash_param(&d.token_hash),
            &d.at_ms,
        ],
    )
    .await?;
    Ok(())
}

impl Storage for PgStorage {
    async fn create_business(&self, id: Uuid, name: &str, owner: NewDevice) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM businesses WHERE id = $1)
                     OR EXISTS (SELECT 1 FROM docs WHERE id = $1)",
                &[&id],
            )
            .await?
            .get(0);
        if exists {
            return Err(StorageError::BusinessExists);
        }
        let inserted = tx
            .execute(
                "INSERT INTO businesses (id, name, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO NOTHING",
                &[&id, &name, &owner.at_ms],
            )
            .await?;
        if inserted == 0 {
            return Err(StorageError::BusinessExists);
        }
        insert_device(&tx, id, &owner, true).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn device_by_token(&self, token_hash: [u8; 32]) -> Result<Option<Device>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT id, business_id, owner, revoked_at IS NOT NULL
                 FROM devices WHERE token_hash = $1",
                &[&hash_param(&token_hash)],
            )
            .await?;
        Ok(row.map(|r| Device {
            id: r.get(0),
            business_id: r.get(1),
            owner: r.get(2),
            revoked: r.get(3),
        }))
    }

    async fn touch_device(&self, device: Uuid, at_ms: i64) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE devices SET last_seen = $2::BIGINT
                 WHERE id = $1 AND (last_seen IS NULL OR last_seen < $2::BIGINT - 60000)",
                &[&device, &at_ms],
            )
            .await?;
        Ok(())
    }

    async fn create_invite(
        &self,
        business: Uuid,
        by: Uuid,
        code_hash: [u8; 32],
        expires_at_ms: i64,
    ) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO invites (code_hash, business_id, created_by, expires_at)
                 VALUES ($1, $2, $3, $4)",
                &[&hash_param(&code_hash), &business, &by, &expires_at_ms],
            )
            .await?;
        Ok(())
    }

    async fn redeem_invite(&self, code_hash: [u8; 32], device: NewDevice) -> Result<Uuid> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "UPDATE invites SET used_at = $2
                 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
                 RETURNING business_id",
                &[&hash_param(&code_hash), &device.at_ms],
            )
            .await?;
        let business: Uuid = row.ok_or(StorageError::InviteInvalid)?.get(0);
        insert_device(&tx, business, &device, false).await?;
        tx.commit().await?;
        Ok(business)
    }

    async fn list_devices(&self, business: Uuid) -> Result<Vec<DeviceInfo>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT id, name, owner, created_at, last_seen, revoked_at IS NOT NULL
                 FROM devices WHERE business_id = $1 ORDER BY created_at, id",
                &[&business],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| DeviceInfo {
                id: r.get(0),
                name: r.get(1),
                owner: r.get(2),
                created_at: ms(r.get(3)),
                last_seen: r.get::<_, Option<i64>>(4).map(ms),
                revoked: r.get(5),
            })
            .collect())
    }

    async fn revoke_device(&self, business: Uuid, device: Uuid, at_ms: i64) -> Result<()> {
        let client = self.pool.get().await?;
        let n = client
            .execute(
                "UPDATE devices SET revoked_at = coalesce(revoked_at, $3)
                 WHERE id = $1 AND business_id = $2",
                &[&device, &business, &at_ms],
            )
            .await?;
        if n == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    async fn push(
        &self,
        business: Uuid,
        origin: Option<Uuid>,
        chunks: Vec<Chunk>,
    ) -> Result<PushOutcome> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let lead = {
            let mut q = self.batches.lock().unwrap_or_else(|p| p.into_inner());
            let b = q.entry(business).or_default();
            b.waiting.push(Pending {
                origin,
                chunks,
                reply,
            });
            !std::mem::replace(&mut b.running, true)
        };
        if lead {
            // A task (not this request, which its client may abandon) commits batches of this
            // business's pushes until none wait.
            let this = self.clone();
            tokio::spawn(async move {
                loop {
                    let batch = {
                        let mut q = this.batches.lock().unwrap_or_else(|p| p.into_inner());
                        let b = q.entry(business).or_default();
                        if b.waiting.is_empty() {
                            q.remove(&business);
                            break;
                        }
                        std::mem::take(&mut b.waiting)
                    };
                    this.push_batch(business, batch).await;
                }
            });
        }
        answer
            .await
            .map_err(|_| StorageError::Backend("the push was dropped".into()))?
    }

    async fn pull(
        &self,
        business: Uuid,
        cursor: Cursor,
        exclude: Option<Uuid>,
        budget: usize,
    ) -> Result<Pull> {
        let client = self.pool.get().await?;
        let (after, full) = match cursor {
            Cursor::Start => (0, true),
            Cursor::Full(n) => (n, true),
            Cursor::Feed(n) => (n, false),
        };
        let after_i = i64::try_from(after).unwrap_or(i64::MAX);
        let sql = if full {
            "SELECT seq, id, NULL::uuid, data FROM docs
             WHERE business_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        } else {
            "SELECT seq, doc_id, origin, changes FROM feed
             WHERE business_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        };
        let rows: Vec<Row> = client
            .query(sql, &[&business, &after_i, &PAGE_ROWS])
            .await?
            .into_iter()
            .map(|r| Row {
                seq: r.get(0),
                doc: r.get(1),
                origin: r.get(2),
                data: r.get(3),
            })
            .collect();
        if rows.is_empty() && !full && after > 0 {
            let seq: i64 = client
                .query_one("SELECT seq FROM businesses WHERE id = $1", &[&business])
                .await?
                .get(0);
            if (seq as u64) < after {
                return Ok(restart());
            }
        }
        Ok(page(rows, after, full, exclude, budget))
    }

    async fn erase(
        &self,
        business: Uuid,
        by_device: Uuid,
        docs: Vec<Uuid>,
        at_ms: i64,
    ) -> Result<u32> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // The business's row lock orders this with pushes on every instance.
        let mut seq: i64 = tx
            .query_opt(
                "SELECT seq FROM businesses WHERE id = $1 FOR UPDATE",
                &[&business],
            )
            .await?
            .ok_or(StorageError::NotFound)?
            .get(0);
        let mut erased = 0;
        for doc in docs {
            let stored = tx
                .query_opt("SELECT business_id, kind FROM docs WHERE id = $1", &[&doc])
                .await?
                .map(|r| (r.get::<_, Uuid>(0), r.get::<_, String>(1)));
            if !erasable(business, doc, stored)? {
                continue;
            }
            seq += 1;
            for sql in [
                "DELETE FROM feed WHERE business_id = $1 AND doc_id = $2",
                "DELETE FROM client_contacts WHERE business_id = $1 AND client_id = $2",
                "DELETE FROM messages WHERE business_id = $1 AND client_id = $2",
                "DELETE FROM writers WHERE business_id = $1 AND client_id = $2",
            ] {
                tx.execute(sql, &[&business, &doc]).await?;
            }
            tx.execute("DELETE FROM sched_visits WHERE client_id = $1", &[&doc])
                .await?;
            tx.execute(
                "INSERT INTO docs (id, business_id, kind, seq, data)
                 VALUES ($1, $2, 'erased', $3, ''::bytea)
                 ON CONFLICT (id) DO UPDATE SET kind = 'erased', seq = excluded.seq,
                     data = ''::bytea",
                &[&doc, &business, &seq],
            )
            .await?;
            tx.execute(
                "INSERT INTO feed (business_id, seq, doc_id, origin, changes)
                 VALUES ($1, $2, $3, $4, ''::bytea)",
                &[&business, &seq, &doc, &by_device],
            )
            .await?;
            tx.execute(
                "INSERT INTO erasures (business_id, doc_id, erased_at, by_device)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&business, &doc, &at_ms, &by_device],
            )
            .await?;
            erased += 1;
        }
        tx.execute(
            "UPDATE businesses SET seq = $2 WHERE id = $1",
            &[&business, &seq],
        )
        .await?;
        if erased > 0 {
            tx.execute(
                "SELECT pg_notify($1, $2)",
                &[&CHANNEL, &business.to_string()],
            )
            .await?;
        }
        tx.commit().await?;
        if erased > 0 {
            let _ = self.feed.send(business);
        }
        Ok(erased)
    }

    async fn doc_count(&self, business: Uuid) -> Result<u64> {
        let client = self.pool.get().await?;
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM docs WHERE business_id = $1 AND kind = 'client'",
                &[&business],
            )
            .await?
            .get(0);
        Ok(n as u64)
    }

    async fn read_doc(&self, business: Uuid, doc: Uuid) -> Result<Option<Vec<u8>>> {
        let client = self.pool.get().await?;
        Ok(client
            .query_opt(
                "SELECT data FROM docs WHERE id = $1 AND business_id = $2 AND kind <> 'erased'",
                &[&doc, &business],
            )
            .await?
            .map(|r| r.get(0)))
    }

    fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.feed.subscribe()
    }

    async fn ping(&self) -> Result<()> {
        let client = self.pool.get().await?;
        client.query_one("SELECT 1", &[]).await?;
        Ok(())
    }
}
