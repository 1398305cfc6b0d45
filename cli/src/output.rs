//! What the commands print: text for people, JSON (`--json`) for machines. The JSON shapes are
//! the core's serialised types and are documented in cli/README.md.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use kartka_core::model::{
    Business, Client, ClientClass, ConsentState, StaffMember, Visit, WEEKDAYS, format_day_hours,
};
use kartka_core::store::{Conflict, ConflictField, FieldValue};
use kartka_core::{Store, money};
use serde_json::{Value, json};
use uuid::Uuid;

pub struct Out {
    pub json: bool,
}

pub(crate) fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).expect("serialisable"));
}

pub(crate) fn local(t: DateTime<Utc>, zone: Option<Tz>) -> String {
    match zone {
        Some(z) => t.with_timezone(&z).format("%Y-%m-%d %H:%M").to_string(),
        None => t.format("%Y-%m-%d %H:%MZ").to_string(),
    }
}

fn amount(store: &Store, minor: i64) -> String {
    match store.currency() {
        Ok(c) => format!("{} {}", money::format_minor(minor, c), c.code()),
        Err(_) => minor.to_string(),
    }
}

/// Consent as `{"sms": true, …}` objects rather than lists of pairs.
pub fn consent_json(c: &ConsentState) -> Value {
    let channels: serde_json::Map<String, Value> = c
        .channels
        .iter()
        .map(|(ch, g)| (ch.as_str().to_string(), Value::Bool(*g)))
        .collect();
    let notifications: serde_json::Map<String, Value> = c
        .notifications
        .iter()
        .map(|(n, on)| (n.as_str().to_string(), Value::Bool(*on)))
        .collect();
    json!({ "channels": channels, "notifications": notifications, "evidence": c.evidence })
}

impl Out {
    pub fn id(&self, id: Uuid) {
        if self.json {
            print_json(&json!({ "id": id }));
        } else {
            println!("{id}");
        }
    }

    pub fn done(&self, what: &str, id: Uuid) {
        if self.json {
            print_json(&json!({ "id": id, "result": what }));
        } else {
            println!("{what} {id}");
        }
    }

    pub fn whoami(&self, device: Uuid, staff: Option<Uuid>) {
        if self.json {
            print_json(&json!({ "device": device, "staff": staff }));
        } else {
            println!("device {device}");
            println!(
                "staff  {}",
                staff.map_or("(none)".to_string(), |s| s.to_string())
            );
        }
    }

    pub fn business(&self, b: &Business) {
        if self.json {
            return print_json(b);
        }
        println!("{}  ({})", b.name, b.id);
        println!(
            "region {} · zone {} · currency {} · locale {}",
            b.region, b.zone, b.currency, b.locale
        );
        if let Some(p) = &b.phone {
            println!("phone {p}");
        }
        let hours: Vec<String> = WEEKDAYS
            .iter()
            .zip(b.working_hours.iter())
            .map(|(d, h)| format!("{d} {}", format_day_hours(h)))
            .collect();
        println!("hours {}", hours.join(" · "));
        if !b.staff.is_empty() {
            println!(
                "staff {}",
                b.staff
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }

    pub fn staff(&self, staff: &[StaffMember]) {
        if self.json {
            return print_json(&staff);
        }
        for s in staff {
            println!(
                "{}  {}{}",
                s.id,
                s.name,
                if s.active { "" } else { " (inactive)" }
            );
        }
    }

    pub fn clients(&self, store: &Store, clients: &[Client]) {
        if self.json {
            return print_json(&clients);
        }
        for c in clients {
            let phone = c
                .phones
                .first()
                .map(|p| p.e164.clone().unwrap_or_else(|| p.raw.clone()));
            let vip = if c.class == ClientClass::Vip {
                "★ "
            } else {
                ""
            };
            let class = match &c.class {
                ClientClass::Custom(label) => format!("  [{label}]"),
                _ => String::new(),
            };
            let deleted = if c.deleted { "  (deleted)" } else { "" };
            println!(
                "{}  {vip}{}  {}{class}{deleted}",
                c.id,
                c.name,
                phone.unwrap_or_default()
            );
        }
        if clients.is_empty() {
            println!("(no clients)");
        }
        let _ = store;
    }

    pub fn client(&self, store: &Store, c: &Client) {
        if self.json {
            return print_json(c);
        }
        let zone = store.zone().ok();
        let vip = if c.class == ClientClass::Vip {
            " ★ VIP"
        } else {
            ""
        };
        println!(
            "{}{vip}{}",
            c.name,
            if c.deleted { "  (deleted)" } else { "" }
        );
        println!("id       {}", c.id);
        for p in &c.phones {
            let shown = match (&p.e164, p.extension()) {
                (Some(e), Some(ext)) => format!("{e} ext. {ext}"),
                (Some(e), None) => e.clone(),
                (None, _) => format!("{} (not a dialable number)", p.raw),
            };
            println!(
                "phone    {shown}  {}{}",
                p.label,
                if p.primary { ", primary" } else { "" }
            );
        }
        if let Some(e) = &c.email {
            println!("email    {e}");
        }
        if let Some(b) = &c.birthday {
            println!("birthday {b}");
        }
        println!("class    {}", c.class.as_str());
        if !c.tags.is_empty() {
            println!("tags     {}", c.tags.join(", "));
        }
        if let Some(l) = &c.loyalty_card {
            println!("card     {l}");
        }
        if c.discount_percent > 0 {
            println!("discount {}%", c.discount_percent);
        }
        if let Some(comment) = &c.comment {
            println!("comment  {comment}");
        }
        let consent: Vec<String> = c
            .consent
            .iter()
            .map(|(ch, g)| format!("{ch} {}", if *g { "✓" } else { "✗" }))
            .collect();
        println!("consent  {}", consent.join("  "));
        let s = &c.stats;
        println!(
            "visits   {} · sold {} · paid {} · balance {}",
            s.visits,
            amount(store, s.sold),
            amount(store, s.paid),
            amount(store, s.balance)
        );
        if let Some(t) = s.last_visit {
            println!("last     {}", local(t, zone));
        }
        if let Some(t) = s.next_visit {
            println!("next     {}", local(t, zone));
        }
    }

    /// The card, then the fields devices changed apart (in JSON: the client's object with a
    /// `conflicts` array, empty when there are none).
    pub fn client_with_conflicts(&self, store: &Store, c: &Client, conflicts: &[Conflict]) {
        if self.json {
            let mut v = serde_json::to_value(c).expect("serialisable");
            if let Value::Object(m) = &mut v {
                m.insert(
                    "conflicts".into(),
                    Value::Array(conflicts.iter().map(conflict_json).collect()),
                );
            }
            return print_json(&v);
        }
        self.client(store, c);
        let zone = store.zone().ok();
        for k in conflicts {
            let shown = match k.current {
                Some(_) => "one is shown (marked *), the others are kept here until you choose",
                None => "every number of both is kept on the card until you choose",
            };
            println!(
                "conflict {}: changed on two devices at once; {shown}",
                k.field
            );
            for (i, v) in k.values.iter().enumerate() {
                let value = match &v.value {
                    FieldValue::Time(t) => local(*t, zone),
                    other => other.display(),
                };
                let mark = if k.current == Some(i) { "*" } else { " " };
                println!("  {mark}{i}  {value}  — by {}", v.author.display());
            }
            let all = if k.field == ConflictField::Phones {
                " (or --keep all)"
            } else {
                ""
            };
            println!(
                "  settle: kartka client settle {} {} --keep N{all}",
                c.id, k.field
            );
        }
    }

    pub fn consent(&self, c: &ConsentState) {
        if self.json {
            return print_json(&consent_json(c));
        }
        let line = |items: Vec<(String, bool)>| {
            items
                .iter()
                .map(|(k, g)| format!("{k} {}", if *g { "✓" } else { "✗" }))
                .collect::<Vec<_>>()
                .join("  ")
        };
        println!(
            "channels      {}",
            line(
                c.channels
                    .iter()
                    .map(|(k, g)| (k.to_string(), *g))
                    .collect()
            )
        );
        println!(
            "notifications {}",
            line(
                c.notifications
                    .iter()
                    .map(|(k, g)| (k.to_string(), *g))
                    .collect()
            )
        );
        for e in &c.evidence {
            println!(
                "{}  {} {}  source {}{}",
                e.at.format("%Y-%m-%d %H:%MZ"),
                e.subject.key(),
                if e.granted { "granted" } else { "withdrawn" },
                e.source,
                if e.note.is_empty() {
                    String::new()
                } else {
                    format!("  «{}»", e.note)
                }
            );
        }
    }

    pub fn visit(&self, store: &Store, v: &Visit) {
        if self.json {
            return print_json(v);
        }
        let zone: Option<Tz> = v.zone.parse().ok();
        println!(
            "{}  {}  {} min  {}",
            v.id,
            local(v.start, zone),
            v.duration_min,
            v.status
        );
        for s in &v.services {
            let qty = if s.quantity > 1 {
                format!(" × {}", s.quantity)
            } else {
                String::new()
            };
            println!("  {}  {}{qty}", s.name, amount(store, s.price));
        }
        println!(
            "  total {} · paid {}",
            amount(store, v.total),
            amount(store, v.paid)
        );
        if let Some(n) = &v.note {
            println!("  note {n}");
        }
    }

    pub fn visits(&self, store: &Store, visits: &[Visit]) {
        if self.json {
            return print_json(&visits);
        }
        for v in visits {
            let zone: Option<Tz> = v.zone.parse().ok();
            let name = store
                .get_client(v.client_id)
                .map(|c| c.name)
                .unwrap_or_default();
            let services: Vec<&str> = v.services.iter().map(|s| s.name.as_str()).collect();
            println!(
                "{}  {}  {}  {}  {}  {}",
                v.id,
                local(v.start, zone),
                name,
                services.join(", "),
                amount(store, v.total),
                v.status
            );
        }
        if visits.is_empty() {
            println!("(no visits)");
        }
    }
}

/// The numbers a new phone reader read differently on upgrade, told once on stderr (whatever the
/// command, so JSON on stdout stays clean): the master checks those clients' cards.
pub fn phone_corrections(store: &mut Store) -> kartka_core::Result<()> {
    let found = store.phone_corrections()?;
    if found.is_empty() {
        return Ok(());
    }
    let shown = |e: &Option<String>| e.clone().unwrap_or_else(|| "not a number".into());
    eprintln!(
        "{} phone number(s) read again with the new reader; please check these cards:",
        found.len()
    );
    for c in &found {
        eprintln!(
            "  {}  {}: {} → {}  ({})",
            c.client,
            c.name,
            shown(&c.was),
            shown(&c.now),
            c.raw
        );
    }
    store.mark_phone_corrections_seen()
}

fn conflict_json(k: &Conflict) -> Value {
    let values: Vec<Value> = k
        .values
        .iter()
        .map(|v| {
            let value = match &v.value {
                FieldValue::Text(s) | FieldValue::Birthday(s) => json!(s),
                FieldValue::Phones(list) => json!(
                    list.iter()
                        .map(|p| json!({"raw": p.raw, "label": p.label}))
                        .collect::<Vec<_>>()
                ),
                FieldValue::Time(t) => json!(t.to_rfc3339()),
            };
            json!({
                "value": value,
                "display": v.value.display(),
                "by": {
                    "device": v.author.device,
                    "this_device": v.author.this_device,
                    "name": v.author.name,
                },
            })
        })
        .collect();
    json!({"field": k.field.key(), "current": k.current, "values": values})
}
