//! Reads of client cards: one card, a filtered page, and search.
//!
//! Search folds the query the way the projection folded names (see `fold.rs`), then:
//! - a query that looks like a phone number (three digits or more) matches any digit form of any
//!   number by prefix (`067 123`, `+38067123` and `0671234567` all find +380671234567), and,
//!   unless typed with `+`, any run of digits inside one (`4567`, `12 34`, `123 45`);
//! - otherwise every term must occur in the folded name or email: terms of three characters or
//!   more anywhere (FTS5 trigram index), shorter ones as a word prefix.
//!
//! Ranking: names starting with the query, then names with a word starting with its first term,
//! then names containing it; numbers that are the query, then numbers starting with it, then
//! numbers holding it; each tier in name order.

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
        Page {
            offset: 0,
            limit: 50,
        }
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

pub(crate) fn client_by_id(
    conn: &Connection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Client>> {
    let sql = format!("SELECT {CLIENT_COLS} FROM clients c WHERE c.id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![now.timestamp_millis(), id], client_from_row)
        .optional()?)
}

pub(crate) fn consent_of(conn: &Connection, id: Uuid) -> Result<Option<ConsentState>> {
    let Some((rid, bits, off)) = conn
        .prepare_cached("SELECT rid, consent, notify_off FROM clients WHERE id = ?1")?
        .query_row(params![id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
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
            Ok((
                subject,
                source,
                r.get(0)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(7)?,
            ))
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
        channels: Channel::ALL
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, bits & (1 << i) != 0))
            .collect(),
        notifications: NotificationKind::ALL
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, off & (1 << i) == 0))
            .collect(),
        evidence,
    }))
}

fn client_by_rid(conn: &Connection, rid: i64, now: DateTime<Utc>) -> Result<Client> {
    let sql = format!("SELECT {CLIENT_COLS} FROM clients c WHERE c.rid = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![now.timestamp_millis(), rid], client_from_row)?)
}

/// Collects distinct row ids from `rows` that pass `keep`, until `needed` are in `out`.
fn collect_into(
    out: &mut Vec<i64>,
    mut rows: rusqlite::Rows<'_>,
    needed: usize,
    mut keep: impl FnMut(i64) -> Result<bool>,
) -> Result<()> {
    while out.len() < needed {
        let Some(row) = rows.next()? else { break };
        let rid: i64 = row.get(0)?;
        if !out.contains(&rid) && keep(rid)? {
            out.push(rid);
        }
    }
    Ok(())
}

/// Phone search in three tiers, each in name order: numbers that are the query (in any of
/// their digit forms), numbers that start with it, then numbers holding it anywhere else (the
/// end, the subscriber part, the middle). Each tier is one prefix range of an index; the keys
/// carry the sort key, so even a wide prefix (`067`) is put in name order without reading client
/// rows, while inner runs are rarer (three digits: ~0.7% of numbers) and look up the name. The
/// inner tier is skipped for a query typed with `+` (see [`phone::PhoneQuery`]).
fn phone_matches(
    conn: &Connection,
    q: &phone::PhoneQuery,
    needed: usize,
    keep: &mut dyn FnMut(i64) -> Result<bool>,
) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    if let Some(start) = q.start() {
        let mut stmt = conn.prepare_cached(
            "SELECT client_rid FROM phone_keys WHERE key = ?1 ORDER BY sort_key, client_rid",
        )?;
        collect_into(&mut out, stmt.query(params![start])?, needed, &mut *keep)?;
        let mut stmt = conn.prepare_cached(
            "SELECT client_rid FROM phone_keys WHERE key > ?1 AND key < ?2
             ORDER BY sort_key, client_rid",
        )?;
        collect_into(
            &mut out,
            stmt.query(params![start, prefix_end(start)])?,
            needed,
            &mut *keep,
        )?;
    }
    if let Some(inside) = q.inside().filter(|_| out.len() < needed) {
        let mut stmt = conn.prepare_cached(
            "SELECT d.client_rid FROM phone_digits d CROSS JOIN clients c ON c.rid = d.client_rid
             WHERE d.digits >= ?1 AND d.digits < ?2
             ORDER BY c.sort_key, c.rid",
        )?;
        collect_into(
            &mut out,
            stmt.query(params![inside, prefix_end(inside)])?,
            needed,
            &mut *keep,
        )?;
    }
    Ok(out)
}

/// Name and email search in three tiers, each read in an index's order so a page costs about
/// as many rows as it shows: names starting with the whole query; then names with a word
/// starting with the first term; then (terms of three characters or more) names containing it
/// anywhere, through the trigram index. Every other term must occur too: as a word prefix if
/// shorter than three characters, anywhere otherwise.
fn name_matches(
    conn: &Connection,
    q: &str,
    needed: usize,
    keep: &mut dyn FnMut(i64) -> Result<bool>,
) -> Result<Vec<i64>> {
    let terms: Vec<&str> = crate::fold::words(q).collect();
    let Some(first) = terms.first().copied() else {
        return Ok(Vec::new());
    };
    let rest = &terms[1..];
    let mut text_of = conn.prepare_cached("SELECT text FROM client_fts WHERE rowid = ?1")?;
    let mut matches_rest = |rid: i64| -> Result<bool> {
        if !keep(rid)? {
            return Ok(false);
        }
        if rest.is_empty() {
            return Ok(true);
        }
        let text: String = text_of.query_row(params![rid], |r| r.get(0))?;
        Ok(rest.iter().all(|t| {
            if t.chars().count() >= 3 {
                text.contains(t)
            } else {
                crate::fold::words(&text).any(|w| w.starts_with(t))
            }
        }))
    };
    let mut out = Vec::new();

    let mut stmt = conn.prepare_cached(
        "SELECT rid FROM clients WHERE deleted = 0 AND sort_key >= ?1 AND sort_key < ?2
         ORDER BY sort_key, id",
    )?;
    collect_into(
        &mut out,
        stmt.query(params![q, prefix_end(q)])?,
        needed,
        &mut matches_rest,
    )?;

    let mut stmt = conn.prepare_cached(
        "SELECT w.client_rid FROM name_words w CROSS JOIN clients c ON c.rid = w.client_rid
         WHERE w.word >= ?1 AND w.word < ?2 AND c.deleted = 0
         ORDER BY w.word, w.sort_key, w.client_rid",
    )?;
    collect_into(
        &mut out,
        stmt.query(params![first, prefix_end(first)])?,
        needed,
        &mut matches_rest,
    )?;

    let long: Vec<&str> = terms
        .iter()
        .copied()
        .filter(|t| t.chars().count() >= 3)
        .collect();
    if out.len() < needed && !long.is_empty() {
        let expr = long
            .iter()
            .map(|t| fts_phrase(t))
            .collect::<Vec<_>>()
            .join(" AND ");
        let mut stmt = conn.prepare_cached(
            "SELECT f.rowid FROM client_fts f CROSS JOIN clients c ON c.rid = f.rowid
             WHERE client_fts MATCH ?1 AND c.deleted = 0
             ORDER BY c.sort_key, c.id",
        )?;
        collect_into(
            &mut out,
            stmt.query(params![expr])?,
            needed,
            &mut matches_rest,
        )?;
    }
    Ok(out)
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
        } else {
            // Leads are projected as outside the book, but they were never deleted.
            sql += " AND c.lead = 0";
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
        sql += &format!(
            " ORDER BY c.sort_key, c.id LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), client_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Clients matching `query` by name, phone digits or email, best matches first.
    /// A blank query finds nobody (the list is [`Store::list_clients`]).
    pub fn search(&self, query: &str, page: Page) -> Result<Vec<Client>> {
        if query.trim().is_empty() {
            return Ok(Vec::new());
        }
        self.find_clients(query, &ClientFilter::default(), page)
    }

    /// The client list as the apps show it: `query` matched as [`Store::search`] does, within
    /// `filter` (class, tag); a blank query lists the filtered clients in name order.
    pub fn find_clients(
        &self,
        query: &str,
        filter: &ClientFilter,
        page: Page,
    ) -> Result<Vec<Client>> {
        if query.trim().is_empty() {
            return self.list_clients(filter, page);
        }
        let needed = (page.offset + page.limit) as usize;
        let mut class_of = self
            .conn
            .prepare_cached("SELECT class FROM clients WHERE rid = ?1")?;
        let mut has_tag = self
            .conn
            .prepare_cached("SELECT 1 FROM client_tags WHERE client_rid = ?1 AND tag = ?2")?;
        let mut keep = |rid: i64| -> Result<bool> {
            if let Some(class) = &filter.class {
                let got: String = class_of.query_row(params![rid], |r| r.get(0))?;
                if got != class.as_str() {
                    return Ok(false);
                }
            }
            if let Some(tag) = &filter.tag {
                return Ok(has_tag.exists(params![rid, tag.trim()])?);
            }
            Ok(true)
        };
        let rids = match phone::PhoneQuery::parse(query) {
            Some(q) => phone_matches(&self.conn, &q, needed, &mut keep)?,
            None => name_matches(&self.conn, &fold(query), needed, &mut keep)?,
        };
        let now = self.now();
        rids.into_iter()
            .skip(page.offset as usize)
            .map(|rid| client_by_rid(&self.conn, rid, now))
            .collect()
    }

    /// How many clients the book has (tombstones excluded).
    pub fn client_count(&self) -> Result<u64> {
        let n: i64 =
            self.conn
                .query_row("SELECT count(*) FROM clients WHERE deleted = 0", [], |r| {
                    r.get(0)
                })?;
        Ok(n as u64)
    }
}
