//! The business document: settings every device edits offline (name, region, zone, currency,
//! working hours, staff, templates, notification rules).
//!
//! ```text
//! ROOT { schema, kind: "business", id, name, region, zone, currency, locale, phone?, telegram_bot?,
//!        hours:     { mon..sun → "09:00-13:00,14:00-19:00" | "closed" },
//!        staff:     { <id> → { name, phone?, email?, telegram?, devices?, active } },
//!        templates: { <id> → { name, channel?, body, whatsapp? } },
//!        rules:     { <id> → { name, trigger, offset, channels, template?, wh_only, statuses,
//!                              enabled, per_channel? ("sms=<template id>,email=…"),
//!                              staff? ("*" or "<id>,<id>": alerts staff, not the client) } },
//!        "mailing:<id>" → { name, ch, text, class?, tag?, before?, after?, bmonth?, start,
//!                           created, staff?, cancelled? } }
//! ```
//! A weekday's hours are one value: the master edits a day as a whole. Mailings are prefixed
//! root keys, as a client's collections are: a business document made before mailings existed
//! has no map for them, and two devices each creating one would hide each other's.

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjType, ROOT};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{MapReader, SCHEMA_VERSION, change, existing_map, put_opt_str, put_time};
use crate::error::{Error, Result};
use crate::model::{
    Audience, Business, Channel, ClientClass, Mailing, NewBusiness, Rule, StaffMember, Template,
    VisitStatus, WEEKDAYS, WeekHours, format_day_hours, parse_day_hours,
};

pub fn create(actor: ActorId, id: Uuid, b: &NewBusiness, at: DateTime<Utc>) -> Result<Automerge> {
    let mut doc = Automerge::new().with_actor(actor);
    change(&mut doc, at, |tx| {
        tx.put(ROOT, "schema", SCHEMA_VERSION)?;
        tx.put(ROOT, "kind", "business")?;
        tx.put(ROOT, "id", id.to_string())?;
        tx.put(ROOT, "name", b.name.as_str())?;
        tx.put(ROOT, "region", b.region.as_str())?;
        tx.put(ROOT, "zone", b.zone.as_str())?;
        tx.put(ROOT, "currency", b.currency.as_str())?;
        tx.put(ROOT, "locale", b.locale.as_deref().unwrap_or("en"))?;
        let hours = tx.put_object(ROOT, "hours", ObjType::Map)?;
        for (i, day) in WEEKDAYS.iter().enumerate() {
            // A sensible first week: Monday to Saturday, 9 to 19.
            tx.put(&hours, *day, if i < 6 { "09:00-19:00" } else { "closed" })?;
        }
        for key in ["staff", "templates", "rules"] {
            tx.put_object(ROOT, key, ObjType::Map)?;
        }
        Ok(())
    })?;
    Ok(doc)
}

/// A change to the settings. Each variant touches only its own keys.
#[derive(Debug, Clone)]
pub enum SettingsEdit {
    Name(String),
    Region(String),
    Zone(String),
    Currency(String),
    Locale(String),
    Phone(Option<String>),
    TelegramBot(Option<String>),
    Hours { weekday: usize, hours: String },
    PutStaff(StaffMember),
    PutTemplate(Template),
    RemoveTemplate(Uuid),
    PutRule(Rule),
    RemoveRule(Uuid),
    PutMailing(Mailing),
    CancelMailing(Uuid),
}

const MAILING: &str = "mailing:";

pub fn edit(doc: &mut Automerge, id: Uuid, edit: &SettingsEdit, at: DateTime<Utc>) -> Result<()> {
    change(doc, at, |tx| {
        match edit {
            SettingsEdit::Name(v) => tx.put(ROOT, "name", v.as_str())?,
            SettingsEdit::Region(v) => tx.put(ROOT, "region", v.as_str())?,
            SettingsEdit::Zone(v) => tx.put(ROOT, "zone", v.as_str())?,
            SettingsEdit::Currency(v) => tx.put(ROOT, "currency", v.as_str())?,
            SettingsEdit::Locale(v) => tx.put(ROOT, "locale", v.as_str())?,
            SettingsEdit::Phone(v) => put_opt_str(tx, &ROOT, "phone", v.as_deref())?,
            SettingsEdit::TelegramBot(v) => put_opt_str(tx, &ROOT, "telegram_bot", v.as_deref())?,
            SettingsEdit::Hours { weekday, hours } => {
                let day = WEEKDAYS.get(*weekday).ok_or_else(|| {
                    Error::validation("weekday", "expected mon, tue, wed, thu, fri, sat or sun")
                })?;
                let h = existing_map(tx, &ROOT, "hours", id)?;
                tx.put(&h, *day, format_day_hours(&parse_day_hours(hours)?))?;
            }
            SettingsEdit::PutStaff(s) => {
                let staff = existing_map(tx, &ROOT, "staff", id)?;
                let o = tx.put_object(&staff, s.id.to_string(), ObjType::Map)?;
                tx.put(&o, "name", s.name.as_str())?;
                put_opt_str(tx, &o, "phone", s.phone.as_deref())?;
                put_opt_str(tx, &o, "email", s.email.as_deref())?;
                put_opt_str(tx, &o, "telegram", s.telegram.as_deref())?;
                let devices: Vec<String> = s.devices.iter().map(Uuid::to_string).collect();
                put_opt_str(
                    tx,
                    &o,
                    "devices",
                    Some(devices.join(",")).filter(|d| !d.is_empty()).as_deref(),
                )?;
                tx.put(&o, "active", s.active)?;
            }
            SettingsEdit::PutTemplate(t) => {
                let templates = existing_map(tx, &ROOT, "templates", id)?;
                let o = tx.put_object(&templates, t.id.to_string(), ObjType::Map)?;
                tx.put(&o, "name", t.name.as_str())?;
                put_opt_str(tx, &o, "channel", t.channel.map(|c| c.as_str()))?;
                tx.put(&o, "body", t.body.as_str())?;
                put_opt_str(tx, &o, "whatsapp", t.whatsapp.as_deref())?;
            }
            SettingsEdit::RemoveTemplate(t) => {
                let templates = existing_map(tx, &ROOT, "templates", id)?;
                tx.delete(&templates, t.to_string())?;
            }
            SettingsEdit::PutRule(r) => {
                let rules = existing_map(tx, &ROOT, "rules", id)?;
                let o = tx.put_object(&rules, r.id.to_string(), ObjType::Map)?;
                tx.put(&o, "name", r.name.as_str())?;
                tx.put(&o, "trigger", r.trigger.as_str())?;
                tx.put(&o, "offset", r.offset_min)?;
                tx.put(&o, "channels", join(r.channels.iter().map(|c| c.as_str())))?;
                put_opt_str(
                    tx,
                    &o,
                    "template",
                    r.template_id.map(|t| t.to_string()).as_deref(),
                )?;
                tx.put(&o, "wh_only", r.working_hours_only)?;
                tx.put(&o, "statuses", join(r.statuses.iter().map(|s| s.as_str())))?;
                tx.put(&o, "enabled", r.enabled)?;
                let per_channel: Vec<String> = r
                    .channel_templates
                    .iter()
                    .map(|(c, t)| format!("{c}={t}"))
                    .collect();
                put_opt_str(
                    tx,
                    &o,
                    "per_channel",
                    Some(per_channel.join(","))
                        .filter(|s| !s.is_empty())
                        .as_deref(),
                )?;
                let staff = r.staff.as_ref().map(|ids| {
                    if ids.is_empty() {
                        "*".to_string()
                    } else {
                        join(
                            ids.iter()
                                .map(Uuid::to_string)
                                .collect::<Vec<_>>()
                                .iter()
                                .map(String::as_str),
                        )
                    }
                });
                put_opt_str(tx, &o, "staff", staff.as_deref())?;
            }
            SettingsEdit::RemoveRule(r) => {
                let rules = existing_map(tx, &ROOT, "rules", id)?;
                tx.delete(&rules, r.to_string())?;
            }
            SettingsEdit::PutMailing(m) => {
                let o = tx.put_object(ROOT, format!("{MAILING}{}", m.id), ObjType::Map)?;
                tx.put(&o, "name", m.name.as_str())?;
                tx.put(&o, "ch", m.channel.as_str())?;
                tx.put(&o, "text", m.text.as_str())?;
                let a = &m.audience;
                put_opt_str(tx, &o, "class", a.class.as_ref().map(|c| c.as_str()))?;
                put_opt_str(tx, &o, "tag", a.tag.as_deref())?;
                if let Some(t) = a.last_visit_before {
                    put_time(tx, &o, "before", t)?;
                }
                if let Some(t) = a.last_visit_after {
                    put_time(tx, &o, "after", t)?;
                }
                if let Some(month) = a.birthday_month {
                    tx.put(&o, "bmonth", i64::from(month))?;
                }
                put_time(tx, &o, "start", m.start)?;
                put_time(tx, &o, "created", m.created_at)?;
                put_opt_str(
                    tx,
                    &o,
                    "staff",
                    m.staff_id.map(|s| s.to_string()).as_deref(),
                )?;
                tx.put(&o, "cancelled", m.cancelled)?;
            }
            SettingsEdit::CancelMailing(m) => {
                let key = format!("{MAILING}{m}");
                let o = existing_map(tx, &ROOT, &key, id)?;
                tx.put(&o, "cancelled", true)?;
            }
        }
        Ok(())
    })
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(",")
}

fn split<T: std::str::FromStr>(s: Option<String>) -> Vec<T> {
    s.unwrap_or_default()
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect()
}

pub fn read(doc: &Automerge, expected_id: Uuid) -> Result<Business> {
    let root = MapReader::root(doc);
    if root.str("kind").as_deref() != Some("business") || root.uuid("id") != Some(expected_id) {
        return Err(Error::CorruptDocument {
            id: expected_id,
            reason: "not this business's settings document".into(),
        });
    }
    let mut working_hours: WeekHours = Default::default();
    if let Some(h) = root.map("hours") {
        for (i, day) in WEEKDAYS.iter().enumerate() {
            working_hours[i] = h
                .str(day)
                .and_then(|s| parse_day_hours(&s).ok())
                .unwrap_or_default();
        }
    }
    let entries = |key: &str| -> Vec<(Uuid, MapReader<'_, Automerge>)> {
        let Some(m) = root.map(key) else {
            return Vec::new();
        };
        let mut v: Vec<_> = m
            .keys()
            .into_iter()
            .filter_map(|k| Some((Uuid::parse_str(&k).ok()?, m.map(&k)?)))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v
    };
    let staff = entries("staff")
        .into_iter()
        .map(|(id, s)| StaffMember {
            id,
            name: s.str("name").unwrap_or_default(),
            phone: s.str("phone"),
            email: s.str("email"),
            telegram: s.str("telegram"),
            devices: split::<Uuid>(s.str("devices")),
            active: s.bool("active").unwrap_or(true),
        })
        .collect();
    let templates = entries("templates")
        .into_iter()
        .map(|(id, t)| Template {
            id,
            name: t.str("name").unwrap_or_default(),
            channel: t.str("channel").and_then(|c| c.parse::<Channel>().ok()),
            body: t.str("body").unwrap_or_default(),
            whatsapp: t.str("whatsapp"),
        })
        .collect();
    let rules = entries("rules")
        .into_iter()
        .map(|(id, r)| Rule {
            id,
            name: r.str("name").unwrap_or_default(),
            trigger: r.str("trigger").unwrap_or_default(),
            offset_min: r.i64("offset").unwrap_or(0),
            channels: split::<Channel>(r.str("channels")),
            template_id: r.uuid("template"),
            working_hours_only: r.bool("wh_only").unwrap_or(true),
            statuses: split::<VisitStatus>(r.str("statuses")),
            enabled: r.bool("enabled").unwrap_or(true),
            channel_templates: r
                .str("per_channel")
                .unwrap_or_default()
                .split(',')
                .filter_map(|pair| {
                    let (c, t) = pair.split_once('=')?;
                    Some((c.parse().ok()?, t.parse().ok()?))
                })
                .collect(),
            staff: r.str("staff").map(|s| {
                if s == "*" {
                    Vec::new()
                } else {
                    split::<Uuid>(Some(s))
                }
            }),
        })
        .collect();
    let mut mailings: Vec<Mailing> = root
        .prefixed(MAILING)
        .into_iter()
        .filter_map(|(k, full)| {
            let m = root.map(&full)?;
            let created_at = m.time("created")?;
            Some(Mailing {
                id: Uuid::parse_str(&k).ok()?,
                name: m.str("name").unwrap_or_default(),
                channel: m.str("ch")?.parse().ok()?,
                text: m.str("text").unwrap_or_default(),
                audience: Audience {
                    class: m.str("class").and_then(|c| ClientClass::parse(&c).ok()),
                    tag: m.str("tag"),
                    last_visit_before: m.time("before"),
                    last_visit_after: m.time("after"),
                    birthday_month: m.i64("bmonth").and_then(|b| u32::try_from(b).ok()),
                },
                start: m.time("start").unwrap_or(created_at),
                created_at,
                staff_id: m.uuid("staff"),
                cancelled: m.bool("cancelled").unwrap_or(false),
            })
        })
        .collect();
    mailings.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok(Business {
        id: expected_id,
        name: root.str("name").unwrap_or_default(),
        region: root.str("region").unwrap_or_else(|| "UA".into()),
        zone: root.str("zone").unwrap_or_else(|| "UTC".into()),
        currency: root.str("currency").unwrap_or_else(|| "UAH".into()),
        locale: root.str("locale").unwrap_or_else(|| "en".into()),
        phone: root.str("phone"),
        telegram_bot: root.str("telegram_bot"),
        working_hours,
        staff,
        templates,
        rules,
        mailings,
    })
}
