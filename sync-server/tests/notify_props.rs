//! A property test of the scheduler and dispatcher: random visit edits, rule edits, consent
//! changes and clock advances, synced in random order. After every step:
//! - nothing was sent without consent (channel and notification type) at the moment of sending;
//! - nothing was sent twice: every provider request is one message, every message one key.
//!
//! And at the end, with the clock past every due time, every message due is sent or settled.

mod common;

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use common::{World, local};
use kartka_core::crdt::business::SettingsEdit;
use kartka_core::model::{
    Channel, ConsentSource, ConsentSubject, NotificationKind, VisitPatch, VisitStatus,
};
use kartka_server::storage::sqlite::SqliteStorage;
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    AddVisit {
        client: usize,
        day: i64,
        hour: u32,
    },
    Move {
        visit: usize,
        day: i64,
        hour: u32,
    },
    Status {
        visit: usize,
        status: usize,
    },
    Consent {
        client: usize,
        channel: usize,
        granted: bool,
    },
    OptOut {
        client: usize,
        kind: usize,
        granted: bool,
    },
    ToggleRule {
        rule: usize,
    },
    Advance {
        minutes: i64,
    },
    Sync,
}

const STATUSES: [VisitStatus; 4] = [
    VisitStatus::Confirmed,
    VisitStatus::Completed,
    VisitStatus::Cancelled,
    VisitStatus::Booked,
];
const CHANNELS: [Channel; 2] = [Channel::Sms, Channel::Email];
const KINDS: [NotificationKind; 3] = [
    NotificationKind::Reminder,
    NotificationKind::VisitCreated,
    NotificationKind::ReviewRequest,
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, 1..4i64, 8..21u32).prop_map(|(client, day, hour)| Op::AddVisit { client, day, hour }),
        2 => (0..8usize, 1..4i64, 8..21u32).prop_map(|(visit, day, hour)| Op::Move { visit, day, hour }),
        2 => (0..8usize, 0..4usize).prop_map(|(visit, status)| Op::Status { visit, status }),
        3 => (0..3usize, 0..2usize, any::<bool>()).prop_map(|(client, channel, granted)| Op::Consent { client, channel, granted }),
        1 => (0..3usize, 0..3usize, any::<bool>()).prop_map(|(client, kind, granted)| Op::OptOut { client, kind, granted }),
        1 => (0..4usize).prop_map(|rule| Op::ToggleRule { rule }),
        3 => (10..1500i64).prop_map(|minutes| Op::Advance { minutes }),
        3 => Just(Op::Sync),
    ]
}

/// Consent as the server sees it: (client, channel) granted, and (client, kind) opted out.
type Consent = (HashSet<(Uuid, String)>, HashSet<(Uuid, String)>);

struct Model {
    clients: Vec<Uuid>,
    visits: Vec<Uuid>,
    rules: Vec<Uuid>,
}

/// Consent as the server will see it at the next send: (client, channel) and (client, kind).
fn consent(w: &World<SqliteStorage>, m: &Model) -> Consent {
    let mut channels = HashSet::new();
    let mut opted_out = HashSet::new();
    for c in &m.clients {
        let state = w.book.consent(*c).unwrap();
        for (ch, granted) in &state.channels {
            if *granted {
                channels.insert((*c, ch.as_str().to_string()));
            }
        }
        for (k, granted) in &state.notifications {
            if !granted {
                opted_out.insert((*c, k.as_str().to_string()));
            }
        }
    }
    (channels, opted_out)
}

async fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    let mut w = World::new(s).await;
    let t = w.template(
        "Текст",
        "{client_first_name}: {visit_date} {visit_time}",
        None,
    );
    let mut m = Model {
        clients: Vec::new(),
        visits: Vec::new(),
        rules: vec![
            w.rule("reminder_before", 120, &[Channel::Sms], t, true),
            w.rule(
                "visit_created",
                0,
                &[Channel::Sms, Channel::Email],
                t,
                false,
            ),
            w.rule("status_changed:confirmed", 0, &[Channel::Sms], t, true),
            w.rule("after_completed", 60, &[Channel::Email], t, false),
        ],
    };
    // One client consents to both channels, one to SMS, one to nothing; ops change that.
    let start: [&[Channel]; 3] = [&[Channel::Sms, Channel::Email], &[Channel::Sms], &[]];
    for (i, channels) in start.iter().enumerate() {
        m.clients.push(w.client(
            &format!("Клієнтка {i}"),
            &format!("+38067123456{i}"),
            channels,
        ));
    }
    w.sync().await;
    // Consent as of the last sync: what the server can see.
    let mut seen_consent = consent(&w, &m);
    let mut sent_before: HashSet<Uuid> = HashSet::new();
    for op in ops {
        match op {
            Op::AddVisit { client, day, hour } => {
                let at = local(day, hour, 0).max(w.now() + Duration::minutes(30));
                m.visits.push(w.visit(m.clients[client], at));
            }
            Op::Move { visit, day, hour } => {
                if let Some(v) = m.visits.get(visit) {
                    let at = local(day, hour, 0).max(w.now() + Duration::minutes(30));
                    w.book
                        .update_visit(
                            *v,
                            VisitPatch {
                                start: Some(at),
                                ..Default::default()
                            },
                        )
                        .unwrap();
                }
            }
            Op::Status { visit, status } => {
                if let Some(v) = m.visits.get(visit) {
                    w.book
                        .update_visit(
                            *v,
                            VisitPatch {
                                status: Some(STATUSES[status]),
                                ..Default::default()
                            },
                        )
                        .unwrap();
                }
            }
            Op::Consent {
                client,
                channel,
                granted,
            } => {
                w.consent(m.clients[client], CHANNELS[channel], granted);
            }
            Op::OptOut {
                client,
                kind,
                granted,
            } => {
                w.book
                    .set_consent(
                        m.clients[client],
                        ConsentSubject::Notification(KINDS[kind]),
                        granted,
                        ConsentSource::Verbal,
                        "",
                    )
                    .unwrap();
            }
            Op::ToggleRule { rule } => {
                let mut r = w
                    .book
                    .business()
                    .unwrap()
                    .rules
                    .into_iter()
                    .find(|r| r.id == m.rules[rule])
                    .unwrap();
                r.enabled = !r.enabled;
                w.book.edit_business(SettingsEdit::PutRule(r)).unwrap();
            }
            Op::Advance { minutes } => w.set_now(w.now() + Duration::minutes(minutes)),
            Op::Sync => {
                w.sync().await;
                seen_consent = consent(&w, &m);
            }
        }
        // The server works with what it has (the device may not have synced its last edits).
        w.step().await;
        check(&w, &seen_consent, &mut sent_before).await;
    }
    // Everything synced, the clock past every visit: nothing due is left behind.
    w.sync().await;
    seen_consent = consent(&w, &m);
    w.set_now(w.now() + Duration::days(10));
    w.step().await;
    check(&w, &seen_consent, &mut sent_before).await;
    let all = w.messages().await;
    eprintln!(
        "case: {} messages, {} sent, {} skipped for consent, {} cancelled",
        all.len(),
        all.iter().filter(|m| m.state == "sent").count(),
        all.iter()
            .filter(|m| m.state == "skipped_no_consent")
            .count(),
        all.iter().filter(|m| m.state == "cancelled").count()
    );
    for msg in all {
        assert!(
            !(msg.state == "scheduled" && msg.due_ms <= w.now().timestamp_millis())
                && msg.state != "sending",
            "left behind: {msg:?}"
        );
    }
}

async fn check(
    w: &World<SqliteStorage>,
    (channels, opted_out): &Consent,
    sent_before: &mut HashSet<Uuid>,
) {
    let messages = w.messages().await;
    let sent: Vec<_> = messages.iter().filter(|m| m.state == "sent").collect();
    for m in sent.iter().filter(|m| !sent_before.contains(&m.id)) {
        assert!(
            channels.contains(&(m.client, m.channel.clone())),
            "sent without consent: {m:?}"
        );
        assert!(
            !opted_out.contains(&(m.client, m.kind.clone())),
            "sent despite an opt-out: {m:?}"
        );
    }
    sent_before.extend(sent.iter().map(|m| m.id));
    // And nothing with consent was skipped for the lack of it.
    for m in messages
        .iter()
        .filter(|m| m.state == "skipped_no_consent" && !sent_before.contains(&m.id))
    {
        assert!(
            !channels.contains(&(m.client, m.channel.clone()))
                || opted_out.contains(&(m.client, m.kind.clone())),
            "skipped although the client consents: {m:?}"
        );
    }
    sent_before.extend(
        messages
            .iter()
            .filter(|m| m.state == "skipped_no_consent")
            .map(|m| m.id),
    );
    // One provider request per sent message, per channel.
    let sms = sent.iter().filter(|m| m.channel == "sms").count();
    let email = sent.iter().filter(|m| m.channel == "email").count();
    assert_eq!(
        w.providers.received().len(),
        sms,
        "SMS requests vs messages"
    );
    assert_eq!(w.smtp.mails().len(), email, "emails vs messages");
    let mut keys = HashMap::new();
    for m in &messages {
        assert!(
            keys.insert((m.rule, m.channel.clone(), m.key.clone()), m.id)
                .is_none(),
            "a key twice: {m:?}"
        );
    }
    // No message is in a state the machine does not have.
    for m in &messages {
        assert!(
            [
                "scheduled",
                "sent",
                "failed",
                "skipped_no_consent",
                "cancelled"
            ]
            .contains(&m.state.as_str()),
            "{m:?}"
        );
    }
}

fn cases() -> u32 {
    std::env::var("KARTKA_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16)
}

#[test]
fn consent_at_send_time_and_no_duplicates() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: cases(),
        ..ProptestConfig::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 5..40), |ops| {
            rt.block_on(run(ops));
            Ok(())
        })
        .unwrap();
}
