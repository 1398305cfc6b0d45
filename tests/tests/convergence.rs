//! Property: 3–5 devices of one business edit clients, visits and consent while randomly offline
//! and sync through a real `kartka-server` process in random orders. At the end every device,
//! and a fresh device that pulls everything from the server, hold identical projections, and
//! nothing any device did is lost: every client and visit created is there, and every field
//! holds a value some device wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kartka_core::Store;
use kartka_core::model::{
    Channel, ClientPatch, ConsentSource, ConsentSubject, NewClient, NewVisit, ServiceLine,
    VisitStatus,
};
use kartka_core::store::VisitFilter;
use kartka_tests::{Device, Server, client_ids, converge};
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    Create {
        dev: usize,
        n: u8,
    },
    Comment {
        dev: usize,
        client: usize,
        n: u8,
    },
    Visit {
        dev: usize,
        client: usize,
        day: u8,
    },
    Status {
        dev: usize,
        visit: usize,
        status: usize,
    },
    Consent {
        dev: usize,
        client: usize,
        channel: usize,
        granted: bool,
    },
    Delete {
        dev: usize,
        client: usize,
        restore: bool,
    },
    /// The device is online for a moment: one sync.
    Sync {
        dev: usize,
    },
}

fn op(devices: usize) -> impl Strategy<Value = Op> {
    let d = 0..devices;
    prop_oneof![
        (d.clone(), any::<u8>()).prop_map(|(dev, n)| Op::Create { dev, n }),
        (d.clone(), any::<usize>(), any::<u8>()).prop_map(|(dev, client, n)| Op::Comment {
            dev,
            client,
            n
        }),
        (d.clone(), any::<usize>(), 0..30u8).prop_map(|(dev, client, day)| Op::Visit {
            dev,
            client,
            day
        }),
        (d.clone(), any::<usize>(), 0..VisitStatus::ALL.len())
            .prop_map(|(dev, visit, status)| Op::Status { dev, visit, status }),
        (
            d.clone(),
            any::<usize>(),
            0..Channel::ALL.len(),
            any::<bool>()
        )
            .prop_map(|(dev, client, channel, granted)| Op::Consent {
                dev,
                client,
                channel,
                granted
            }),
        (d.clone(), any::<usize>(), any::<bool>()).prop_map(|(dev, client, restore)| Op::Delete {
            dev,
            client,
            restore
        }),
        d.clone().prop_map(|dev| Op::Sync { dev }),
        d.prop_map(|dev| Op::Sync { dev }),
    ]
}

fn visits(s: &Store) -> Vec<Uuid> {
    let all = VisitFilter {
        include_deleted: true,
        ..Default::default()
    };
    s.list_visits(&all).unwrap().iter().map(|v| v.id).collect()
}

fn pick(items: &[Uuid], i: usize) -> Option<Uuid> {
    (!items.is_empty()).then(|| items[i % items.len()])
}

#[derive(Default)]
struct Written {
    clients: BTreeSet<Uuid>,
    visits: BTreeSet<Uuid>,
    comments: BTreeMap<Uuid, BTreeSet<String>>,
    consent_events: BTreeSet<Uuid>,
}

fn apply(devs: &[Device], op: &Op, w: &mut Written) {
    match *op {
        Op::Create { dev, n } => {
            let c = devs[dev]
                .with(|s| {
                    s.create_client(NewClient {
                        name: format!("Клієнтка {n}"),
                        phones: vec![(format!("+38067{:07}", n), String::new())],
                        ..Default::default()
                    })
                })
                .unwrap();
            w.clients.insert(c.id);
        }
        Op::Comment { dev, client, n } => devs[dev].with(|s| {
            if let Some(id) = pick(&client_ids(s), client) {
                let text = format!("d{dev} #{n}");
                s.update_client(
                    id,
                    ClientPatch {
                        comment: Some(Some(text.clone())),
                        ..Default::default()
                    },
                )
                .unwrap();
                w.comments.entry(id).or_default().insert(text);
            }
        }),
        Op::Visit { dev, client, day } => devs[dev].with(|s| {
            if let Some(id) = pick(&client_ids(s), client) {
                let start =
                    chrono::DateTime::from_timestamp(1_790_000_000 + i64::from(day) * 86_400, 0)
                        .unwrap();
                let v = s
                    .add_visit(NewVisit::booked(
                        id,
                        start,
                        45,
                        vec![ServiceLine {
                            name: "Стрижка".into(),
                            price: 50_000,
                            quantity: 1,
                        }],
                    ))
                    .unwrap();
                w.visits.insert(v.id);
            }
        }),
        Op::Status { dev, visit, status } => devs[dev].with(|s| {
            if let Some(id) = pick(&visits(s), visit) {
                s.set_visit_status(id, VisitStatus::ALL[status]).unwrap();
            }
        }),
        Op::Consent {
            dev,
            client,
            channel,
            granted,
        } => devs[dev].with(|s| {
            if let Some(id) = pick(&client_ids(s), client) {
                let ev = s
                    .set_consent(
                        id,
                        ConsentSubject::Channel(Channel::ALL[channel]),
                        granted,
                        ConsentSource::Written,
                        "form",
                    )
                    .unwrap();
                w.consent_events.insert(ev.id);
            }
        }),
        Op::Delete {
            dev,
            client,
            restore,
        } => devs[dev].with(|s| {
            if let Some(id) = pick(&client_ids(s), client) {
                if restore {
                    s.restore_client(id).unwrap()
                } else {
                    s.delete_client(id).unwrap()
                }
            }
        }),
        Op::Sync { dev } => {
            devs[dev].sync().unwrap();
        }
    }
}

fn run(server: &Server, devices: usize, ops: &[Op]) {
    let owner = Device::owner(&server.url);
    let mut devs = vec![owner];
    for _ in 1..devices {
        let d = Device::join(&server.url, &devs[0]);
        devs.push(d);
    }
    // Everyone starts from the business settings.
    for d in &devs {
        d.sync().unwrap();
    }
    let mut w = Written::default();
    for op in ops {
        apply(&devs, op, &mut w);
    }
    let refs: Vec<&Device> = devs.iter().collect();
    converge(&refs);
    let fresh = Device::join(&server.url, &devs[0]);
    fresh.sync().unwrap();

    let expected = devs[0].with(|s| s.projection_snapshot().unwrap());
    for (i, d) in devs.iter().chain([&fresh]).enumerate() {
        assert_eq!(
            d.with(|s| s.projection_snapshot().unwrap()),
            expected,
            "device {i} differs"
        );
        // Incremental projection equals one rebuilt from the documents.
        d.with(|s| {
            s.rebuild_projection().unwrap();
            assert_eq!(
                s.projection_snapshot().unwrap(),
                expected,
                "device {i} rebuilt differs"
            );
        });
    }
    fresh.with(|s| {
        let have: BTreeSet<Uuid> = client_ids(s).into_iter().collect();
        assert!(w.clients.is_subset(&have), "a created client was lost");
        let have: BTreeSet<Uuid> = visits(s).into_iter().collect();
        assert!(w.visits.is_subset(&have), "a created visit was lost");
        for (id, written) in &w.comments {
            let c = s.get_client(*id).unwrap();
            let comment = c.comment.expect("a comment was written");
            assert!(
                written.contains(&comment),
                "comment {comment:?} was never written"
            );
        }
        let mut events = BTreeSet::new();
        for id in client_ids(s) {
            events.extend(s.consent(id).unwrap().evidence.iter().map(|e| e.id));
        }
        assert!(
            w.consent_events.is_subset(&events),
            "consent evidence was lost"
        );
    });
}

fn server_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_server-under-test"))
}

#[test]
fn devices_converge_through_the_server_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(server_bin(), dir.path());
    let cases = std::env::var("KARTKA_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    let strategy =
        (3..=5usize).prop_flat_map(|n| (Just(n), proptest::collection::vec(op(n), 10..60)));
    runner
        .run(&strategy, |(n, ops)| {
            run(&server, n, &ops);
            Ok(())
        })
        .unwrap();
}
