//! Visits: booking, editing, status changes and the agenda.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{
    Store,
    clients::{resolve_new, with_client},
    docs, projection,
};
use crate::crdt::client as client_doc;
use crate::error::{Error, Result};
use crate::model::{NewClient, NewVisit, ServiceLine, Visit, VisitPatch, VisitStatus};
use crate::money::apply_discount;

/// Which visits to list. Times are UTC instants; `to` is exclusive.
#[derive(Debug, Clone, Default)]
pub struct VisitFilter {
    pub client: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub status: Option<VisitStatus>,
    pub include_deleted: bool,
}

fn check_lines(services: &[ServiceLine]) -> Result<()> {
    for s in services {
        if s.name.trim().is_empty() {
            return Err(Error::validation("service", "a service needs a name"));
        }
        if s.price < 0 {
            return Err(Error::validation("price", "must not be negative"));
        }
        if s.quantity == 0 {
            return Err(Error::validation("quantity", "must be at least 1"));
        }
    }
    Ok(())
}

fn lines_total(services: &[ServiceLine]) -> Result<i64> {
    services.iter().try_fold(0i64, |acc, s| {
        s.price
            .checked_mul(i64::from(s.quantity))
            .and_then(|x| acc.checked_add(x))
            .ok_or_else(|| Error::validation("total", "too large"))
    })
}

fn check_visit(v: &Visit) -> Result<()> {
    check_lines(&v.services)?;
    if v.duration_min == 0 || v.duration_min > 24 * 60 {
        return Err(Error::validation(
            "duration",
            "must be between 1 minute and 24 hours",
        ));
    }
    if v.total < 0 {
        return Err(Error::validation("total", "must not be negative"));
    }
    if v.paid < 0 {
        return Err(Error::validation("paid", "must not be negative"));
    }
    Ok(())
}

/// A new visit as booked: the total defaults to the service lines less the client's discount.
fn visit_of_new(
    id: Uuid,
    client_id: Uuid,
    new: NewVisit,
    zone: &str,
    discount_percent: u8,
    now: DateTime<Utc>,
) -> Result<Visit> {
    check_lines(&new.services)?;
    let total = match new.total {
        Some(t) => t,
        None => apply_discount(lines_total(&new.services)?, discount_percent),
    };
    let visit = Visit {
        id,
        client_id,
        start: new.start,
        zone: zone.to_string(),
        duration_min: new.duration_min,
        services: new.services,
        total,
        paid: new.paid,
        status: new.status,
        staff_id: new.staff_id,
        note: new.note.filter(|n| !n.trim().is_empty()),
        reminder: new.reminder,
        repeat_after_days: new.repeat_after_days,
        created_at: now,
        updated_at: now,
        deleted: false,
    };
    check_visit(&visit)?;
    Ok(visit)
}

impl Store {
    /// The UTC instant of a wall-clock time in the business's zone. A time that does not exist
    /// (the hour skipped when clocks go forward) is an error; a time that exists twice (clocks
    /// go back) is the first of the two.
    pub fn local_to_utc(&self, local: NaiveDateTime) -> Result<DateTime<Utc>> {
        let zone = self.ctx()?.zone;
        match zone.from_local_datetime(&local) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
            LocalResult::None => Err(Error::validation(
                "time",
                format!("{local} does not exist in {zone} (clocks go forward)"),
            )),
        }
    }

    /// Books a visit. Without an explicit total, the total is the sum of the service lines less
    /// the client's discount.
    pub fn add_visit(&mut self, new: NewVisit) -> Result<Visit> {
        let zone = self.ctx()?.zone.name().to_string();
        let now = self.now();
        let id = Uuid::now_v7();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, new.client_id, |doc, rec| {
            let client = new.client_id;
            let visit = visit_of_new(id, client, new, &zone, rec.card.discount_percent, now)?;
            client_doc::put_visit(doc, client, None, &visit, now)
        })?;
        self.checkpointer.commit(tx)?;
        self.get_visit(id)
    }

    /// Brings in clients with their past visits (a client base moving from another app, or a
    /// restored backup): one transaction for the whole batch, all or nothing. Each visit is its
    /// own change in the client's document, as if booked one by one; `client_id` of the visits
    /// is ignored.
    pub fn import_history(&mut self, items: Vec<(NewClient, Vec<NewVisit>)>) -> Result<Vec<Uuid>> {
        let ctx = self.ctx()?.clone();
        let zone = ctx.zone.name().to_string();
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(items.len());
        for (new, visits) in items {
            let card = resolve_new(&ctx, new)?;
            let id = Uuid::now_v7();
            let mut doc = client_doc::create(self.actor.clone(), id, &card, now)?;
            for nv in visits {
                let visit =
                    visit_of_new(Uuid::now_v7(), id, nv, &zone, card.discount_percent, now)?;
                client_doc::put_visit(&mut doc, id, None, &visit, now)?;
            }
            docs::save(&tx, id, docs::Kind::Client, &doc)?;
            projection::project_client(&tx, &client_doc::read(&doc, id)?, true)?;
            ids.push(id);
        }
        self.checkpointer.commit(tx)?;
        Ok(ids)
    }

    /// Edits a visit. Changing the services without an explicit total recomputes the total.
    pub fn update_visit(&mut self, id: Uuid, patch: VisitPatch) -> Result<Visit> {
        let client =
            client_of_visit(&self.conn, id)?.ok_or(Error::NotFound { kind: "visit", id })?;
        let now = self.now();
        let author = self.author()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, client, |doc, rec| {
            let old = rec
                .visits
                .iter()
                .find(|v| v.id == id)
                .ok_or(Error::NotFound { kind: "visit", id })?;
            let mut v = old.clone();
            if let Some(s) = patch.start {
                v.start = s;
            }
            if let Some(d) = patch.duration_min {
                v.duration_min = d;
            }
            if let Some(s) = patch.services {
                check_lines(&s)?;
                if patch.total.is_none() {
                    v.total = apply_discount(lines_total(&s)?, rec.card.discount_percent);
                }
                v.services = s;
            }
            if let Some(t) = patch.total {
                v.total = t;
            }
            if let Some(p) = patch.paid {
                v.paid = p;
            }
            if let Some(s) = patch.status {
                v.status = s;
            }
            if let Some(s) = patch.staff_id {
                v.staff_id = s;
            }
            if let Some(n) = patch.note {
                v.note = n.filter(|n| !n.trim().is_empty());
            }
            if let Some(r) = patch.reminder {
                v.reminder = r;
            }
            if let Some(r) = patch.repeat_after_days {
                v.repeat_after_days = r;
            }
            if let Some(d) = patch.deleted {
                v.deleted = d;
            }
            check_visit(&v)?;
            if v.start != old.start {
                super::conflicts::name_author(doc, &author, now)?;
            }
            if &v != old {
                client_doc::put_visit(doc, client, Some(old), &v, now)?;
            }
            Ok(())
        })?;
        self.checkpointer.commit(tx)?;
        self.get_visit(id)
    }

    pub fn set_visit_status(&mut self, id: Uuid, status: VisitStatus) -> Result<Visit> {
        self.update_visit(
            id,
            VisitPatch {
                status: Some(status),
                ..Default::default()
            },
        )
    }

    pub fn reschedule_visit(
        &mut self,
        id: Uuid,
        start: DateTime<Utc>,
        duration_min: Option<u32>,
    ) -> Result<Visit> {
        self.update_visit(
            id,
            VisitPatch {
                start: Some(start),
                duration_min,
                ..Default::default()
            },
        )
    }

    pub fn get_visit(&self, id: Uuid) -> Result<Visit> {
        let sql = format!("{VISIT_SELECT} WHERE v.id = ?1");
        self.conn
            .prepare_cached(&sql)?
            .query_row(params![id], visit_from_row)
            .optional()?
            .ok_or(Error::NotFound { kind: "visit", id })
    }

    /// Visits in start order, filtered; the agenda of a day or week is a `from`/`to` range.
    pub fn list_visits(&self, f: &VisitFilter) -> Result<Vec<Visit>> {
        let mut sql = format!("{VISIT_SELECT} WHERE 1 = 1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(c) = f.client {
            args.push(c.as_bytes().to_vec().into());
            sql += &format!(" AND c.id = ?{}", args.len());
        }
        if let Some(from) = f.from {
            args.push(from.timestamp_millis().into());
            sql += &format!(" AND v.start_at >= ?{}", args.len());
        }
        if let Some(to) = f.to {
            args.push(to.timestamp_millis().into());
            sql += &format!(" AND v.start_at < ?{}", args.len());
        }
        if let Some(s) = f.status {
            args.push(s.as_str().to_string().into());
            sql += &format!(" AND v.status = ?{}", args.len());
        }
        if !f.include_deleted {
            sql += " AND v.deleted = 0";
        }
        sql += " ORDER BY v.start_at, v.id";
        let mut stmt = self.conn.prepare(&sql)?;
        let visits = stmt
            .query_map(rusqlite::params_from_iter(args), visit_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(visits)
    }
}

fn client_of_visit(conn: &Connection, visit: Uuid) -> Result<Option<Uuid>> {
    Ok(conn
        .prepare_cached(
            "SELECT c.id FROM visits v JOIN clients c ON c.rid = v.client_rid WHERE v.id = ?1",
        )?
        .query_row(params![visit], |r| r.get(0))
        .optional()?)
}

const VISIT_SELECT: &str = "SELECT v.id, c.id, v.start_at, v.zone, v.duration_min, v.services,
    v.total, v.paid, v.status, v.staff_id, v.note, v.reminder, v.repeat_after_days, v.created_at,
    v.updated_at, v.deleted
    FROM visits v JOIN clients c ON c.rid = v.client_rid";

fn ms(t: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(t).single().unwrap_or_default()
}

fn visit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Visit> {
    use crate::model::ReminderOverride;
    let services: String = r.get(5)?;
    let status: String = r.get(8)?;
    let reminder: Option<i64> = r.get(11)?;
    Ok(Visit {
        id: r.get(0)?,
        client_id: r.get(1)?,
        start: ms(r.get(2)?),
        zone: r.get(3)?,
        duration_min: r.get(4)?,
        services: serde_json::from_str(&services).unwrap_or_default(),
        total: r.get(6)?,
        paid: r.get(7)?,
        status: status.parse().unwrap_or(VisitStatus::Booked),
        staff_id: r.get(9)?,
        note: r.get(10)?,
        reminder: match reminder {
            None => ReminderOverride::Default,
            Some(m) if m < 0 => ReminderOverride::Off,
            Some(m) => ReminderOverride::MinutesBefore(m as u32),
        },
        repeat_after_days: r.get(12)?,
        created_at: ms(r.get(13)?),
        updated_at: ms(r.get(14)?),
        deleted: r.get(15)?,
    })
}
