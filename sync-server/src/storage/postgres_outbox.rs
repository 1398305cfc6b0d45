//! The scheduler's and dispatcher's state on PostgreSQL, shared by several server processes.
//! A claim is `FOR UPDATE SKIP LOCKED` and the state change in one statement: two processes
//! claiming at once get disjoint messages. A scheduling pass commits only if the business's
//! cursor is still where the pass read it (`FOR UPDATE` on the cursor row).

use std::collections::HashMap;

use chrono::{TimeZone, Utc};
use deadpool_postgres::GenericClient;
use kartka_core::notify::plan::Seen;
use tokio_postgres::Row;
use uuid::Uuid;

use super::outbox::{COLUMNS, Finish, Message, Outbox, SchedOp, SchedState, Unattributed, Writer};
use super::postgres::PgStorage;
use super::{Result, StorageError};

fn message(r: &Row) -> Message {
    Message {
        id: r.get(0),
        business: r.get(1),
        client: r.get(2),
        visit: r.get(3),
        rule: r.get(4),
        channel: r.get(5),
        key: r.get(6),
        kind: r.get(7),
        derived: r.get(8),
        due_ms: r.get(9),
        state: r.get(10),
        attempts: r.get(11),
        claimed_ms: r.get(12),
        gateway: r.get(13),
        gateway_ref: r.get(14),
        body: r.get(15),
        detail: r.get(16),
        updated_ms: r.get(17),
    }
}

async fn sched_state(c: &impl GenericClient, business: Uuid, lock: bool) -> Result<SchedState> {
    let sql = if lock {
        "SELECT seq, sweep_after, swept_day FROM sched_cursor WHERE business_id = $1 FOR UPDATE"
    } else {
        "SELECT seq, sweep_after, swept_day FROM sched_cursor WHERE business_id = $1"
    };
    Ok(c.query_opt(sql, &[&business])
        .await?
        .map(|r| SchedState {
            seq: r.get(0),
            sweep_after: r.get(1),
            swept_day: r.get(2),
        })
        .unwrap_or_default())
}

impl Outbox for PgStorage {
    async fn sched_businesses(&self) -> Result<Vec<(Uuid, i64, SchedState)>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            "SELECT b.id, b.seq, COALESCE(c.seq, 0), c.sweep_after, c.swept_day
             FROM businesses b LEFT JOIN sched_cursor c ON c.business_id = b.id",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                SchedState {
                    seq: r.get(2),
                    sweep_after: r.get(3),
                    swept_day: r.get(4),
                },
            )
        })
        .collect())
    }

    async fn sched_state(&self, business: Uuid) -> Result<SchedState> {
        let c = self.pool.get().await?;
        sched_state(&c, business, false).await
    }

    async fn feed_docs(&self, business: Uuid, after: i64, limit: i64) -> Result<(Vec<Uuid>, i64)> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "SELECT seq, doc_id FROM feed WHERE business_id = $1 AND seq > $2
                 ORDER BY seq LIMIT $3",
                &[&business, &after, &limit],
            )
            .await?;
        let mut last = after;
        let mut docs = Vec::new();
        for r in rows {
            last = r.get(0);
            let d: Uuid = r.get(1);
            if !docs.contains(&d) {
                docs.push(d);
            }
        }
        Ok((docs, last))
    }

    async fn client_docs_after(
        &self,
        business: Uuid,
        after: Uuid,
        limit: i64,
    ) -> Result<Vec<Uuid>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            "SELECT id FROM docs WHERE business_id = $1 AND kind = 'client' AND id > $2
             ORDER BY id LIMIT $3",
            &[&business, &after, &limit],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
    }

    async fn read_docs(
        &self,
        business: Uuid,
        ids: Vec<Uuid>,
    ) -> Result<Vec<(Uuid, String, Vec<u8>)>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            "SELECT id, kind, data FROM docs WHERE id = ANY($1) AND business_id = $2",
            &[&ids, &business],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
    }

    async fn seen(&self, clients: Vec<Uuid>) -> Result<HashMap<Uuid, Seen>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "SELECT visit_id, start_ms, status, deleted FROM sched_visits
                 WHERE client_id = ANY($1)",
                &[&clients],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let status: String = r.get(2);
                (
                    r.get(0),
                    Seen {
                        start: Utc
                            .timestamp_millis_opt(r.get(1))
                            .single()
                            .unwrap_or_default(),
                        status: status
                            .parse()
                            .unwrap_or(kartka_core::model::VisitStatus::Booked),
                        deleted: r.get(3),
                    },
                )
            })
            .collect())
    }

    async fn open_messages(&self, clients: Vec<Uuid>) -> Result<Vec<Message>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            &format!(
                "SELECT {COLUMNS} FROM messages WHERE client_id = ANY($1)
                 AND state IN ('scheduled', 'cancelled')"
            ),
            &[&clients],
        )
        .await?
        .iter()
        .map(message)
        .collect())
    }

    async fn apply_schedule(
        &self,
        business: Uuid,
        expect: SchedState,
        next: SchedState,
        ops: Vec<SchedOp>,
        now_ms: i64,
    ) -> Result<bool> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Make sure the row exists so that it can be locked.
        tx.execute(
            "INSERT INTO sched_cursor (business_id) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&business],
        )
        .await?;
        if sched_state(&tx, business, true).await? != expect {
            return Ok(false);
        }
        for op in ops {
            apply_op(&tx, business, op, now_ms).await?;
        }
        tx.execute(
            "UPDATE sched_cursor SET seq = $2, sweep_after = $3, swept_day = $4
             WHERE business_id = $1",
            &[&business, &next.seq, &next.sweep_after, &next.swept_day],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn claim_due(&self, now_ms: i64, limit: i64, claimer: Uuid) -> Result<Vec<Message>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            &format!(
                "UPDATE messages SET state = 'sending', claimed_by = $1, claimed_ms = $2,
                        attempts = attempts + 1, updated_ms = $2
                 WHERE rid IN (SELECT rid FROM messages WHERE state = 'scheduled' AND due_ms <= $2
                               ORDER BY due_ms LIMIT $3 FOR UPDATE SKIP LOCKED)
                 RETURNING {COLUMNS}"
            ),
            &[&claimer, &now_ms, &limit],
        )
        .await?
        .iter()
        .map(message)
        .collect())
    }

    async fn claim_stuck(
        &self,
        cutoff_ms: i64,
        now_ms: i64,
        limit: i64,
        claimer: Uuid,
    ) -> Result<Vec<Message>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            &format!(
                "UPDATE messages SET claimed_by = $1, claimed_ms = $2, updated_ms = $2
                 WHERE rid IN (SELECT rid FROM messages WHERE state = 'sending' AND claimed_ms < $3
                               ORDER BY claimed_ms LIMIT $4 FOR UPDATE SKIP LOCKED)
                 RETURNING {COLUMNS}"
            ),
            &[&claimer, &now_ms, &cutoff_ms, &limit],
        )
        .await?
        .iter()
        .map(message)
        .collect())
    }

    async fn finish(&self, claimer: Uuid, done: Vec<Finish>, now_ms: i64) -> Result<()> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let st = tx
            .prepare(
                "UPDATE messages SET state = $3, due_ms = COALESCE($4, due_ms),
                        gateway = COALESCE($5, gateway), gateway_ref = COALESCE($6, gateway_ref),
                        body = COALESCE($7, body), detail = $8, updated_ms = $9,
                        claimed_by = CASE WHEN $3 = 'scheduled' THEN NULL ELSE claimed_by END
                 WHERE id = $1 AND state = 'sending' AND claimed_by = $2",
            )
            .await?;
        for f in done {
            tx.execute(
                &st,
                &[
                    &f.id,
                    &claimer,
                    &f.state,
                    &f.due_ms,
                    &f.gateway,
                    &f.gateway_ref,
                    &f.body,
                    &f.detail,
                    &now_ms,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn unrecorded(&self, limit: i64) -> Result<Vec<Message>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            &format!(
                "SELECT {COLUMNS} FROM messages
                 WHERE recorded IS DISTINCT FROM state
                   AND state NOT IN ('scheduled', 'sending', 'cancelled')
                 ORDER BY updated_ms LIMIT $1"
            ),
            &[&limit],
        )
        .await?
        .iter()
        .map(message)
        .collect())
    }

    async fn mark_recorded(&self, done: Vec<(Uuid, String)>) -> Result<()> {
        let c = self.pool.get().await?;
        let (ids, states): (Vec<Uuid>, Vec<String>) = done.into_iter().unzip();
        c.execute(
            "UPDATE messages m SET recorded = d.state
             FROM UNNEST($1::uuid[], $2::text[]) AS d(id, state) WHERE m.id = d.id",
            &[&ids, &states],
        )
        .await?;
        Ok(())
    }

    async fn message(&self, id: Uuid) -> Result<Option<Message>> {
        let c = self.pool.get().await?;
        Ok(c.query_opt(
            &format!("SELECT {COLUMNS} FROM messages WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(message))
    }

    async fn message_by_ref(&self, gateway: String, reference: String) -> Result<Option<Message>> {
        let c = self.pool.get().await?;
        Ok(c.query_opt(
            &format!("SELECT {COLUMNS} FROM messages WHERE gateway = $1 AND gateway_ref = $2"),
            &[&gateway, &reference],
        )
        .await?
        .as_ref()
        .map(message))
    }

    async fn report(
        &self,
        id: Uuid,
        new: &'static str,
        detail: Option<String>,
        now_ms: i64,
    ) -> Result<bool> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let Some(row) = tx
            .query_opt(
                "SELECT state FROM messages WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await?
        else {
            return Err(StorageError::NotFound);
        };
        let cur: String = row.get(0);
        if !super::outbox::moves_forward(&cur, new) {
            return Ok(false);
        }
        tx.execute(
            "UPDATE messages SET state = $2, detail = COALESCE($3, detail), updated_ms = $4
             WHERE id = $1",
            &[&id, &new, &detail, &now_ms],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn first_sight(&self, id: String, now_ms: i64) -> Result<bool> {
        let c = self.pool.get().await?;
        Ok(c.execute(
            "INSERT INTO webhook_seen (id, seen_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id, &now_ms],
        )
        .await?
            == 1)
    }

    async fn clients_by_contact(
        &self,
        kind: &'static str,
        value: String,
    ) -> Result<Vec<(Uuid, Uuid)>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            "SELECT business_id, client_id FROM client_contacts WHERE kind = $1 AND value = $2",
            &[&kind, &value],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
    }

    async fn note_writer(&self, w: Writer) -> Result<()> {
        let c = self.pool.get().await?;
        c.execute(
            "INSERT INTO writers (address, channel, business_id, client_id, visit_id, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (address, channel, business_id) DO UPDATE SET
                 client_id = excluded.client_id, visit_id = excluded.visit_id,
                 at_ms = excluded.at_ms",
            &[
                &w.address,
                &w.channel,
                &w.business,
                &w.client,
                &w.visit,
                &w.at_ms,
            ],
        )
        .await?;
        Ok(())
    }

    async fn writers(&self, address: String) -> Result<Vec<Writer>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            "SELECT address, channel, business_id, client_id, visit_id, at_ms FROM writers
             WHERE address = $1 ORDER BY at_ms DESC",
            &[&address],
        )
        .await?
        .iter()
        .map(|r| Writer {
            address: r.get(0),
            channel: r.get(1),
            business: r.get(2),
            client: r.get(3),
            visit: r.get(4),
            at_ms: r.get(5),
        })
        .collect())
    }

    async fn keep_unattributed(&self, m: Unattributed) -> Result<bool> {
        let c = self.pool.get().await?;
        Ok(c.execute(
            "INSERT INTO unattributed
                 (provider_id, address, channel, contact_kind, body, name, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                &m.provider_id,
                &m.address,
                &m.channel,
                &m.contact_kind,
                &m.body,
                &m.name,
                &m.at_ms,
            ],
        )
        .await?
            == 1)
    }

    async fn take_unattributed(
        &self,
        address: String,
        channel: String,
    ) -> Result<Vec<Unattributed>> {
        let c = self.pool.get().await?;
        let mut out: Vec<Unattributed> = c
            .query(
                "DELETE FROM unattributed WHERE address = $1 AND channel = $2
                 RETURNING provider_id, address, channel, contact_kind, body, name, at_ms",
                &[&address, &channel],
            )
            .await?
            .iter()
            .map(|r| Unattributed {
                provider_id: r.get(0),
                address: r.get(1),
                channel: r.get(2),
                contact_kind: r.get(3),
                body: r.get(4),
                name: r.get(5),
                at_ms: r.get(6),
            })
            .collect();
        out.sort_by_key(|u| u.at_ms);
        Ok(out)
    }

    async fn messages_of(&self, business: Uuid) -> Result<Vec<Message>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            &format!("SELECT {COLUMNS} FROM messages WHERE business_id = $1 ORDER BY due_ms, rid"),
            &[&business],
        )
        .await?
        .iter()
        .map(message)
        .collect())
    }
}

async fn apply_op(tx: &impl GenericClient, business: Uuid, op: SchedOp, now_ms: i64) -> Result<()> {
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
            tx.execute(
                "INSERT INTO messages (id, business_id, client_id, visit_id, rule_id, channel, key,
                                       kind, derived, due_ms, state, created_ms, updated_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'scheduled', $11, $11)
                 ON CONFLICT (business_id, rule_id, channel, key) DO UPDATE
                 SET state = 'scheduled', due_ms = $10, visit_id = $4, detail = NULL,
                     updated_ms = $11
                 WHERE messages.state = 'cancelled'",
                &[
                    &id, &business, &client, &visit, &rule, &channel, &key, &kind, &derived,
                    &due_ms, &now_ms,
                ],
            )
            .await?;
        }
        SchedOp::Move { id, visit, due_ms } => {
            tx.execute(
                "UPDATE messages SET due_ms = $2, visit_id = $3, updated_ms = $4
                 WHERE id = $1 AND state = 'scheduled'",
                &[&id, &due_ms, &visit, &now_ms],
            )
            .await?;
        }
        SchedOp::Cancel { id, reason } => {
            tx.execute(
                "UPDATE messages SET state = 'cancelled', detail = $2, updated_ms = $3
                 WHERE id = $1 AND state = 'scheduled'",
                &[&id, &reason, &now_ms],
            )
            .await?;
        }
        SchedOp::Seen {
            visit,
            client,
            seen,
        } => {
            tx.execute(
                "INSERT INTO sched_visits (visit_id, client_id, start_ms, status, deleted)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (visit_id) DO UPDATE
                 SET client_id = $2, start_ms = $3, status = $4, deleted = $5",
                &[
                    &visit,
                    &client,
                    &seen.start.timestamp_millis(),
                    &seen.status.as_str(),
                    &seen.deleted,
                ],
            )
            .await?;
        }
        SchedOp::Contacts { client, contacts } => {
            tx.execute(
                "DELETE FROM client_contacts WHERE client_id = $1",
                &[&client],
            )
            .await?;
            for (kind, value) in contacts {
                tx.execute(
                    "INSERT INTO client_contacts (kind, value, business_id, client_id)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[&kind, &value, &business, &client],
                )
                .await?;
            }
        }
    }
    Ok(())
}
