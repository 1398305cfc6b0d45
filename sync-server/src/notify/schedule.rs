//! The scheduler: keeps each business's messages in step with its documents.
//!
//! A pass reads the feed after the business's cursor, decodes the client documents it touched
//! (plus a page of a sweep over every client, after the settings change and once a local day),
//! asks the core what each client calls for (`notify::plan`), and writes the difference:
//! new messages, moved ones, cancelled ones, and the visits as now seen. The writes commit only
//! if the cursor has not moved meanwhile, so two server processes never schedule one change
//! twice; and every write is conditional on the message still being `scheduled`, so a pass
//! never touches a message a dispatcher has claimed.

use std::collections::{HashMap, HashSet};

use automerge::Automerge;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use kartka_core::crdt::{business as business_doc, client as client_doc};
use kartka_core::model::Business;
use kartka_core::notify::plan::{self, Seen};
use uuid::Uuid;

use crate::storage::outbox::{Message, SchedOp, SchedState};
use crate::storage::{Storage, StorageError};

/// Feed rows read per pass.
const FEED_PAGE: i64 = 2000;
/// Clients swept per pass.
const SWEEP_PAGE: i64 = 500;

/// The settings of a business, decoded from its document.
pub async fn business<S: Storage>(s: &S, id: Uuid) -> Result<Option<Business>, StorageError> {
    let Some(bytes) = s.read_doc(id, id).await? else {
        return Ok(None);
    };
    Ok(Automerge::load(&bytes)
        .ok()
        .and_then(|d| business_doc::read(&d, id).ok()))
}

/// One pass over `business`. Returns whether more work is waiting (call again).
pub async fn pass<S: Storage>(
    s: &S,
    business: Uuid,
    now: DateTime<Utc>,
    stale: Duration,
) -> Result<bool, StorageError> {
    let st = s.sched_state(business).await?;
    let (changed, last) = s.feed_docs(business, st.seq, FEED_PAGE).await?;
    let mut next = SchedState {
        seq: last,
        ..st.clone()
    };
    let Some(settings) = self::business(s, business).await? else {
        // Nothing to schedule without settings; move on so the feed is not read again.
        s.apply_schedule(business, st, next, Vec::new(), now.timestamp_millis())
            .await?;
        return Ok(false);
    };
    if changed.contains(&business) {
        // Rules, hours or zone changed: every client is looked at again.
        next.sweep_after = Some(Uuid::nil());
    }
    let today = settings
        .zone
        .parse::<Tz>()
        .map(|tz| now.with_timezone(&tz).date_naive().to_string())
        .unwrap_or_default();
    if next.swept_day.as_deref() != Some(today.as_str()) {
        // Once a local day: birthdays come round, repeat-visit reminders age.
        next.sweep_after = Some(Uuid::nil());
        next.swept_day = Some(today);
    }
    let mut clients: Vec<Uuid> = changed.into_iter().filter(|d| *d != business).collect();
    if let Some(after) = next.sweep_after {
        let page = s.client_docs_after(business, after, SWEEP_PAGE).await?;
        next.sweep_after = if (page.len() as i64) < SWEEP_PAGE {
            None
        } else {
            page.last().copied()
        };
        let known: HashSet<Uuid> = clients.iter().copied().collect();
        clients.extend(page.into_iter().filter(|c| !known.contains(c)));
    }
    let docs = s.read_docs(business, clients.clone()).await?;
    let ids: Vec<Uuid> = docs
        .iter()
        .filter(|(_, kind, _)| kind == "client")
        .map(|(id, _, _)| *id)
        .collect();
    let seen = s.seen(ids.clone()).await?;
    let open = s.open_messages(ids).await?;
    let ops = tokio::task::spawn_blocking(move || ops(&settings, docs, &seen, open, now, stale))
        .await
        .map_err(|e| StorageError::Backend(e.to_string()))?;
    // Feed sequence numbers are consecutive per business: a full page may have more behind it.
    let more = next.sweep_after.is_some() || next.seq - st.seq >= FEED_PAGE;
    if ops.is_empty() && next == st {
        return Ok(false); // nothing new: no write at all
    }
    let applied = s
        .apply_schedule(business, st, next, ops, now.timestamp_millis())
        .await?;
    // Not applied: another process moved the cursor first; look again.
    Ok(more || !applied)
}

/// What the documents call for, against what is stored: the pure heart of a pass.
pub fn ops(
    business: &Business,
    docs: Vec<(Uuid, String, Vec<u8>)>,
    seen: &HashMap<Uuid, Seen>,
    open: Vec<Message>,
    now: DateTime<Utc>,
    stale: Duration,
) -> Vec<SchedOp> {
    let mut by_client: HashMap<Uuid, Vec<Message>> = HashMap::new();
    for m in open {
        by_client.entry(m.client).or_default().push(m);
    }
    let fresh_after = (now - stale).timestamp_millis();
    let mut out = Vec::new();
    for (id, kind, bytes) in docs {
        if kind != "client" {
            continue;
        }
        let Ok(doc) = Automerge::load(&bytes) else {
            tracing::warn!(client = %id, "scheduler: a stored document does not load");
            continue;
        };
        let Ok(record) = client_doc::read(&doc, id) else {
            tracing::warn!(client = %id, "scheduler: a stored document is not a client");
            continue;
        };
        let mut contacts: Vec<(String, String)> = record
            .card
            .phones
            .iter()
            .filter_map(|p| Some(("phone".to_string(), p.e164.clone()?)))
            .collect();
        if let Some(chat) = client_doc::telegram_chat(&doc) {
            contacts.push(("telegram".into(), chat));
        }
        if record.deleted || record.merged_into.is_some() {
            // A deleted card, or a lead attached to a client: what the person writes now goes
            // to the card that holds their conversation.
            contacts.clear();
        }
        out.push(SchedOp::Contacts {
            client: id,
            contacts,
        });
        let p = plan::plan(business, &record, seen, now, stale);
        for (visit, s) in &p.seen {
            if seen.get(visit) != Some(s) {
                out.push(SchedOp::Seen {
                    visit: *visit,
                    client: id,
                    seen: *s,
                });
            }
        }
        let existing = by_client.remove(&id).unwrap_or_default();
        let find = |rule: Uuid, channel: &str, key: &str| {
            existing
                .iter()
                .find(|m| m.rule == rule && m.channel == channel && m.key == key)
        };
        let mut wanted: HashSet<(Uuid, String, String)> = HashSet::new();
        for m in &p.derived {
            let channel = m.channel.as_str();
            wanted.insert((m.rule, channel.to_string(), m.key.clone()));
            let due_ms = m.due.timestamp_millis();
            match find(m.rule, channel, &m.key) {
                Some(e) if e.state == "scheduled" && (e.due_ms != due_ms || e.visit != m.visit) => {
                    out.push(SchedOp::Move {
                        id: e.id,
                        visit: m.visit,
                        due_ms,
                    });
                }
                Some(e) if e.state == "scheduled" => {}
                // New, or cancelled earlier and called for again: only if its moment is recent.
                _ if m.base.timestamp_millis() >= fresh_after => out.push(upsert(id, m, true)),
                _ => {}
            }
        }
        for e in existing
            .iter()
            .filter(|e| e.derived && e.state == "scheduled")
        {
            if !wanted.contains(&(e.rule, e.channel.clone(), e.key.clone())) {
                out.push(SchedOp::Cancel {
                    id: e.id,
                    reason: "no longer applies".into(),
                });
            }
        }
        for (rule, channel, prefix) in &p.superseded {
            for e in existing.iter().filter(|e| {
                e.state == "scheduled"
                    && e.rule == *rule
                    && e.channel == channel.as_str()
                    && e.key.starts_with(prefix.as_str())
            }) {
                out.push(SchedOp::Cancel {
                    id: e.id,
                    reason: "superseded by a later change".into(),
                });
            }
        }
        for m in &p.events {
            out.push(upsert(id, m, false));
        }
    }
    out
}

fn upsert(client: Uuid, m: &plan::Planned, derived: bool) -> SchedOp {
    SchedOp::Upsert {
        id: m.id.unwrap_or_else(Uuid::now_v7),
        client,
        visit: m.visit,
        rule: m.rule,
        channel: m.channel.as_str().to_string(),
        key: m.key.clone(),
        kind: m.kind.as_str().to_string(),
        derived,
        due_ms: m.due.timestamp_millis(),
    }
}
