//! The scheduler's and dispatcher's state on SQLite. One writer connection serialises every
//! write, so a claim is a single `UPDATE … RETURNING`: no other claimer can exist in between.

use std::collections::HashMap;

use chrono::{TimeZone, Utc};
use kartka_core::notify::plan::Seen;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params, params_from_iter};
use uuid::Uuid;

use super::outbox::{COLUMNS, Finish, Message, Outbox, SchedOp, SchedState, Unattributed, Writer};
use super::sqlite::SqliteStorage;
use super::{Result, StorageError};

fn message(r: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        business: r.get(1)?,
        client: r.get(2)?,
        visit: r.get(3)?,
        rule: r.get(4)?,
        channel: r.get(5)?,
        key: r.get(6)?,
        kind: r.get(7)?,
        derived: r.get(8)?,
        due_ms: r.get(9)?,
        state: r.get(10)?,
        attempts: r.get(11)?,
        claimed_ms: r.get(12)?,
        gateway: r.get(13)?,
        gateway_ref: r.get(14)?,
        body: r.get(15)?,
        detail: r.get(16)?,
        updated_ms: r.get(17)?,
    })
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

fn sched_state(conn: &Connection, business: Uuid) -> Result<SchedState> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, sweep_after, swept_day FROM sched_cursor WHERE business_id = ?1",
        )?
        .query_row(params![business], |r| {
            Ok(SchedState {
                seq: r.get(0)?,
                sweep_after: r.get(1)?,
                swept_day: r.get(2)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

fn query_messages(conn: &Connection, sql: &str, ids: &[Uuid]) -> Result<Vec<Message>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let sql = sql.replace("{ids}", &placeholders(chunk.len()));
        let mut st = conn.prepare(&sql)?;
        let rows = st.query_map(params_from_iter(chunk.iter()), message)?;
        for r in rows {
            out.push(r?);
        }
    }
    Ok(out)
}

fn status_of(s: &str) -> kartka_core::model::VisitStatus {
    s.parse().unwrap_or(kartka_core::model::VisitStatus::Booked)
}

impl Outbox for SqliteStorage {
    async fn sched_businesses(&self) -> Result<Vec<(Uuid, i64, SchedState)>> {
        self.read(|conn| {
            let mut st = conn.prepare(
                "SELECT b.id, b.seq, COALESCE(c.seq, 0), c.sweep_after, c.swept_day
                 FROM businesses b LEFT JOIN sched_cursor c ON c.business_id = b.id",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    SchedState {
                        seq: r.get(2)?,
                        sweep_after: r.get(3)?,
                        swept_day: r.get(4)?,
                    },
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn sched_state(&self, business: Uuid) -> Result<SchedState> {
        self.read(move |conn| sched_state(conn, business)).await
    }

    async fn feed_docs(&self, business: Uuid, after: i64, limit: i64) -> Result<(Vec<Uuid>, i64)> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT seq, doc_id FROM feed WHERE business_id = ?1 AND seq > ?2
                 ORDER BY seq LIMIT ?3",
            )?;
            let mut last = after;
            let mut docs = Vec::new();
            for r in st.query_map(params![business, after, limit], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Uuid>(1)?))
            })? {
                let (seq, doc) = r?;
                last = seq;
                if !docs.contains(&doc) {
                    docs.push(doc);
                }
            }
            Ok((docs, last))
        })
        .await
    }

    async fn client_docs_after(
        &self,
        business: Uuid,
        after: Uuid,
        limit: i64,
    ) -> Result<Vec<Uuid>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT id FROM docs WHERE business_id = ?1 AND kind = 'client' AND id > ?2
                 ORDER BY id LIMIT ?3",
            )?;
            let rows = st.query_map(params![business, after, limit], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn read_docs(
        &self,
        business: Uuid,
        ids: Vec<Uuid>,
    ) -> Result<Vec<(Uuid, String, Vec<u8>)>> {
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached("SELECT kind, data FROM docs WHERE id = ?1 AND business_id = ?2")?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some((kind, data)) = st
                    .query_row(params![id, business], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?
                {
                    out.push((id, kind, data));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn seen(&self, clients: Vec<Uuid>) -> Result<HashMap<Uuid, Seen>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT visit_id, start_ms, status, deleted FROM sched_visits WHERE client_id = ?1",
            )?;
            let mut out = HashMap::new();
            for c in clients {
                for r in st.query_map(params![c], |r| {
                    Ok((
                        r.get::<_, Uuid>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, bool>(3)?,
                    ))
                })? {
                    let (v, start, status, deleted) = r?;
                    out.insert(
                        v,
                        Seen {
                            start: Utc.timestamp_millis_opt(start).single().unwrap_or_default(),
                            status: status_of(&status),
                            deleted,
                        },
                    );
                }
            }
            Ok(out)
        })
        .await
    }

    async fn open_messages(&self, clients: Vec<Uuid>) -> Result<Vec<Message>> {
        self.read(move |conn| {
            query_messages(
                conn,
                &format!(
                    "SELECT {COLUMNS} FROM messages WHERE client_id IN ({{ids}})
                     AND state IN ('scheduled', 'cancelled')"
                ),
                &clients,
            )
        })
        .await
    }

    async fn apply_schedule(
        &self,
        business: Uuid,
        expect: SchedState,
        next: SchedState,
        ops: Vec<SchedOp>,
        now_ms: i64,
    ) -> Result<bool> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if sched_state(&tx, business)? != expect {
                return Ok(false);
            }
            for op in ops {
                apply_op(&tx, business, op, now_ms)?;
            }
            tx.execute(
                "INSERT INTO sched_cursor (business_id, seq, sweep_after, swept_day)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (business_id) DO UPDATE
                 SET seq = ?2, sweep_after = ?3, swept_day = ?4",
                params![business, next.seq, next.sweep_after, next.swept_day],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn claim_due(&self, now_ms: i64, limit: i64, claimer: Uuid) -> Result<Vec<Message>> {
        self.write(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "UPDATE messages SET state = 'sending', claimed_by = ?1, claimed_ms = ?2,
                        attempts = attempts + 1, updated_ms = ?2
                 WHERE rid IN (SELECT rid FROM messages WHERE state = 'scheduled' AND due_ms <= ?2
                               ORDER BY due_ms LIMIT ?3)
                 RETURNING {COLUMNS}"
            ))?;
            let rows = st.query_map(params![claimer, now_ms, limit], message)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn claim_stuck(
        &self,
        cutoff_ms: i64,
        now_ms: i64,
        limit: i64,
        claimer: Uuid,
    ) -> Result<Vec<Message>> {
        self.write(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "UPDATE messages SET claimed_by = ?1, claimed_ms = ?2, updated_ms = ?2
                 WHERE rid IN (SELECT rid FROM messages WHERE state = 'sending' AND claimed_ms < ?3
                               ORDER BY claimed_ms LIMIT ?4)
                 RETURNING {COLUMNS}"
            ))?;
            let rows = st.query_map(params![claimer, now_ms, cutoff_ms, limit], message)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn finish(&self, claimer: Uuid, done: Vec<Finish>, now_ms: i64) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut st = tx.prepare_cached(
                    "UPDATE messages SET state = ?3, due_ms = COALESCE(?4, due_ms),
                            gateway = COALESCE(?5, gateway), gateway_ref = COALESCE(?6, gateway_ref),
                            body = COALESCE(?7, body), detail = ?8, updated_ms = ?9,
                            claimed_by = CASE WHEN ?3 = 'scheduled' THEN NULL ELSE claimed_by END
                     WHERE id = ?1 AND state = 'sending' AND claimed_by = ?2",
                )?;
                for f in done {
                    st.execute(params![
                        f.id, claimer, f.state, f.due_ms, f.gateway, f.gateway_ref, f.body,
                        f.detail, now_ms
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn unrecorded(&self, limit: i64) -> Result<Vec<Message>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages
                 WHERE recorded IS NOT state AND state NOT IN ('scheduled', 'sending', 'cancelled')
                 ORDER BY updated_ms LIMIT ?1"
            ))?;
            let rows = st.query_map(params![limit], message)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn mark_recorded(&self, done: Vec<(Uuid, String)>) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut st =
                    tx.prepare_cached("UPDATE messages SET recorded = ?2 WHERE id = ?1")?;
                for (id, s) in done {
                    st.execute(params![id, s])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn message(&self, id: Uuid) -> Result<Option<Message>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"))?
                .query_row(params![id], message)
                .optional()?)
        })
        .await
    }

    async fn message_by_ref(&self, gateway: String, reference: String) -> Result<Option<Message>> {
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM messages WHERE gateway = ?1 AND gateway_ref = ?2"
                ))?
                .query_row(params![gateway, reference], message)
                .optional()?)
        })
        .await
    }

    async fn report(
        &self,
        id: Uuid,
        new: &'static str,
        detail: Option<String>,
        now_ms: i64,
    ) -> Result<bool> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let cur: Option<String> = tx
                .query_row(
                    "SELECT state FROM messages WHERE id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(cur) = cur else {
                return Err(StorageError::NotFound);
            };
            if !super::outbox::moves_forward(&cur, new) {
                return Ok(false);
            }
            tx.execute(
                "UPDATE messages SET state = ?2, detail = COALESCE(?3, detail), updated_ms = ?4
                 WHERE id = ?1",
                params![id, new, detail, now_ms],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn first_sight(&self, id: String, now_ms: i64) -> Result<bool> {
        self.write(move |conn| {
            Ok(conn.execute(
                "INSERT INTO webhook_seen (id, seen_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![id, now_ms],
            )? == 1)
        })
        .await
    }

    async fn clients_by_contact(
        &self,
        kind: &'static str,
        value: String,
    ) -> Result<Vec<(Uuid, Uuid)>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT business_id, client_id FROM client_contacts WHERE kind = ?1 AND value = ?2",
            )?;
            let rows = st.query_map(params![kind, value], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn note_writer(&self, w: Writer) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO writers (address, channel, business_id, client_id, visit_id, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (address, channel, business_id) DO UPDATE SET
                     client_id = excluded.client_id, visit_id = excluded.visit_id,
                     at_ms = excluded.at_ms",
            )?
            .execute(params![
                w.address, w.channel, w.business, w.client, w.visit, w.at_ms
            ])?;
            Ok(())
        })
        .await
    }

    async fn writers(&self, address: String) -> Result<Vec<Writer>> {
        self.read(move |conn| {
            let mut st = conn.prepare_cached(
                "SELECT address, channel, business_id, client_id, visit_id, at_ms FROM writers
                 WHERE address = ?1 ORDER BY at_ms DESC",
            )?;
            let rows = st.query_map(params![address], |r| {
                Ok(Writer {
                    address: r.get(0)?,
                    channel: r.get(1)?,
                    business: r.get(2)?,
                    client: r.get(3)?,
                    visit: r.get(4)?,
                    at_ms: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn keep_unattributed(&self, m: Unattributed) -> Result<bool> {
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "INSERT INTO unattributed
                     (provider_id, address, channel, contact_kind, body, name, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    m.provider_id,
                    m.address,
                    m.channel,
                    m.contact_kind,
                    m.body,
                    m.name,
                    m.at_ms
                ])?
                == 1)
        })
        .await
    }

    async fn take_unattributed(
        &self,
        address: String,
        channel: String,
    ) -> Result<Vec<Unattributed>> {
        self.write(move |conn| {
            let mut st = conn.prepare_cached(
                "DELETE FROM unattributed WHERE address = ?1 AND channel = ?2
                 RETURNING provider_id, address, channel, contact_kind, body, name, at_ms",
            )?;
            let rows = st.query_map(params![address, channel], |r| {
                Ok(Unattributed {
                    provider_id: r.get(0)?,
                    address: r.get(1)?,
                    channel: r.get(2)?,
                    contact_kind: r.get(3)?,
                    body: r.get(4)?,
                    name: r.get(5)?,
                    at_ms: r.get(6)?,
                })
            })?;
            let mut out: Vec<Unattributed> = rows.collect::<rusqlite::Result<_>>()?;
            out.sort_by_key(|u| u.at_ms);
            Ok(out)
        })
        .await
    }

    async fn messages_of(&self, business: Uuid) -> Result<Vec<Message>> {
        self.read(move |conn| {
            let mut st = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM messages WHERE business_id = ?1 ORDER BY due_ms, rid"
            ))?;
            let rows = st.query_map(params![business], message)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}

fn apply_op(tx: &Connection, business: Uuid, op: SchedOp, now_ms: i64) -> Result<()> {
    match op {
        SchedOp::Upsert {
            id,
            client,
            visit,
            rule,
            channel,
            key,
            kind,
            derived,
            due_ms,
        } => {
            tx.prepare_cached(
                "INSERT INTO messages (id, business_id, client_id, visit_id, rule_id, channel, key,
                                       kind, derived, due_ms, state, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'scheduled', ?11, ?11)
                 ON CONFLICT (business_id, rule_id, channel, key) DO UPDATE
                 SET state = 'scheduled', due_ms = ?10, visit_id = ?4, detail = NULL,
                     updated_ms = ?11
                 WHERE messages.state = 'cancelled'",
            )?
            .execute(params![
                id, business, client, visit, rule, channel, key, kind, derived, due_ms, now_ms
            ])?;
        }
        SchedOp::Move { id, visit, due_ms } => {
            tx.prepare_cached(
                "UPDATE messages SET due_ms = ?2, visit_id = ?3, updated_ms = ?4
                 WHERE id = ?1 AND state = 'scheduled'",
            )?
            .execute(params![id, due_ms, visit, now_ms])?;
        }
        SchedOp::Cancel { id, reason } => {
            tx.prepare_cached(
                "UPDATE messages SET state = 'cancelled', detail = ?2, updated_ms = ?3
                 WHERE id = ?1 AND state = 'scheduled'",
            )?
            .execute(params![id, reason, now_ms])?;
        }
        SchedOp::Seen {
            visit,
            client,
            seen,
        } => {
            tx.prepare_cached(
                "INSERT INTO sched_visits (visit_id, client_id, start_ms, status, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (visit_id) DO UPDATE
                 SET client_id = ?2, start_ms = ?3, status = ?4, deleted = ?5",
            )?
            .execute(params![
                visit,
                client,
                seen.start.timestamp_millis(),
                seen.status.as_str(),
                seen.deleted
            ])?;
        }
        SchedOp::Contacts { client, contacts } => {
            tx.prepare_cached("DELETE FROM client_contacts WHERE client_id = ?1")?
                .execute(params![client])?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO client_contacts (kind, value, business_id, client_id)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )?;
            for (kind, value) in contacts {
                ins.execute(params![kind, value, business, client])?;
            }
        }
    }
    Ok(())
}
