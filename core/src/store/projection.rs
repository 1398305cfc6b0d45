//! The projection: the tables every read is served from, derived from the client documents.
//!
//! A client's rows are always rewritten whole from its document (`project_client`), so an
//! incremental projection and one rebuilt from scratch cannot drift apart; a property test holds
//! them equal.

use automerge::ActorId;
use rusqlite::{Connection, params};
use serde::Serialize;
use uuid::Uuid;

use super::docs;
use crate::crdt::client::{self as client_doc, ClientRecord};
use crate::error::Result;
use crate::fold::{fold, words};
use crate::model::{Channel, NotificationKind, ReminderOverride};
use crate::phone;

pub(crate) fn channel_bits(rec: &ClientRecord) -> i64 {
    Channel::ALL
        .iter()
        .enumerate()
        .filter(|(_, c)| rec.consent.granted(**c))
        .fold(0, |acc, (i, _)| acc | (1 << i))
}

fn notify_off_bits(rec: &ClientRecord) -> i64 {
    NotificationKind::ALL
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            !rec.consent
                .notifications
                .iter()
                .any(|(k, on)| k == *n && *on)
        })
        .fold(0, |acc, (i, _)| acc | (1 << i))
}

/// The folded text a client is searched by: name parts and email.
fn search_text(rec: &ClientRecord) -> String {
    let c = &rec.card;
    let mut parts = vec![c.name.as_str()];
    parts.extend(c.given_name.as_deref());
    parts.extend(c.family_name.as_deref());
    parts.extend(c.email.as_deref());
    fold(&parts.join(" "))
}

/// Every projection table keyed by `client_rid`: rewriting a client clears its rows in each, a
/// rebuild clears them all, and the snapshot compares them all. One list, so a new table cannot
/// be forgotten in one of the three.
const CHILD_TABLES: &[&str] = &[
    "client_tags",
    "name_words",
    "phone_keys",
    "phone_digits",
    "visits",
    "consent_events",
    "messages",
    "notes",
];

/// Rewrites every projection row of one client from its document. `fresh`: the client has no
/// rows yet (just created, or the projection was cleared), so there is nothing to delete.
pub(crate) fn project_client(conn: &Connection, rec: &ClientRecord, fresh: bool) -> Result<()> {
    if rec.merged_into.is_some() {
        // A card merged into another: its visits, messages and evidence were copied there with
        // their ids, so only the tombstone itself is projected here.
        let card_only = ClientRecord {
            visits: Vec::new(),
            messages: Vec::new(),
            notes: Vec::new(),
            conversation: None,
            consent: crate::model::ConsentState {
                evidence: Vec::new(),
                ..rec.consent.clone()
            },
            merged_into: None,
            ..rec.clone()
        };
        return project_client(conn, &card_only, fresh);
    }
    let c = &rec.card;
    let took_place: Vec<_> = rec
        .visits
        .iter()
        .filter(|v| !v.deleted && v.status.took_place())
        .collect();
    let sold: i64 = took_place.iter().map(|v| v.total).sum();
    let paid: i64 = rec
        .visits
        .iter()
        .filter(|v| !v.deleted)
        .map(|v| v.paid)
        .sum();
    let last_visit = rec.last_visit().map(|t| t.timestamp_millis());
    let email_key = c.email.as_deref().map(fold);
    let tags = serde_json::to_string(&c.tags).expect("tags serialise");
    let phones = serde_json::to_string(&c.phones).expect("phones serialise");
    // A merged or deleted card's conversation lives on (or is gone) with it.
    let conv = rec.conversation.as_ref().filter(|_| !rec.deleted);

    let rid: i64 = conn
        .prepare_cached(
            "INSERT INTO clients (id, name, sort_key, given_name, family_name, phones, email,
                 email_key, birthday, birth_md, comment, class, tags, loyalty_card, discount,
                 source, consent, notify_off, visits, sold, paid, last_visit, created_at,
                 updated_at, deleted, lead, conv_status, conv_at, conv_until, conv_staff)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, sort_key = excluded.sort_key,
                 given_name = excluded.given_name, family_name = excluded.family_name,
                 phones = excluded.phones, email = excluded.email, email_key = excluded.email_key,
                 birthday = excluded.birthday, birth_md = excluded.birth_md,
                 comment = excluded.comment, class = excluded.class, tags = excluded.tags,
                 loyalty_card = excluded.loyalty_card, discount = excluded.discount,
                 source = excluded.source, consent = excluded.consent,
                 notify_off = excluded.notify_off, visits = excluded.visits, sold = excluded.sold,
                 paid = excluded.paid, last_visit = excluded.last_visit,
                 created_at = excluded.created_at, updated_at = excluded.updated_at,
                 deleted = excluded.deleted, lead = excluded.lead,
                 conv_status = excluded.conv_status, conv_at = excluded.conv_at,
                 conv_until = excluded.conv_until, conv_staff = excluded.conv_staff
             RETURNING rid",
        )?
        .query_row(
            params![
                rec.id,
                c.name,
                fold(&c.name),
                c.given_name,
                c.family_name,
                phones,
                c.email,
                email_key,
                c.birthday.map(|b| b.to_string()),
                c.birthday.map(|b| {
                    let (m, d) = b.month_day();
                    format!("{m:02}-{d:02}")
                }),
                c.comment,
                c.class.as_str(),
                tags,
                c.loyalty_card,
                c.discount_percent,
                c.source.as_str(),
                channel_bits(rec),
                notify_off_bits(rec),
                took_place.len() as i64,
                sold,
                paid,
                last_visit,
                rec.created_at.timestamp_millis(),
                rec.updated_at.timestamp_millis(),
                // A lead is not in the book until a master takes it in.
                rec.deleted || rec.lead,
                rec.lead,
                conv.map(|c| c.status.as_str()),
                conv.map(|c| c.since.timestamp_millis()),
                conv.and_then(|c| c.until).map(|t| t.timestamp_millis()),
                conv.and_then(|c| c.staff_id),
            ],
            |r| r.get(0),
        )?;

    if !fresh {
        for table in CHILD_TABLES {
            conn.prepare_cached(&format!("DELETE FROM {table} WHERE client_rid = ?1"))?
                .execute(params![rid])?;
        }
        conn.prepare_cached("DELETE FROM client_fts WHERE rowid = ?1")?
            .execute(params![rid])?;
    }

    let mut ins =
        conn.prepare_cached("INSERT OR IGNORE INTO client_tags (tag, client_rid) VALUES (?1, ?2)")?;
    for t in &c.tags {
        ins.execute(params![t, rid])?;
    }

    let text = search_text(rec);
    conn.prepare_cached("INSERT INTO client_fts (rowid, text) VALUES (?1, ?2)")?
        .execute(params![rid, text])?;
    let sort_key = fold(&c.name);
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO name_words (word, sort_key, client_rid) VALUES (?1, ?2, ?3)",
    )?;
    for w in words(&text) {
        ins.execute(params![w, sort_key, rid])?;
    }

    // Phone lookups (search, import's duplicates) want only clients in the book.
    if !(rec.deleted || rec.lead) {
        let mut keys_in = conn.prepare_cached(
            "INSERT OR IGNORE INTO phone_keys (key, sort_key, client_rid) VALUES (?1, ?2, ?3)",
        )?;
        let mut digits_in = conn.prepare_cached(
            "INSERT OR IGNORE INTO phone_digits (digits, client_rid) VALUES (?1, ?2)",
        )?;
        for p in &c.phones {
            let keys: Vec<String> = match &p.e164 {
                Some(e) => phone::search_keys(e),
                None => vec![p.raw.chars().filter(char::is_ascii_digit).collect()],
            };
            let keys: Vec<String> = keys.into_iter().filter(|k| !k.is_empty()).collect();
            for k in &keys {
                keys_in.execute(params![k, sort_key, rid])?;
            }
            for d in phone::inner_digits(&keys) {
                digits_in.execute(params![d, rid])?;
            }
        }
    }

    let mut ins = conn.prepare_cached(
        "INSERT INTO visits (id, client_rid, start_at, zone, duration_min, services, total, paid,
             status, staff_id, note, reminder, repeat_after_days, created_at, updated_at, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?;
    for v in &rec.visits {
        ins.execute(params![
            v.id,
            rid,
            v.start.timestamp_millis(),
            v.zone,
            v.duration_min,
            serde_json::to_string(&v.services).expect("services serialise"),
            v.total,
            v.paid,
            v.status.as_str(),
            v.staff_id,
            v.note,
            match v.reminder {
                ReminderOverride::Default => None,
                ReminderOverride::Off => Some(-1i64),
                ReminderOverride::MinutesBefore(m) => Some(i64::from(m)),
            },
            v.repeat_after_days,
            v.created_at.timestamp_millis(),
            v.updated_at.timestamp_millis(),
            v.deleted,
        ])?;
    }

    let mut ins = conn.prepare_cached(
        "INSERT INTO consent_events (id, client_rid, subject, granted, at, staff_id, device_id,
             source, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for e in &rec.consent.evidence {
        ins.execute(params![
            e.id,
            rid,
            e.subject.key(),
            e.granted,
            e.at.timestamp_millis(),
            e.staff_id,
            e.device_id,
            e.source.as_str(),
            e.note,
        ])?;
    }

    let mut ins = conn.prepare_cached(
        "INSERT INTO messages (id, client_rid, channel, kind, body, at, staff_id, device_id,
             visit_id, template_id, status, status_at, detail, rule_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for m in &rec.messages {
        ins.execute(params![
            m.id,
            rid,
            m.channel.as_str(),
            m.kind.as_str(),
            m.body,
            m.at.timestamp_millis(),
            m.staff_id,
            m.device_id,
            m.visit_id,
            m.template_id,
            m.status.as_str(),
            m.status_at.timestamp_millis(),
            m.detail,
            m.rule_id,
        ])?;
    }

    let mut ins = conn.prepare_cached(
        "INSERT INTO notes (id, client_rid, body, at, staff_id, device_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for n in &rec.notes {
        ins.execute(params![
            n.id,
            rid,
            n.body,
            n.at.timestamp_millis(),
            n.staff_id,
            n.device_id
        ])?;
    }
    Ok(())
}

/// Clears the projection and derives it again from every client document.
pub(crate) fn rebuild(conn: &Connection, actor: &ActorId) -> Result<()> {
    for table in CHILD_TABLES.iter().chain(&["clients", "client_fts"]) {
        conn.execute(&format!("DELETE FROM {table}"), [])?;
    }
    let ids: Vec<Uuid> = conn
        .prepare("SELECT id FROM docs WHERE kind = 'client'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        let doc = docs::load(conn, id, actor)?.expect("listed above");
        project_client(conn, &client_doc::read(&doc, id)?, true)?;
    }
    Ok(())
}

/// Every projection row as text, local row numbers replaced by client ids, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectionSnapshot {
    pub tables: Vec<(String, Vec<String>)>,
}

pub(crate) fn snapshot(conn: &Connection) -> Result<ProjectionSnapshot> {
    let mut queries: Vec<(&str, String)> = vec![("clients", "SELECT * FROM clients".into())];
    queries.extend(
        CHILD_TABLES
            .iter()
            .map(|t| (*t, format!("SELECT * FROM {t}"))),
    );
    queries.push((
        "client_fts",
        "SELECT rowid AS client_rid, text FROM client_fts".into(),
    ));
    let mut rid_to_id = std::collections::HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT rid, id FROM clients")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            rid_to_id.insert(r.get::<_, i64>(0)?, r.get::<_, Uuid>(1)?);
        }
    }
    let mut tables = Vec::new();
    for (name, sql) in queries {
        let mut stmt = conn.prepare(&sql)?;
        let cols: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut fields = Vec::new();
            for (i, col) in cols.iter().enumerate() {
                let v: rusqlite::types::Value = r.get(i)?;
                let text = match (col.as_str(), v) {
                    ("rid", _) => continue,
                    ("client_rid", rusqlite::types::Value::Integer(rid)) => rid_to_id
                        .get(&rid)
                        .map(|u| u.to_string())
                        .unwrap_or_else(|| format!("orphan:{rid}")),
                    (_, v) => format!("{v:?}"),
                };
                fields.push(format!("{col}={text}"));
            }
            out.push(fields.join("|"));
        }
        out.sort();
        tables.push((name.to_string(), out));
    }
    Ok(ProjectionSnapshot { tables })
}

/// Removes every projection row of a client. Returns whether it had any.
pub(crate) fn remove_client(conn: &Connection, id: Uuid) -> Result<bool> {
    let Some(rid) = rid_of(conn, id)? else {
        return Ok(false);
    };
    for table in CHILD_TABLES {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE client_rid = ?1"))?
            .execute(params![rid])?;
    }
    conn.prepare_cached("DELETE FROM client_fts WHERE rowid = ?1")?
        .execute(params![rid])?;
    conn.prepare_cached("DELETE FROM clients WHERE rid = ?1")?
        .execute(params![rid])?;
    Ok(true)
}

/// The local row number of a client, if projected.
pub(crate) fn rid_of(conn: &Connection, id: Uuid) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT rid FROM clients WHERE id = ?1")?
        .query_row(params![id], |r| r.get(0))
        .optional()?)
}
