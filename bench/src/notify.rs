//! Notification figures (BENCHMARKS.md, "Notifications"):
//! - a burst: N messages due at the same instant, dispatched by the server's own loops to a
//!   Twilio-shaped provider on loopback; time until the provider has them all, and lateness
//!   (claim − due) per message. SQLite, and PostgreSQL with one and two dispatchers;
//! - a steady load: N messages due evenly over ten seconds; lateness per message;
//! - re-deriving the schedule after one visit edit, in a business of 50,000 clients and
//!   500,000 visits (the `store` benchmark's book).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kartka_core::Store;
use kartka_core::crdt::business::SettingsEdit;
use kartka_core::model::{
    Channel, ConsentSource, ConsentSubject, NewBusiness, NewClient, NewVisit, ReminderOverride,
    Rule, Template, VisitPatch, VisitStatus,
};
use kartka_core::sync::wire::Chunk;
use kartka_server::config::{Gateways, Notify};
use kartka_server::metrics::Metrics;
use kartka_server::notify::doubles::Providers;
use kartka_server::notify::{self, Clock, Notifier};
use kartka_server::storage::outbox::Outbox;
use kartka_server::storage::postgres::PgStorage;
use kartka_server::storage::sqlite::SqliteStorage;
use kartka_server::storage::{NewDevice, Storage};
use rand::{Rng, SeedableRng};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Serialize)]
pub struct Burst {
    pub backend: String,
    pub dispatchers: usize,
    pub messages: usize,
    /// From the due instant to the provider holding every message.
    pub seconds: f64,
    pub per_second: f64,
    pub lateness_p50_ms: i64,
    pub lateness_p99_ms: i64,
    pub lateness_max_ms: i64,
}

#[derive(Debug, Serialize)]
pub struct Derive {
    pub clients: usize,
    pub visits: usize,
    /// The first schedule of the whole business (a sweep over every client).
    pub initial_seconds: f64,
    pub messages_scheduled: usize,
    pub edit_p50_ms: f64,
    pub edit_p99_ms: f64,
}

/// A clock that can be frozen at an instant, then set running from any instant.
#[derive(Clone, Default)]
struct SimClock {
    /// Milliseconds added to the real time.
    offset: Arc<AtomicI64>,
}

impl SimClock {
    fn clock(&self) -> Clock {
        let o = self.offset.clone();
        Arc::new(move || {
            DateTime::from_timestamp_millis(
                Utc::now().timestamp_millis() + o.load(Ordering::SeqCst),
            )
            .unwrap()
        })
    }

    /// From now on, "now" is `t` (and runs on).
    fn set(&self, t: DateTime<Utc>) {
        self.offset.store(
            t.timestamp_millis() - Utc::now().timestamp_millis(),
            Ordering::SeqCst,
        );
    }
}

fn gateways(url: &str) -> Gateways {
    let c: kartka_server::Config = toml::from_str(&format!(
        r#"
        [gateways.sms]
        kind = "twilio"
        base_url = "{url}"
        account_sid = "AC1"
        auth_token = "t"
        from = "+15550000001"
        rate_per_second = 100000
        "#
    ))
    .unwrap();
    c.gateways
}

/// A book of `n` consenting clients with one visit each; `rule` is added to it.
fn book(
    dir: &Path,
    n: usize,
    visit_start: impl Fn(usize) -> DateTime<Utc>,
    rule: (&str, i64),
) -> Store {
    let path = dir.join("notify-burst-book.db");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let mut s = Store::open(&path).unwrap();
    s.init_business(NewBusiness {
        name: "Бенчмарк".into(),
        region: "UA".into(),
        zone: "Europe/Kyiv".into(),
        currency: "UAH".into(),
        locale: Some("uk".into()),
    })
    .unwrap();
    let t = Uuid::now_v7();
    s.edit_business(SettingsEdit::PutTemplate(Template {
        id: t,
        name: "Нагадування".into(),
        channel: None,
        body: "{client_first_name}, нагадуємо: {visit_date} о {visit_time}".into(),
        whatsapp: None,
    }))
    .unwrap();
    s.edit_business(SettingsEdit::PutRule(Rule {
        id: Uuid::now_v7(),
        name: rule.0.into(),
        trigger: rule.0.into(),
        offset_min: rule.1,
        channels: vec![Channel::Sms],
        template_id: Some(t),
        channel_templates: vec![],
        working_hours_only: false,
        statuses: vec![],
        enabled: true,
        staff: None,
    }))
    .unwrap();
    let ids = s
        .create_clients(
            (0..n)
                .map(|i| NewClient {
                    name: format!("Клієнтка {i}"),
                    phones: vec![(format!("+38050{i:07}"), String::new())],
                    ..Default::default()
                })
                .collect(),
        )
        .unwrap();
    for (i, id) in ids.into_iter().enumerate() {
        s.set_consent(
            id,
            ConsentSubject::Channel(Channel::Sms),
            true,
            ConsentSource::Written,
            "",
        )
        .unwrap();
        s.add_visit(NewVisit {
            client_id: id,
            start: visit_start(i),
            duration_min: 60,
            services: vec![],
            total: Some(0),
            paid: 0,
            status: VisitStatus::Booked,
            staff_id: None,
            note: None,
            reminder: ReminderOverride::Default,
            repeat_after_days: None,
        })
        .unwrap();
    }
    s
}

async fn register<S: Storage>(s: &S, book: &Store) -> Uuid {
    let business = book.business().unwrap().id;
    s.create_business(
        business,
        "Бенчмарк",
        NewDevice {
            id: Uuid::now_v7(),
            name: "bench".into(),
            token_hash: rand::random(),
            at_ms: Utc::now().timestamp_millis(),
        },
    )
    .await
    .unwrap();
    business
}

async fn push_all<S: Storage>(s: &S, business: Uuid, book: &Store) {
    let ids = book.doc_ids().unwrap();
    for batch in ids.chunks(500) {
        let chunks = batch
            .iter()
            .map(|d| Chunk {
                doc: *d,
                data: book.export_doc(*d).unwrap(),
            })
            .collect();
        s.push(business, None, chunks).await.unwrap();
    }
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Dispatches every message of `business` with `dispatchers` notifiers; the clock is frozen at
/// `due` until then. Returns (seconds until the provider has all, sorted lateness in ms).
async fn dispatch<S: Storage>(
    storages: Vec<S>,
    business: Uuid,
    n: usize,
    providers: &Providers,
    sim: &SimClock,
    start_at: DateTime<Utc>,
    dir: &Path,
) -> (f64, Vec<i64>) {
    let config = Notify {
        outbox: dir.join("notify-bench-outbox.jsonl"),
        ..Notify::default()
    };
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let mut notifiers = Vec::new();
    for s in storages {
        let n = Notifier::new(
            s,
            config.clone(),
            notify::Gateways::new(&gateways(&providers.url), &config).unwrap(),
            Arc::new(Metrics::new()),
            sim.clock(),
        );
        notifiers.push(n);
    }
    sim.set(start_at);
    let t0 = Instant::now();
    for n in &notifiers {
        notify::start(n.clone(), stop.clone());
    }
    while providers.count() < n {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seconds = t0.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut late: Vec<i64> = notifiers[0]
        .storage
        .messages_of(business)
        .await
        .unwrap()
        .iter()
        .filter_map(|m| Some(m.claimed_ms? - m.due_ms))
        .collect();
    late.sort();
    (seconds, late)
}

pub enum Backend {
    Sqlite,
    Postgres(String, usize),
}

async fn fresh_postgres(url: &str) -> PgStorage {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let s = PgStorage::connect(url, 16).await.unwrap();
    // Leave no other run's messages pending in the shared outbox.
    client
        .execute(
            "UPDATE messages SET state = 'cancelled' WHERE state IN ('scheduled', 'sending')",
            &[],
        )
        .await
        .unwrap();
    s
}

/// `spread`: zero for a burst (all due at once), else the span the due times cover.
pub async fn burst(dir: &Path, n: usize, backend: Backend, spread: Duration) -> Burst {
    let sim = SimClock::default();
    // Scheduled in a frozen instant an hour ahead, so that every message is due exactly then
    // (a burst) or from then on (a steady load).
    let due = Utc::now() + chrono::Duration::hours(1);
    let step_ms = spread.as_millis() as i64 / n.max(1) as i64;
    let (trigger, offset) = if spread.is_zero() {
        ("visit_created", 0)
    } else {
        ("reminder_before", 24 * 60)
    };
    let book = book(
        dir,
        n,
        |i| due + chrono::Duration::days(1) + chrono::Duration::milliseconds(i as i64 * step_ms),
        (trigger, offset),
    );
    let providers = Providers::start().await;
    let (name, dispatchers, seconds, late) = match backend {
        Backend::Sqlite => {
            let path = dir.join("notify-server.db");
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
            }
            let s = SqliteStorage::open(&path).unwrap();
            let business = register(&s, &book).await;
            push_all(&s, business, &book).await;
            schedule(&s, &sim, due, business).await;
            let (secs, late) = dispatch(vec![s], business, n, &providers, &sim, due, dir).await;
            ("SQLite".to_string(), 1, secs, late)
        }
        Backend::Postgres(url, k) => {
            let s = fresh_postgres(&url).await;
            let business = register(&s, &book).await;
            push_all(&s, business, &book).await;
            schedule(&s, &sim, due, business).await;
            // A deployment's autovacuum keeps statistics; a fresh run has none yet.
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client.execute("ANALYZE messages", &[]).await.unwrap();
            let mut all = vec![s];
            for _ in 1..k {
                all.push(PgStorage::connect(&url, 16).await.unwrap());
            }
            let (secs, late) = dispatch(all, business, n, &providers, &sim, due, dir).await;
            ("PostgreSQL".to_string(), k, secs, late)
        }
    };
    Burst {
        backend: name,
        dispatchers,
        messages: n,
        seconds,
        per_second: n as f64 / seconds,
        lateness_p50_ms: percentile(&late, 0.5),
        lateness_p99_ms: percentile(&late, 0.99),
        lateness_max_ms: late.last().copied().unwrap_or(0),
    }
}

/// Schedules the whole business with the clock frozen at `at`.
async fn schedule<S: Storage>(s: &S, sim: &SimClock, at: DateTime<Utc>, business: Uuid) {
    let config = Notify::default();
    let frozen: Clock = Arc::new(move || at);
    let n = Notifier::new(
        s.clone(),
        config.clone(),
        notify::Gateways::default(),
        Arc::new(Metrics::new()),
        frozen,
    );
    n.schedule(business).await.unwrap();
    let _ = sim;
}

/// Re-deriving after one visit edit, on the `store` benchmark's book.
pub async fn derive(book_path: &Path, dir: &Path, edits: usize) -> Derive {
    let copy = dir.join("notify-derive-book.db");
    std::fs::copy(book_path, &copy).unwrap();
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", copy.display()));
    }
    let mut book = Store::open(&copy).unwrap();
    let t = Uuid::now_v7();
    book.edit_business(SettingsEdit::PutTemplate(Template {
        id: t,
        name: "Нагадування".into(),
        channel: None,
        body: "{client_first_name}, нагадуємо: {visit_date} о {visit_time}".into(),
        whatsapp: None,
    }))
    .unwrap();
    for (trigger, offset) in [
        ("reminder_before", 24 * 60),
        ("rescheduled", 0),
        ("after_completed", 60),
    ] {
        book.edit_business(SettingsEdit::PutRule(Rule {
            id: Uuid::now_v7(),
            name: trigger.into(),
            trigger: trigger.into(),
            offset_min: offset,
            channels: vec![Channel::Sms],
            template_id: Some(t),
            channel_templates: vec![],
            working_hours_only: true,
            statuses: vec![],
            enabled: true,
            staff: None,
        }))
        .unwrap();
    }
    let path = dir.join("notify-derive-server.db");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let s = SqliteStorage::open(&path).unwrap();
    let business = register(&s, &book).await;
    eprintln!("pushing the book to the server…");
    push_all(&s, business, &book).await;
    let n = Notifier::new(
        s.clone(),
        Notify::default(),
        notify::Gateways::default(),
        Arc::new(Metrics::new()),
        notify::system_clock(),
    );
    let t0 = Instant::now();
    n.schedule(business).await.unwrap();
    let initial = t0.elapsed().as_secs_f64();
    let scheduled = s.messages_of(business).await.unwrap().len();
    let clients = kartka_core::store::ClientFilter::default();
    let all = book
        .list_clients(
            &clients,
            kartka_core::store::Page {
                offset: 0,
                limit: u32::MAX,
            },
        )
        .unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut times = Vec::new();
    let mut visits = 0;
    let of = |book: &Store, c: Uuid| {
        book.list_visits(&kartka_core::store::VisitFilter {
            client: Some(c),
            ..Default::default()
        })
        .unwrap()
    };
    for c in &all {
        visits += of(&book, c.id).len();
    }
    for _ in 0..edits {
        let c = &all[rng.random_range(0..all.len())];
        let Some(v) = of(&book, c.id).into_iter().max_by_key(|v| v.start) else {
            continue;
        };
        // Booked (again) for a day in the coming weeks: the edit creates or moves a reminder.
        let start = Utc::now() + chrono::Duration::hours(rng.random_range(30..24 * 21));
        book.update_visit(
            v.id,
            VisitPatch {
                start: Some(start),
                status: Some(VisitStatus::Booked),
                ..Default::default()
            },
        )
        .unwrap();
        s.push(
            business,
            None,
            vec![Chunk {
                doc: c.id,
                data: book.export_doc(c.id).unwrap(),
            }],
        )
        .await
        .unwrap();
        let t = Instant::now();
        n.schedule(business).await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let after = s.messages_of(business).await.unwrap();
    eprintln!(
        "after the edits: {} messages, {} scheduled",
        after.len(),
        after.iter().filter(|m| m.state == "scheduled").count()
    );
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    Derive {
        clients: all.len(),
        visits,
        initial_seconds: initial,
        messages_scheduled: scheduled,
        edit_p50_ms: pct(0.5),
        edit_p99_ms: pct(0.99),
    }
}
