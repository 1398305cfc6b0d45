//! Reads of client cards: one card, a filtered page, and search.
//!
//! Search folds the query the way the projection folded names (see `fold.rs`), then:
//! - a query that looks like a phone number matches, by prefix, any digit form of any number
//!   (`067 123`, `+38067123` and `0671234567` all find +380671234567);
//! - otherwise every term must occur in the folded name or email: terms of three characters or
//!   more through the FTS5 trigram index (any part of a word), shorter ones as a word prefix.
//!
//! Ranking: names starting with the query, then names with a word starting with it, then names
//! containing it, then email-only matches; ties by name.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use uuid::Uuid;

use super::Store;
use crate::error::Result;
use crate::fold::{fold, prefix_end};
use crate::model::{
    Channel, Client, ClientClass, ClientStats, ConsentEvent, ConsentSource, ConsentState,
    ConsentSubject, NotificationKind,
};
use crate::phone;

#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub class: Option<ClientClass>,
    pub tag: Option<String>,
    pub include_deleted: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub offset: u32,
    pub limit: u32,
}

impl Default for Page {
    fn default() -> Self {
        Page { offset: 0, limit: 50 }
    }
}

/// Columns of a client card; `?1` is "now" (for the next visit).
const CLIENT_COLS: &str = "c.id, c.name, c.given_name, c.family_name, c.phones, c.email,
    c.birthday, c.comment, c.class, c.tags, c.loyalty_card, c.discount, c.source, c.consent,
    c.visits, c.sold, c.paid, c.last_visit, c.created_at, c.updated_at, c.deleted,
    (SELECT min(v.start_at) FROM visits v WHERE v.client_rid = c.rid AND v.deleted = 0
        AND v.status IN ('booked', 'confirmed') AND v.start_at >= ?1) AS next_visit";

fn ms(t: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(t).single().unwrap_or_default()
}

fn client_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Client> {
    let phones: String = r.get(4)?;
    let tags: String = r.get(9)?;
    let birthday: Option<String> = r.get(6)?;
    let class: String = r.get(8)?;
    let source: String = r.get(12)?;
    let consent_bits: i64 = r.get(13)?;
    let sold: i64 = r.get(15)?;
    let paid: i64 = r.get(16)?;
    Ok(Client {
        id: r.get(0)?,
        name: r.get(1)?,
        given_name: r.get(2)?,
        family_name: r.get(3)?,
        phones: serde_json::from_str(&phones).unwrap_or_default(),
        email: r.get(5)?,
        birthday: birthday.and_then(|b| b.parse().ok()),
        comment: r.get(7)?,
        class: ClientClass::parse(&class).unwrap_or(ClientClass::Regular),
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        loyalty_card: r.get(10)?,
        discount_percent: r.get(11)?,
        source: source.parse().unwrap_or(crate::model::ClientSource::Manual),
        consent: Channel::ALL
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str().to_string(), consent_bits & (1 << i) != 0))
            .collect::<BTreeMap<_, _>>(),
        stats: ClientStats {
            visits: r.get(14)?,
            sold,
            paid,
            balance: sold - paid,
            last_visit: r.get::<_, Option<i64>>(17)?.map(ms),
            next_visit: r.get::<_, Option<i64>>(21)?.map(ms),
        },
        created_at: ms(r.get(18)?),
        updated_at: ms(r.get(19)?),
        deleted: r.get(20)?,
    })
}

pub(crate) fn client_by_id(conn: &Connection, id: Uuid, now: DateTime<Utc>) -> Result<Option<Client>> {
    let sql = format!("SELECT {CLIENT_COLS} FROM clients c WHERE c.id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![now.timestamp_millis(), id], client_from_row)
        .optional()?)
}

pub(crate) fn consent_of(conn: &Connection, id: Uuid) -> Result<Option<ConsentState>> {
    let Some((rid, bits, off)) = conn
        .prepare_cached("SELECT rid, consent, notify_off FROM clients WHERE id = ?1")?
        .query_row(params![id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT id, subject, granted, at, staff_id, device_id, source, note
         FROM consent_events WHERE client_rid = ?1 ORDER BY at, id",
    )?;
    let evidence = stmt
        .query_map(params![rid], |r| {
            let subject: String = r.get(1)?;
            let source: String = r.get(6)?;
            Ok((subject, source, r.get(0)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(7)?))
        })?
        .filter_map(|row| {
            let (subject, source, id, granted, at, staff_id, device_id, note) = match row {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            Some(Ok(ConsentEvent {
                id,
                subject: ConsentSubject::from_key(&subject)?,
                granted,
                at: ms(at),
                staff_id,
                device_id,
                source: source.parse().unwrap_or(ConsentSource::Other),
                note,
            }))
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(ConsentState {
        channels: Channel::ALL.iter().enumerate().map(|(i, c)| (*c, bits & (1 << i) != 0)).collect(),
        notifications: NotificationKind::ALL
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, off & (1 << i) == 0))
            .collect(),
        evidence,
    }))
}

/// Quotes a term for an FTS5 MATCH expression.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

impl Store {
    /// A page of clients in name order.
    pub fn list_clients(&self, filter: &ClientFilter, page: Page) -> Result<Vec<Client>> {
        let mut sql = format!("SELECT {CLIENT_COLS} FROM clients c WHERE 1 = 1");
        let mut args: Vec<Value> = vec![self.now().timestamp_millis().into()];
        if !filter.include_deleted {
            sql += " AND c.deleted = 0";
        }
        if let Some(class) = &filter.class {
            args.push(class.as_str().to_string().into());
            sql += &format!(" AND c.class = ?{}", args.len());
        }
        if let Some(tag) = &filter.tag {
            args.push(tag.trim().to_string().into());
            sql += &format!(
                " AND c.rid IN (SELECT client_rid FROM client_tags WHERE tag = ?{})",
                args.len()
            );
        }
        args.push(i64::from(page.limit).into());
        args.push(i64::from(page.offset).into());
        sql += &format!(" ORDER BY c.sort_key, c.id LIMIT ?{} OFFSET ?{}", args.len() - 1, args.len());
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), client_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Clients matching `query` by name, phone digits or email, best matches first.
    pub fn search(&self, query: &str, page: Page) -> Result<Vec<Client>> {
        let now = self.now().timestamp_millis();
        if let Some(digits) = phone::query_digits(query) {
            let sql = format!(
                "SELECT {CLIENT_COLS},
                    NOT EXISTS (SELECT 1 FROM phone_keys k WHERE k.client_rid = c.rid AND k.key = ?2) AS rank
                 FROM clients c
                 WHERE c.rid IN (SELECT client_rid FROM phone_keys WHERE key >= ?2 AND key < ?3)
                   AND c.deleted = 0
                 ORDER BY rank, c.sort_key, c.id LIMIT ?4 OFFSET ?5"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![now, digits, prefix_end(&digits), page.limit, page.offset],
                client_from_row,
            )?;
            return Ok(rows.collect::<rusqlite::Result<_>>()?);
        }

        let q = fold(query);
        let terms: Vec<&str> = q.split(' ').filter(|t| !t.is_empty()).collect();
        let Some(first) = terms.first() else { return Ok(Vec::new()) };
        let (long, short): (Vec<&str>, Vec<&str>) = terms.iter().partition(|t| t.chars().count() >= 3);

        let mut args: Vec<Value> = vec![
            now.into(),
            q.clone().into(),
            prefix_end(&q).into(),
            first.to_string().into(),
        ];
        let rank = "CASE WHEN c.sort_key >= ?2 AND c.sort_key < ?3 THEN 0
                         WHEN instr(' ' || c.sort_key, ' ' || ?4) > 0 THEN 1
                         WHEN instr(c.sort_key, ?4) > 0 THEN 2 ELSE 3 END";
        let mut sql = format!("SELECT {CLIENT_COLS}, {rank} AS rank FROM ");
        if long.is_empty() {
            // Every term is shorter than a trigram: candidates are clients with a word starting
            // with the first term.
            args.push(first.to_string().into());
            args.push(prefix_end(first).into());
            sql += &format!(
                "clients c JOIN client_fts f ON f.rowid = c.rid
                 WHERE c.rid IN (SELECT client_rid FROM name_words WHERE word >= ?{} AND word < ?{})",
                args.len() - 1,
                args.len()
            );
        } else {
            let expr = long.iter().map(|t| fts_phrase(t)).collect::<Vec<_>>().join(" AND ");
            args.push(expr.into());
            sql += &format!(
                "client_fts f JOIN clients c ON c.rid = f.rowid WHERE client_fts MATCH ?{}",
                args.len()
            );
        }
        for t in short.iter().skip(usize::from(long.is_empty())) {
            args.push(t.to_string().into());
            sql += &format!(" AND instr(' ' || f.text, ' ' || ?{}) > 0", args.len());
        }
        args.push(i64::from(page.limit).into());
        args.push(i64::from(page.offset).into());
        sql += &format!(
            " AND c.deleted = 0 ORDER BY rank, c.sort_key, c.id LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), client_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many clients the book has (tombstones excluded).
    pub fn client_count(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM clients WHERE deleted = 0", [], |r| r.get(0))?;
        Ok(n as u64)
    }
}
