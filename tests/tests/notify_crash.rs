//! The dispatcher under crashes: 1,000 messages fall due at once while the server process is
//! SIGKILLed at random moments and restarted (one process on SQLite; two on PostgreSQL, killed
//! in turn). The provider is a Twilio-shaped server on loopback that answers slowly, so kills
//! land mid-send. At the end every client's history, as a device sees it, says `sent` or
//! `uncertain`; the provider received no number twice; and every `sent` reached it.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use kartka_core::model::{
    Channel, ConsentSource, ConsentSubject, MessageStatus, NewClient, NewVisit, ReminderOverride,
    VisitStatus,
};
use kartka_server::notify::doubles::{Behaviour, Providers};
use kartka_server::storage::conformance::test_postgres_url;
use kartka_tests::{Device, Server, client_ids};
use rand::Rng;
use uuid::Uuid;

const MESSAGES: usize = 1000;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_server-under-test"))
}

fn config(providers: &str) -> String {
    // The lease outlives the provider timeout: a live process's send is never taken over.
    format!(
        r#"
[notify]
tick_ms = 50
batch = 100
concurrency = 32
gateway_timeout_secs = 2
lease_secs = 4

[gateways.sms]
kind = "twilio"
base_url = "{providers}"
account_sid = "AC00000000000000000000000000000001"
auth_token = "t"
from = "+15550000001"
rate_per_second = 400
"#
    )
}

/// A business with `MESSAGES` consenting clients, each booked for tomorrow, and a rule that
/// tells each client at once: every message falls due the moment the device syncs.
fn book(device: &Device) {
    device.with(|s| {
        kartka_tests::sms_rule(s, "visit_created", "Запис", "{client_name}: {visit_time}");
        let ids = s
            .create_clients(
                (0..MESSAGES)
                    .map(|i| NewClient {
                        name: format!("Клієнтка {i}"),
                        phones: vec![(format!("+38050{i:07}"), String::new())],
                        ..Default::default()
                    })
                    .collect(),
            )
            .unwrap();
        let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
        for id in ids {
            s.set_consent(
                id,
                ConsentSubject::Channel(Channel::Sms),
                true,
                ConsentSource::Written,
                "form",
            )
            .unwrap();
            s.add_visit(NewVisit {
                client_id: id,
                start: tomorrow,
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
    });
}

fn outcomes(device: &Device) -> HashMap<Uuid, MessageStatus> {
    device.with(|s| {
        client_ids(s)
            .into_iter()
            .filter_map(|c| Some((c, s.history(c).unwrap().last()?.status)))
            .collect()
    })
}

fn run(servers: &mut [Server], providers: &Providers) {
    let url = servers[0].url.clone();
    let device = Device::owner(&url);
    book(&device);
    device.sync().unwrap();
    // Kill and restart while the messages go out.
    let mut rng = rand::rng();
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(rng.random_range(100..700)));
        let i = rng.random_range(0..servers.len());
        servers[i].kill9();
        std::thread::sleep(Duration::from_millis(rng.random_range(0..300)));
        servers[i].restart();
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        let _ = device.sync();
        let o = outcomes(&device);
        let settled = o
            .values()
            .filter(|s| matches!(s, MessageStatus::Sent | MessageStatus::Uncertain))
            .count();
        if settled == MESSAGES || Instant::now() > deadline {
            break o;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let received = providers.received();
    let mut per_number: HashMap<&str, usize> = HashMap::new();
    for r in &received {
        *per_number.entry(r.to.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_number.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    assert_eq!(
        done.len(),
        MESSAGES,
        "every client has an outcome in its history"
    );
    let uncertain = done
        .values()
        .filter(|s| **s == MessageStatus::Uncertain)
        .count();
    let sent = done.values().filter(|s| **s == MessageStatus::Sent).count();
    assert_eq!(sent + uncertain, MESSAGES, "{done:?}");
    // Everything recorded as sent reached the provider (uncertain ones may or may not have).
    assert!(received.len() >= sent && received.len() <= MESSAGES);
    eprintln!(
        "{sent} sent, {uncertain} uncertain, {} received by the provider",
        received.len()
    );
}

fn providers() -> (tokio::runtime::Runtime, Providers) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let p = rt.block_on(Providers::start());
    // Slow enough that kills land while sends are in flight.
    p.set(Behaviour {
        delay: Duration::from_millis(40),
        ..Default::default()
    });
    (rt, p)
}

#[test]
fn a_thousand_due_messages_through_kills_on_sqlite() {
    let (_rt, p) = providers();
    let dir = tempfile::tempdir().unwrap();
    let mut servers = [Server::start_configured(
        bin(),
        dir.path(),
        &[],
        &config(&p.url),
    )];
    run(&mut servers, &p);
}

#[test]
fn a_thousand_due_messages_through_kills_on_two_postgres_instances() {
    let Some(url) = test_postgres_url() else {
        return;
    };
    let (_rt, p) = providers();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("KARTKA_DATABASE_URL", url.as_str())];
    let mut servers = [
        Server::start_configured(bin(), d1.path(), &env, &config(&p.url)),
        Server::start_configured(bin(), d2.path(), &env, &config(&p.url)),
    ];
    run(&mut servers, &p);
}
