//! Property: whatever sequence of local edits and merges three devices go through, each
//! device's incrementally maintained projection equals the projection rebuilt from its documents,
//! and after everyone has exchanged everything, all devices hold identical projections with every
//! client and visit anyone created (no edit lost).

mod common;

use std::collections::BTreeSet;

use common::{at, book, second_device, sync_into};
use kartka_core::Store;
use kartka_core::model::{
    Channel, ClientPatch, ConsentSource, ConsentSubject, NewClient, NewVisit, ReminderOverride,
    ServiceLine, VisitPatch, VisitStatus,
};
use proptest::prelude::*;
use uuid::Uuid;

const NAMES: &[&str] = &["Олена", "Łucja Żak", "Anna", "Марія Ковальчук", "Ігор"];
const PHONES: &[&str] = &[
    "067 123 45 67",
    "+48 601 234 567",
    "0501112233",
    "не номер",
    "",
];

#[derive(Debug, Clone)]
enum Op {
    Create {
        dev: usize,
        name: usize,
        phone: usize,
    },
    Rename {
        dev: usize,
        client: usize,
        name: usize,
    },
    Phones {
        dev: usize,
        client: usize,
        phone: usize,
    },
    Tag {
        dev: usize,
        client: usize,
        tag: u8,
        add: bool,
    },
    Consent {
        dev: usize,
        client: usize,
        channel: usize,
        granted: bool,
    },
    Visit {
        dev: usize,
        client: usize,
        day: u32,
        price: i64,
    },
    Status {
        dev: usize,
        visit: usize,
        status: usize,
    },
    Reschedule {
        dev: usize,
        visit: usize,
        day: u32,
    },
    Delete {
        dev: usize,
        client: usize,
        restore: bool,
    },
    Message {
        dev: usize,
        client: usize,
        channel: usize,
    },
    Sync {
        from: usize,
        to: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let dev = 0..3usize;
    prop_oneof![
        (dev.clone(), 0..NAMES.len(), 0..PHONES.len()).prop_map(|(dev, name, phone)| Op::Create {
            dev,
            name,
            phone
        }),
        (dev.clone(), any::<usize>(), 0..NAMES.len()).prop_map(|(dev, client, name)| Op::Rename {
            dev,
            client,
            name
        }),
        (dev.clone(), any::<usize>(), 0..PHONES.len())
            .prop_map(|(dev, client, phone)| Op::Phones { dev, client, phone }),
        (dev.clone(), any::<usize>(), 0..3u8, any::<bool>()).prop_map(|(dev, client, tag, add)| {
            Op::Tag {
                dev,
                client,
                tag,
                add,
            }
        }),
        (
            dev.clone(),
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
        (dev.clone(), any::<usize>(), 0..60u32, 0..200_000i64).prop_map(
            |(dev, client, day, price)| Op::Visit {
                dev,
                client,
                day,
                price
            }
        ),
        (dev.clone(), any::<usize>(), 0..VisitStatus::ALL.len())
            .prop_map(|(dev, visit, status)| Op::Status { dev, visit, status }),
        (dev.clone(), any::<usize>(), 0..60u32).prop_map(|(dev, visit, day)| Op::Reschedule {
            dev,
            visit,
            day
        }),
        (dev.clone(), any::<usize>(), any::<bool>()).prop_map(|(dev, client, restore)| {
            Op::Delete {
                dev,
                client,
                restore,
            }
        }),
        (dev.clone(), any::<usize>(), 0..5usize).prop_map(|(dev, client, channel)| Op::Message {
            dev,
            client,
            channel
        }),
        (0..3usize, 0..3usize).prop_map(|(from, to)| Op::Sync { from, to }),
        (0..3usize, 0..3usize).prop_map(|(from, to)| Op::Sync { from, to }),
    ]
}

fn pick<T: Copy>(items: &[T], i: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[i % items.len()])
}

fn known_clients(s: &Store) -> Vec<Uuid> {
    let filter = kartka_core::store::ClientFilter {
        include_deleted: true,
        ..Default::default()
    };
    s.list_clients(
        &filter,
        kartka_core::store::Page {
            offset: 0,
            limit: 10_000,
        },
    )
    .unwrap()
    .iter()
    .map(|c| c.id)
    .collect()
}

fn known_visits(s: &Store) -> Vec<Uuid> {
    let filter = kartka_core::store::VisitFilter {
        include_deleted: true,
        ..Default::default()
    };
    s.list_visits(&filter)
        .unwrap()
        .iter()
        .map(|v| v.id)
        .collect()
}

fn run(ops: Vec<Op>) {
    let (_d0, first) = book();
    let (_d1, second) = second_device(&first);
    let (_d2, third) = second_device(&first);
    let mut devs = [first, second, third];
    let mut created_clients = BTreeSet::new();
    let mut created_visits = BTreeSet::new();

    for op in ops {
        match op {
            Op::Create { dev, name, phone } => {
                let c = devs[dev]
                    .create_client(NewClient {
                        name: NAMES[name].into(),
                        phones: vec![(PHONES[phone].into(), String::new())],
                        ..Default::default()
                    })
                    .unwrap();
                created_clients.insert(c.id);
            }
            Op::Rename { dev, client, name } => {
                if let Some(id) = pick(&known_clients(&devs[dev]), client) {
                    devs[dev]
                        .update_client(
                            id,
                            ClientPatch {
                                name: Some(NAMES[name].into()),
                                ..Default::default()
                            },
                        )
                        .unwrap();
                }
            }
            Op::Phones { dev, client, phone } => {
                if let Some(id) = pick(&known_clients(&devs[dev]), client) {
                    let phones = vec![
                        (PHONES[phone].into(), "home".into()),
                        (PHONES[(phone + 1) % PHONES.len()].into(), String::new()),
                    ];
                    devs[dev]
                        .update_client(
                            id,
                            ClientPatch {
                                phones: Some(phones),
                                ..Default::default()
                            },
                        )
                        .unwrap();
                }
            }
            Op::Tag {
                dev,
                client,
                tag,
                add,
            } => {
                if let Some(id) = pick(&known_clients(&devs[dev]), client) {
                    let t = vec![format!("tag{tag}")];
                    let patch = if add {
                        ClientPatch {
                            add_tags: t,
                            ..Default::default()
                        }
                    } else {
                        ClientPatch {
                            remove_tags: t,
                            ..Default::default()
                        }
                    };
                    devs[dev].update_client(id, patch).unwrap();
                }
            }
            Op::Consent {
                dev,
                client,
                channel,
                granted,
            } => {
                if let Some(id) = pick(&known_clients(&devs[dev]), client) {
                    let subject = ConsentSubject::Channel(Channel::ALL[channel]);
                    devs[dev]
                        .set_consent(id, subject, granted, ConsentSource::Verbal, "")
                        .unwrap();
                }
            }
            Op::Visit {
                dev,
                client,
                day,
                price,
            } => {
                if let Some(id) = pick(&known_clients(&devs[dev]), client) {
                    let v = devs[dev]
                        .add_visit(NewVisit {
                            client_id: id,
                            start: at(2026, 1, 1, 9, 0) + chrono::Duration::days(i64::from(day)),
                            duration_min: 60,
                            services: vec![ServiceLine {
                                name: "Манікюр".into(),
                                price,
                                quantity: 1,
                            }],
                            total: None,
                            paid: price / 2,
                            status: VisitStatus::Booked,
                            staff_id: None,
                            note: None,
                            reminder: ReminderOverride::Default,
                            repeat_after_days: None,
                        })
                        .unwrap();
                    created_visits.insert(v.id);
                }
            }
            Op::Status { dev, visit, status } => {
                if let Some(id) = pick(&known_visits(&devs[dev]), visit) {
                    devs[dev]
                        .set_visit_status(id, VisitStatus::ALL[status])
                        .unwrap();
                }
            }
            Op::Reschedule { dev, visit, day } => {
                if let Some(id) = pick(&known_visits(&devs[dev]), visit) {
                    let start = at(2026, 2, 1, 9, 0) + chrono::Duration::days(i64::from(day));
                    devs[dev]
                        .update_visit(
                            id,
                            VisitPatch {
                                start: Some(start),
                                ..Default::default()
                            },
                        )
                        .unwrap();
                }
            }
            Op::Delete {
                dev,
                client,
                restore,
            } => {
                if let Some(id) = pick(&known_clients(&devs[dev]), client) {
                    if restore {
                        devs[dev].restore_client(id).unwrap()
                    } else {
                        devs[dev].delete_client(id).unwrap()
                    }
                }
            }
            Op::Message {
                dev,
                client,
                channel,
            } => {
                if let Some(id) = pick(&known_clients(&devs[dev]), client) {
                    let channel = Channel::ALL[channel];
                    let granted = devs[dev].consent(id).unwrap().granted(channel);
                    match devs[dev].record_message(id, channel, "Нагадування 🙂", None, None)
                    {
                        Ok(_) => assert!(granted, "recorded without consent"),
                        Err(kartka_core::Error::NoConsent { .. }) => assert!(!granted),
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            Op::Sync { from, to } if from != to => {
                let (a, b) = if from < to {
                    let (l, r) = devs.split_at_mut(to);
                    (&l[from], &mut r[0])
                } else {
                    let (l, r) = devs.split_at_mut(from);
                    (&r[0], &mut l[to])
                };
                sync_into(a, b);
            }
            Op::Sync { .. } => {}
        }
    }

    // Incremental projection == projection rebuilt from the documents, on every device.
    for d in devs.iter_mut() {
        let incremental = d.projection_snapshot().unwrap();
        d.rebuild_projection().unwrap();
        assert_eq!(
            incremental,
            d.projection_snapshot().unwrap(),
            "projection drifted from the documents"
        );
    }

    // Everyone exchanges everything (twice round, so changes relayed through a peer arrive).
    for _ in 0..2 {
        for from in 0..3 {
            for to in 0..3 {
                if from != to {
                    let snapshot_from: Vec<(Uuid, Vec<u8>)> = devs[from]
                        .doc_ids()
                        .unwrap()
                        .into_iter()
                        .map(|id| (id, devs[from].export_doc(id).unwrap()))
                        .collect();
                    for (id, bytes) in snapshot_from {
                        devs[to].apply_remote(id, &bytes).unwrap();
                    }
                }
            }
        }
    }
    let first = devs[0].projection_snapshot().unwrap();
    for d in &devs[1..] {
        assert_eq!(
            first,
            d.projection_snapshot().unwrap(),
            "devices did not converge"
        );
    }
    for d in &devs {
        let clients: BTreeSet<Uuid> = known_clients(d).into_iter().collect();
        let visits: BTreeSet<Uuid> = known_visits(d).into_iter().collect();
        assert_eq!(clients, created_clients, "a created client was lost");
        assert_eq!(visits, created_visits, "a booked visit was lost");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn projection_matches_documents_and_devices_converge(ops in prop::collection::vec(op(), 1..60)) {
        run(ops);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The record built for a new client without reading it back equals what reading gives.
    #[test]
    fn a_new_clients_record_equals_its_document(
        name in "[a-zA-Zа-яіїєґ ]{1,20}",
        phones in prop::collection::vec(0..PHONES.len(), 0..3),
        tags in prop::collection::vec("[a-zа-я]{1,6}", 0..4),
        email in prop::option::of("[a-z]{1,8}@example\\.com"),
    ) {
        use kartka_core::crdt::client::{self, Card, ClientRecord};
        let (_d, s) = book();
        let _ = s;
        let region = kartka_core::phone::parse_region("UA").unwrap();
        let mut seen = BTreeSet::new();
        let phones: Vec<_> = phones
            .iter()
            .filter(|i| !PHONES[**i].is_empty())
            .map(|i| kartka_core::model::Phone {
                e164: kartka_core::phone::to_e164(PHONES[*i], region),
                raw: PHONES[*i].into(),
                label: "mobile".into(),
                primary: false,
            })
            .filter(|p| seen.insert(p.key()))
            .enumerate()
            .map(|(i, mut p)| { p.primary = i == 0; p })
            .collect();
        let mut tags = tags;
        tags.sort();
        tags.dedup();
        let card = Card {
            name: name.trim().to_string() + "x",
            given_name: None,
            family_name: Some("Ф".into()),
            phones,
            email,
            birthday: Some("--02-29".parse().unwrap()),
            comment: None,
            class: kartka_core::model::ClientClass::Vip,
            tags,
            loyalty_card: None,
            discount_percent: 0,
            source: kartka_core::model::ClientSource::Vcard,
        };
        let id = Uuid::now_v7();
        let now = chrono::Utc::now();
        let doc = client::create(automerge::ActorId::random(), id, &card, now).unwrap();
        prop_assert_eq!(client::read(&doc, id).unwrap(), ClientRecord::of_new(id, &card, now));
    }
}
