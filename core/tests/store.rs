//! The store through its public API, on real SQLite files.

mod common;

use common::{at, book, client, second_device, sync_into};
use kartka_core::Error;
use kartka_core::model::{
    Birthday, Channel, ClientClass, ClientPatch, ConsentSource, ConsentSubject, NewClient,
    NewVisit, NotificationKind, ReminderOverride, ServiceLine, VisitPatch, VisitStatus,
};
use kartka_core::store::{ClientFilter, Page, VisitFilter};

fn names(clients: &[kartka_core::model::Client]) -> Vec<&str> {
    clients.iter().map(|c| c.name.as_str()).collect()
}

fn visit(client: uuid::Uuid, start: chrono::DateTime<chrono::Utc>, price: i64) -> NewVisit {
    NewVisit::booked(
        client,
        start,
        60,
        vec![ServiceLine {
            name: "Манікюр".into(),
            price,
            quantity: 1,
        }],
    )
}

#[test]
fn a_new_client_is_normalised_and_starts_with_every_channel_off() {
    let (_d, mut s) = book();
    let c = s
        .create_client(NewClient {
            name: "  Олена Коваленко ".into(),
            phones: vec![
                ("067 123 45 67".into(), "mobile".into()),
                ("дзвонити після 18".into(), String::new()),
            ],
            email: Some(" olena@example.com ".into()),
            birthday: Some("--04-15".parse().unwrap()),
            class: Some(ClientClass::Vip),
            tags: vec!["брови".into(), "брови".into(), " нігті ".into()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(c.name, "Олена Коваленко");
    assert_eq!(c.phones.len(), 2);
    assert_eq!(c.phones[0].e164.as_deref(), Some("+380671234567"));
    assert!(c.phones[0].primary);
    // Not a number: kept as typed, flagged by the missing E.164 form.
    assert_eq!(c.phones[1].e164, None);
    assert_eq!(c.phones[1].raw, "дзвонити після 18");
    assert_eq!(c.email.as_deref(), Some("olena@example.com"));
    assert_eq!(c.birthday, Some(Birthday::MonthDay { month: 4, day: 15 }));
    assert_eq!(c.tags, ["брови", "нігті"]);
    assert!(
        c.consent.values().all(|granted| !granted),
        "{:?}",
        c.consent
    );
    assert_eq!(c.consent.len(), Channel::ALL.len());
    let consent = s.consent(c.id).unwrap();
    assert!(consent.evidence.is_empty());
    // Notification types are on by default: channel consent already gates them.
    assert!(consent.notifications.iter().all(|(_, on)| *on));
}

#[test]
fn bad_input_is_a_typed_error_and_changes_nothing() {
    let (_d, mut s) = book();
    let before = s.projection_snapshot().unwrap();
    for bad in [
        NewClient {
            name: "  ".into(),
            ..Default::default()
        },
        NewClient {
            name: "A".into(),
            email: Some("not-an-email".into()),
            ..Default::default()
        },
        NewClient {
            name: "A".into(),
            discount_percent: Some(101),
            ..Default::default()
        },
        NewClient {
            name: "x".repeat(201),
            ..Default::default()
        },
    ] {
        let err = s.create_clients(vec![client("ok", &[]), bad]).unwrap_err();
        assert!(matches!(err, Error::Validation { .. }), "{err}");
    }
    assert_eq!(
        s.projection_snapshot().unwrap(),
        before,
        "a failed batch left rows behind"
    );
    assert!("1990-13-01".parse::<Birthday>().is_err());
    assert!("--02-30".parse::<Birthday>().is_err());
    assert_eq!(
        "--02-29".parse::<Birthday>().unwrap(),
        Birthday::MonthDay { month: 2, day: 29 }
    );
    let missing = uuid::Uuid::now_v7();
    assert!(matches!(s.get_client(missing), Err(Error::NotFound { .. })));
    assert!(matches!(
        s.update_client(missing, ClientPatch::default()),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn search_finds_names_in_any_case_script_and_diacritics_ranked_by_prefix() {
    let (_d, mut s) = book();
    s.create_clients(vec![
        client("Олена Коваленко", &["+380671234567"]),
        client("Ковальчук Олег", &["0501112233"]),
        client("Łucja Żółkiewska", &["+48 601 234 567"]),
        client("Anna Nowak", &[]),
        client("Марія Олеників", &[]),
        client("Ґеник Їжакевич", &[]),
    ])
    .unwrap();
    let find = |q: &str| {
        names(&s.search(q, Page::default()).unwrap())
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(find("олен"), ["Олена Коваленко", "Марія Олеників"]);
    assert_eq!(find("ОЛЕНА"), ["Олена Коваленко"]);
    // Prefix of the whole name first, then a word prefix.
    assert_eq!(find("ковал"), ["Ковальчук Олег", "Олена Коваленко"]);
    assert_eq!(find("lucja"), ["Łucja Żółkiewska"]);
    assert_eq!(find("żółk"), ["Łucja Żółkiewska"]);
    assert_eq!(find("zolk"), ["Łucja Żółkiewska"]);
    assert_eq!(find("їжак"), ["Ґеник Їжакевич"]);
    // Any part of a word, not only its start.
    assert_eq!(find("альчу"), ["Ковальчук Олег"]);
    // Short terms match word prefixes; every term must match.
    assert_eq!(find("ол ко"), ["Ковальчук Олег", "Олена Коваленко"]);
    assert_eq!(find("олена к"), ["Олена Коваленко"]);
    assert_eq!(find("an no"), ["Anna Nowak"]);
    assert!(find("олена ковальчук").is_empty());
    assert!(find("").is_empty());
    assert!(find("\"; DROP TABLE clients; --").is_empty());
}

#[test]
fn search_finds_phones_however_they_are_typed_and_emails() {
    let (_d, mut s) = book();
    s.create_clients(vec![
        client("Олена", &["+380671234567"]),
        client("Ірина", &["+380501234567"]),
        NewClient {
            email: Some("Irena.Mazur@Example.pl".into()),
            ..client("Irena", &[])
        },
    ])
    .unwrap();
    for q in [
        "067 123",
        "+38067123",
        "0671234567",
        "380671234567",
        "(067) 123-45-67",
        "67123",
        "00380671234567",
    ] {
        assert_eq!(
            names(&s.search(q, Page::default()).unwrap()),
            ["Олена"],
            "{q}"
        );
    }
    assert_eq!(
        names(&s.search("0 ", Page::default()).unwrap()),
        Vec::<&str>::new()
    );
    let both = s.search("380", Page::default()).unwrap();
    assert_eq!(both.len(), 2);
    assert_eq!(
        names(&s.search("irena.mazur@ex", Page::default()).unwrap()),
        ["Irena"]
    );
    assert_eq!(
        names(&s.search("example.pl", Page::default()).unwrap()),
        ["Irena"]
    );
}

#[test]
fn list_pages_in_name_order_with_filters() {
    let (_d, mut s) = book();
    let mut batch: Vec<NewClient> = (0..120)
        .map(|i| client(&format!("Client {i:03}"), &[]))
        .collect();
    batch[7].class = Some(ClientClass::Vip);
    batch[8].tags = vec!["wedding".into()];
    s.create_clients(batch).unwrap();
    let first = s
        .list_clients(
            &ClientFilter::default(),
            Page {
                offset: 0,
                limit: 50,
            },
        )
        .unwrap();
    let second = s
        .list_clients(
            &ClientFilter::default(),
            Page {
                offset: 50,
                limit: 50,
            },
        )
        .unwrap();
    assert_eq!(first.len(), 50);
    assert_eq!(first[0].name, "Client 000");
    assert_eq!(second[0].name, "Client 050");
    let vip = s
        .list_clients(
            &ClientFilter {
                class: Some(ClientClass::Vip),
                ..Default::default()
            },
            Page::default(),
        )
        .unwrap();
    assert_eq!(names(&vip), ["Client 007"]);
    let tagged = s
        .list_clients(
            &ClientFilter {
                tag: Some("wedding".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .unwrap();
    assert_eq!(names(&tagged), ["Client 008"]);
    assert_eq!(s.client_count().unwrap(), 120);
}

#[test]
fn edits_touch_only_what_changed() {
    let (_d, mut s) = book();
    let c = s
        .create_client(NewClient {
            tags: vec!["a".into(), "b".into()],
            ..client("Anna", &["0671234567"])
        })
        .unwrap();
    let c2 = s
        .update_client(
            c.id,
            ClientPatch {
                email: Some(Some("anna@example.com".into())),
                add_tags: vec!["c".into()],
                remove_tags: vec!["a".into()],
                phones: Some(vec![
                    ("+48601234567".into(), "work".into()),
                    ("0671234567".into(), "mobile".into()),
                ]),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(c2.tags, ["b", "c"]);
    assert_eq!(c2.email.as_deref(), Some("anna@example.com"));
    assert_eq!(c2.phones[0].e164.as_deref(), Some("+48601234567"));
    assert!(c2.phones[0].primary);
    assert_eq!(c2.phones.len(), 2);
    assert!(c2.updated_at >= c.updated_at);
    let c3 = s
        .update_client(
            c.id,
            ClientPatch {
                email: Some(None),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(c3.email, None);
    assert!(
        s.search("anna@example", Page::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn delete_is_a_tombstone_history_stays_readable() {
    let (_d, mut s) = book();
    let c = s.create_client(client("Олена", &["0671234567"])).unwrap();
    let v = s
        .add_visit(visit(c.id, at(2026, 1, 10, 9, 0), 80000))
        .unwrap();
    s.delete_client(c.id).unwrap();
    assert!(s.search("олена", Page::default()).unwrap().is_empty());
    assert!(s.search("067", Page::default()).unwrap().is_empty());
    assert!(
        s.list_clients(&ClientFilter::default(), Page::default())
            .unwrap()
            .is_empty()
    );
    let shown = s.get_client(c.id).unwrap();
    assert!(shown.deleted);
    assert_eq!(s.get_visit(v.id).unwrap().id, v.id);
    let with_deleted = ClientFilter {
        include_deleted: true,
        ..Default::default()
    };
    assert_eq!(
        s.list_clients(&with_deleted, Page::default())
            .unwrap()
            .len(),
        1
    );
    s.restore_client(c.id).unwrap();
    assert_eq!(
        names(&s.search("олена", Page::default()).unwrap()),
        ["Олена"]
    );
}

#[test]
fn visits_drive_the_derived_figures() {
    let (_d, mut s) = book();
    let c = s
        .create_client(NewClient {
            discount_percent: Some(10),
            ..client("Олена", &[])
        })
        .unwrap();
    let past = s
        .add_visit(NewVisit {
            paid: 50000,
            ..visit(c.id, at(2026, 1, 10, 9, 0), 80000)
        })
        .unwrap();
    // The client's 10% discount applies when no explicit total is given.
    assert_eq!(past.total, 72000);
    assert_eq!(past.zone, "Europe/Kyiv");
    let lines = vec![
        ServiceLine {
            name: "Педикюр".into(),
            price: 50000,
            quantity: 1,
        },
        ServiceLine {
            name: "Парафін".into(),
            price: 10000,
            quantity: 2,
        },
    ];
    let future = s
        .add_visit(NewVisit {
            services: lines,
            total: Some(65000),
            ..visit(c.id, at(2099, 5, 1, 10, 0), 0)
        })
        .unwrap();
    assert_eq!(future.total, 65000);
    // Booked visits are not sold yet; prepayments count as paid.
    let shown = s.get_client(c.id).unwrap();
    assert_eq!(
        (shown.stats.visits, shown.stats.sold, shown.stats.paid),
        (0, 0, 50000)
    );
    assert_eq!(
        shown.stats.next_visit,
        Some(at(2026, 1, 10, 9, 0))
            .filter(|t| *t > chrono::Utc::now())
            .or(Some(future.start))
    );

    s.set_visit_status(past.id, VisitStatus::Completed).unwrap();
    let shown = s.get_client(c.id).unwrap();
    assert_eq!(shown.stats.visits, 1);
    assert_eq!(shown.stats.sold, 72000);
    assert_eq!(shown.stats.balance, 22000);
    assert_eq!(shown.stats.last_visit, Some(past.start));

    let moved = s
        .reschedule_visit(future.id, at(2099, 5, 2, 11, 30), Some(90))
        .unwrap();
    assert_eq!(
        (moved.start, moved.duration_min),
        (at(2099, 5, 2, 11, 30), 90)
    );
    s.update_visit(
        future.id,
        VisitPatch {
            reminder: Some(ReminderOverride::Off),
            paid: Some(65000),
            ..Default::default()
        },
    )
    .unwrap();
    let v = s.get_visit(future.id).unwrap();
    assert_eq!(v.reminder, ReminderOverride::Off);
    s.set_visit_status(future.id, VisitStatus::Cancelled)
        .unwrap();
    let shown = s.get_client(c.id).unwrap();
    assert_eq!(shown.stats.next_visit, None);
    assert_eq!(shown.stats.paid, 115000);

    let day = s
        .list_visits(&VisitFilter {
            from: Some(at(2026, 1, 10, 0, 0)),
            to: Some(at(2026, 1, 11, 0, 0)),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(day.iter().map(|v| v.id).collect::<Vec<_>>(), [past.id]);
    let all = s
        .list_visits(&VisitFilter {
            client: Some(c.id),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.len(), 2);
    let bad = s.add_visit(NewVisit {
        duration_min: 0,
        ..visit(c.id, at(2026, 1, 1, 1, 1), 1)
    });
    assert!(matches!(bad, Err(Error::Validation { .. })));
    let neg = s.add_visit(visit(c.id, at(2026, 1, 1, 1, 1), -1));
    assert!(matches!(neg, Err(Error::Validation { .. })));
}

#[test]
fn local_times_follow_the_business_zone_and_its_dst() {
    let (_d, s) = book();
    let t = |s2: &str| chrono::NaiveDateTime::parse_from_str(s2, "%Y-%m-%dT%H:%M").unwrap();
    // Kyiv is UTC+2 in winter, UTC+3 in summer.
    assert_eq!(
        s.local_to_utc(t("2026-12-01T10:00")).unwrap(),
        at(2026, 12, 1, 8, 0)
    );
    assert_eq!(
        s.local_to_utc(t("2026-07-01T10:00")).unwrap(),
        at(2026, 7, 1, 7, 0)
    );
    // 29 March 2026, 03:00 → 04:00: 03:30 does not exist.
    assert!(matches!(
        s.local_to_utc(t("2026-03-29T03:30")),
        Err(Error::Validation { .. })
    ));
    // 25 October 2026, 04:00 → 03:00: 03:30 happens twice; the first is taken.
    assert_eq!(
        s.local_to_utc(t("2026-10-25T03:30")).unwrap(),
        at(2026, 10, 25, 0, 30)
    );
}

#[test]
fn consent_changes_keep_their_evidence() {
    let (_d, mut s) = book();
    let staff = s.add_staff("Олена").unwrap();
    s.set_current_staff(Some(staff)).unwrap();
    let c = s.create_client(client("Anna", &["0671234567"])).unwrap();
    let sms = ConsentSubject::Channel(Channel::Sms);
    s.set_consent(c.id, sms, true, ConsentSource::Written, "signed the form")
        .unwrap();
    s.set_consent(
        c.id,
        ConsentSubject::Notification(NotificationKind::ReviewRequest),
        false,
        ConsentSource::Verbal,
        "",
    )
    .unwrap();
    let shown = s.get_client(c.id).unwrap();
    assert!(shown.consent["sms"]);
    assert!(!shown.consent["whatsapp"]);
    let state = s.consent(c.id).unwrap();
    assert!(state.granted(Channel::Sms));
    assert!(
        state
            .notifications
            .contains(&(NotificationKind::ReviewRequest, false))
    );
    assert!(
        state
            .notifications
            .contains(&(NotificationKind::Reminder, true))
    );
    assert_eq!(state.evidence.len(), 2);
    let e = &state.evidence[0];
    assert_eq!(
        (e.subject, e.granted, e.source, e.note.as_str()),
        (sms, true, ConsentSource::Written, "signed the form")
    );
    assert_eq!(e.staff_id, Some(staff));
    assert_eq!(e.device_id, s.device_id());
    s.set_consent(c.id, sms, false, ConsentSource::ClientReply, "STOP")
        .unwrap();
    assert!(!s.consent(c.id).unwrap().granted(Channel::Sms));
    assert_eq!(s.consent(c.id).unwrap().evidence.len(), 3);
}

#[test]
fn a_withdrawal_concurrent_with_a_grant_wins_even_a_repeated_one() {
    let (_a, mut a) = book();
    let c = a.create_client(client("Anna", &[])).unwrap();
    let sms = ConsentSubject::Channel(Channel::Sms);
    // Withdrawn everywhere first: the later withdrawal on B repeats the current state, the case
    // a plain boolean would silently lose.
    a.set_consent(c.id, sms, true, ConsentSource::Written, "")
        .unwrap();
    a.set_consent(c.id, sms, false, ConsentSource::Verbal, "")
        .unwrap();
    let (_b, mut b) = second_device(&a);
    sync_into(&a, &mut b);

    a.set_consent(
        c.id,
        sms,
        true,
        ConsentSource::Written,
        "grant while offline",
    )
    .unwrap();
    b.set_consent(
        c.id,
        sms,
        false,
        ConsentSource::ClientReply,
        "STOP while offline",
    )
    .unwrap();
    sync_into(&a, &mut b);
    sync_into(&b, &mut a);
    for s in [&a, &b] {
        let state = s.consent(c.id).unwrap();
        assert!(!state.granted(Channel::Sms), "withdrawal lost");
        assert_eq!(state.evidence.len(), 4);
        assert!(!s.get_client(c.id).unwrap().consent["sms"]);
    }
    assert_eq!(
        a.projection_snapshot().unwrap(),
        b.projection_snapshot().unwrap()
    );

    // A grant made after seeing the merged state is a real grant.
    a.set_consent(c.id, sms, true, ConsentSource::Written, "asked again")
        .unwrap();
    sync_into(&a, &mut b);
    assert!(b.consent(c.id).unwrap().granted(Channel::Sms));
}

#[test]
fn concurrent_edits_of_one_field_resolve_the_same_everywhere() {
    let (_a, mut a) = book();
    let c = a.create_client(client("Anna", &[])).unwrap();
    let (_b, mut b) = second_device(&a);
    sync_into(&a, &mut b);
    a.update_client(
        c.id,
        ClientPatch {
            name: Some("Anna A".into()),
            comment: Some(Some("from A".into())),
            ..Default::default()
        },
    )
    .unwrap();
    b.update_client(
        c.id,
        ClientPatch {
            name: Some("Anna B".into()),
            email: Some(Some("b@example.com".into())),
            ..Default::default()
        },
    )
    .unwrap();
    sync_into(&a, &mut b);
    sync_into(&b, &mut a);
    let (ca, cb) = (a.get_client(c.id).unwrap(), b.get_client(c.id).unwrap());
    assert_eq!(ca, cb);
    assert!(ca.name == "Anna A" || ca.name == "Anna B");
    // Different fields edited concurrently both survive.
    assert_eq!(ca.comment.as_deref(), Some("from A"));
    assert_eq!(ca.email.as_deref(), Some("b@example.com"));
    assert_eq!(
        a.projection_snapshot().unwrap(),
        b.projection_snapshot().unwrap()
    );
}

#[test]
fn a_visit_booked_offline_on_each_device_keeps_both() {
    let (_a, mut a) = book();
    let c = a.create_client(client("Anna", &[])).unwrap();
    let (_b, mut b) = second_device(&a);
    sync_into(&a, &mut b);
    a.add_visit(visit(c.id, at(2099, 1, 1, 9, 0), 100)).unwrap();
    b.add_visit(visit(c.id, at(2099, 1, 2, 9, 0), 200)).unwrap();
    b.delete_client(c.id).unwrap();
    sync_into(&a, &mut b);
    sync_into(&b, &mut a);
    for s in [&a, &b] {
        assert_eq!(
            s.list_visits(&VisitFilter {
                client: Some(c.id),
                ..Default::default()
            })
            .unwrap()
            .len(),
            2
        );
        assert!(s.get_client(c.id).unwrap().deleted);
    }
}

#[test]
fn garbage_from_the_network_is_refused_and_changes_nothing() {
    let (_a, mut a) = book();
    let c = a.create_client(client("Anna", &[])).unwrap();
    let before = a.projection_snapshot().unwrap();
    let doc = a.export_doc(c.id).unwrap();
    for bad in [
        b"not automerge".to_vec(),
        doc[..doc.len() / 2].to_vec(),
        vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0],
    ] {
        assert!(a.apply_remote(c.id, &bad).is_err());
    }
    // A valid document under the wrong id, and another business's settings.
    let (_o, other) = book();
    let other_biz = other.business().unwrap().id;
    assert!(a.apply_remote(uuid::Uuid::now_v7(), &doc).is_err());
    assert!(
        a.apply_remote(other_biz, &other.export_doc(other_biz).unwrap())
            .is_err()
    );
    assert_eq!(a.projection_snapshot().unwrap(), before);
    // Re-sending what is already there is harmless.
    assert!(!a.apply_remote(c.id, &doc).unwrap());
}

#[test]
fn the_book_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.db");
    let (id, device) = {
        let mut s = kartka_core::Store::open(&path).unwrap();
        assert!(matches!(s.business(), Err(Error::NotInitialized)));
        s.init_business(common::business()).unwrap();
        assert!(matches!(
            s.init_business(common::business()),
            Err(Error::AlreadyInitialized)
        ));
        (
            s.create_client(client("Олена", &["0671234567"]))
                .unwrap()
                .id,
            s.device_id(),
        )
    };
    let s = kartka_core::Store::open(&path).unwrap();
    assert_eq!(s.device_id(), device);
    assert_eq!(s.get_client(id).unwrap().name, "Олена");
    assert_eq!(s.business().unwrap().name, "Студія Олени");
}

#[test]
fn quick_messages_need_consent_at_the_moment_they_are_recorded() {
    let (_a, mut a) = book();
    let c = a.create_client(client("Anna", &["0671234567"])).unwrap();
    let err = a
        .record_message(c.id, Channel::Whatsapp, "Привіт!", None, None)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NoConsent {
                channel: Channel::Whatsapp
            }
        ),
        "{err}"
    );
    assert!(a.history(c.id).unwrap().is_empty());

    let wa = ConsentSubject::Channel(Channel::Whatsapp);
    a.set_consent(c.id, wa, true, ConsentSource::Written, "")
        .unwrap();
    let m = a
        .record_message(
            c.id,
            Channel::Whatsapp,
            "Привіт! Чекаю вас завтра о 10:00",
            None,
            None,
        )
        .unwrap();
    assert_eq!(m.status, kartka_core::model::MessageStatus::HandedToApp);
    assert_eq!(m.device_id, Some(a.device_id()));
    assert!(matches!(
        a.record_message(c.id, Channel::Marketing, "x", None, None),
        Err(Error::Validation { .. })
    ));
    assert!(matches!(
        a.record_message(c.id, Channel::Whatsapp, "  ", None, None),
        Err(Error::Validation { .. })
    ));

    // The history syncs like everything else.
    let (_b, mut b) = second_device(&a);
    sync_into(&a, &mut b);
    assert_eq!(b.history(c.id).unwrap(), vec![m.clone()]);

    // Withdrawn on B: B can no longer record; A learns it at the next sync.
    b.set_consent(c.id, wa, false, ConsentSource::ClientReply, "STOP")
        .unwrap();
    assert!(matches!(
        b.record_message(c.id, Channel::Whatsapp, "ще раз", None, None),
        Err(Error::NoConsent { .. })
    ));
    sync_into(&b, &mut a);
    assert!(matches!(
        a.record_message(c.id, Channel::Whatsapp, "ще раз", None, None),
        Err(Error::NoConsent { .. })
    ));
    assert_eq!(a.history(c.id).unwrap().len(), 1);
}

#[test]
fn two_cards_of_one_person_merge_with_the_stricter_consent_and_can_be_undone() {
    let (_d, mut s) = book();
    let a = s
        .create_client(NewClient {
            tags: vec!["брови".into()],
            email: Some("olena@example.com".into()),
            ..client("Олена Коваленко", &["0671234567"])
        })
        .unwrap();
    let b = s
        .create_client(NewClient {
            tags: vec!["нігті".into()],
            comment: Some("любить пастель".into()),
            ..client("Олена К.", &["0501112233"])
        })
        .unwrap();
    let sms = ConsentSubject::Channel(Channel::Sms);
    let wa = ConsentSubject::Channel(Channel::Whatsapp);
    s.set_consent(a.id, sms, true, ConsentSource::Written, "")
        .unwrap();
    s.set_consent(b.id, sms, true, ConsentSource::Written, "")
        .unwrap();
    s.set_consent(a.id, wa, true, ConsentSource::Verbal, "")
        .unwrap();
    s.record_message(b.id, Channel::Sms, "Привіт", None, None)
        .unwrap();
    let va = s
        .add_visit(visit(a.id, at(2026, 1, 10, 9, 0), 80000))
        .unwrap();
    let vb = s
        .add_visit(visit(b.id, at(2026, 2, 10, 9, 0), 50000))
        .unwrap();
    s.set_visit_status(vb.id, VisitStatus::Completed).unwrap();
    let before = s.projection_snapshot().unwrap();

    let p = s.preview_merge(a.id, b.id).unwrap();
    assert_eq!(p.phones.len(), 2);
    assert_eq!(p.tags, ["брови", "нігті"]);
    assert_eq!((p.visits, p.messages), (2, 1));
    // WhatsApp was granted on one card only: the merged card does not have it.
    assert_eq!(p.withdrawn, [Channel::Whatsapp]);
    assert_eq!(
        s.projection_snapshot().unwrap(),
        before,
        "a preview changed the book"
    );

    let outcome = s.merge_clients(a.id, b.id).unwrap();
    let kept = s.get_client(a.id).unwrap();
    assert_eq!(kept.phones.len(), 2);
    assert_eq!(kept.tags, ["брови", "нігті"]);
    assert_eq!(kept.comment.as_deref(), Some("любить пастель"));
    assert_eq!((kept.stats.visits, kept.stats.sold), (1, 50000));
    assert!(kept.consent["sms"] && !kept.consent["whatsapp"]);
    let evidence = s.consent(a.id).unwrap().evidence;
    assert_eq!(
        evidence.len(),
        4,
        "both cards' evidence (3) and the merge's withdrawal"
    );
    assert!(
        evidence
            .iter()
            .any(|e| !e.granted && e.note.contains("merged"))
    );
    assert_eq!(s.history(a.id).unwrap().len(), 1);
    let visits = s
        .list_visits(&VisitFilter {
            client: Some(a.id),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        visits.iter().map(|v| v.id).collect::<Vec<_>>(),
        [va.id, vb.id]
    );
    assert!(s.get_client(b.id).unwrap().deleted);
    assert_eq!(
        names(&s.search("050 111", Page::default()).unwrap()),
        ["Олена Коваленко"]
    );
    let merged = s.projection_snapshot().unwrap();
    s.rebuild_projection().unwrap();
    assert_eq!(s.projection_snapshot().unwrap(), merged);

    assert_eq!(s.undoable_merges().unwrap().len(), 1);
    s.undo_merge(outcome.undo).unwrap();
    assert_eq!(
        s.projection_snapshot().unwrap(),
        before,
        "undo did not restore both cards"
    );
    assert!(s.undoable_merges().unwrap().is_empty());
    assert!(matches!(
        s.undo_merge(outcome.undo),
        Err(Error::NotFound { .. })
    ));

    assert!(matches!(
        s.merge_clients(a.id, a.id),
        Err(Error::Validation { .. })
    ));
    s.delete_client(b.id).unwrap();
    assert!(matches!(
        s.merge_clients(a.id, b.id),
        Err(Error::Validation { .. })
    ));
}

#[test]
fn quick_actions_from_the_card_respect_consent_and_addresses() {
    use kartka_core::crdt::business::SettingsEdit;
    use kartka_core::messaging::deeplink::Platform;
    use kartka_core::model::Template;
    use kartka_core::store::MessageText;

    let (_d, mut s) = book();
    s.edit_business(SettingsEdit::Locale("uk".into())).unwrap();
    let c = s
        .create_client(client("Олена Коваленко", &["067 123 45 67"]))
        .unwrap();
    let nobody = s.create_client(client("Без номера", &[])).unwrap();
    assert_eq!(s.call_link(c.id).unwrap(), "tel:+380671234567");
    assert!(matches!(
        s.call_link(nobody.id),
        Err(Error::NoAddress { .. })
    ));

    let text = || MessageText::Text("Чекаю вас завтра о 10:00 & не запізнюйтесь".into());
    let err = s
        .quick_message(c.id, Channel::Whatsapp, text(), None, Platform::Android)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::NoConsent {
            channel: Channel::Whatsapp
        }
    ));
    for ch in [Channel::Whatsapp, Channel::Sms, Channel::Email] {
        s.set_consent(
            c.id,
            ConsentSubject::Channel(ch),
            true,
            ConsentSource::Written,
            "",
        )
        .unwrap();
        s.set_consent(
            nobody.id,
            ConsentSubject::Channel(ch),
            true,
            ConsentSource::Written,
            "",
        )
        .unwrap();
    }
    let wa = s
        .quick_message(c.id, Channel::Whatsapp, text(), None, Platform::Android)
        .unwrap();
    assert!(
        wa.link
            .starts_with("https://wa.me/380671234567?text=%D0%A7")
    );
    assert!(wa.sms.is_none());
    let sms = s
        .quick_message(c.id, Channel::Sms, text(), None, Platform::Ios)
        .unwrap();
    assert!(sms.link.starts_with("sms:+380671234567&body="));
    let info = sms.sms.unwrap();
    assert_eq!((info.segments, info.per_segment), (1, 70));
    assert!(matches!(
        s.quick_message(nobody.id, Channel::Sms, text(), None, Platform::Ios),
        Err(Error::NoAddress { .. })
    ));
    assert!(matches!(
        s.quick_message(c.id, Channel::Email, text(), None, Platform::Ios),
        Err(Error::NoAddress { .. })
    ));

    // Templates: an unknown placeholder is refused when saved.
    let bad = Template {
        id: uuid::Uuid::now_v7(),
        name: "bad".into(),
        channel: None,
        body: "Привіт {clientname}".into(),
        whatsapp: None,
    };
    assert!(matches!(
        s.edit_business(SettingsEdit::PutTemplate(bad)),
        Err(Error::Validation { .. })
    ));
    let id = uuid::Uuid::now_v7();
    let body =
        "{client_first_name}, нагадуємо: {visit_date} о {visit_time}, {services}. {business_name}";
    s.edit_business(SettingsEdit::PutTemplate(Template {
        id,
        name: "нагадування".into(),
        channel: None,
        body: body.into(),
        whatsapp: None,
    }))
    .unwrap();
    let v = s
        .add_visit(visit(c.id, at(2026, 12, 1, 8, 0), 80000))
        .unwrap();
    let m = s
        .quick_message(
            c.id,
            Channel::Sms,
            MessageText::Template(id),
            Some(v.id),
            Platform::Android,
        )
        .unwrap();
    assert_eq!(
        m.text,
        "Олена, нагадуємо: 1 грудня 2026 о 10:00, Манікюр. Студія Олени"
    );
    assert_eq!(m.template_id, Some(id));
    // Without a visit the template cannot be filled: a clear error, not a half-filled text.
    assert!(matches!(
        s.quick_message(
            c.id,
            Channel::Sms,
            MessageText::Template(id),
            None,
            Platform::Android
        ),
        Err(Error::Validation { .. })
    ));
}

#[test]
fn a_client_s_data_and_the_whole_book_are_exported() {
    let (_d, mut s) = book();
    let olena = s
        .create_client(NewClient {
            name: "Олена Коваль".into(),
            phones: vec![("067 123 45 67".into(), "mobile".into())],
            email: Some("olena@example.com".into()),
            comment: Some("алергія на ацетон; \"важливо\"".into()),
            tags: vec!["брови".into()],
            ..Default::default()
        })
        .unwrap()
        .id;
    let anna = s
        .create_client(NewClient {
            name: "Anna Nowak, Kraków".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    s.set_consent(
        olena,
        ConsentSubject::Channel(Channel::Sms),
        true,
        ConsentSource::Written,
        "анкета",
    )
    .unwrap();
    s.add_visit(visit(olena, at(2026, 12, 1, 8, 0), 80000))
        .unwrap();
    let gone = s
        .create_client(NewClient {
            name: "Видалена".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    s.delete_client(gone).unwrap();

    let one = s.export_client(olena).unwrap();
    assert_eq!(one["client"]["name"], "Олена Коваль");
    assert_eq!(one["client"]["phones"][0]["e164"], "+380671234567");
    assert_eq!(one["consent"]["evidence"][0]["note"], "анкета");
    assert_eq!(one["visits"].as_array().unwrap().len(), 1);
    assert_eq!(one["visits"][0]["total"], 80000);
    assert!(matches!(
        s.export_client(uuid::Uuid::now_v7()),
        Err(Error::NotFound { .. })
    ));

    let mut json = Vec::new();
    assert_eq!(s.export_book_json(&mut json).unwrap(), 2);
    let book: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(book["format"], 1);
    assert_eq!(book["business"]["currency"], "UAH");
    let names: Vec<&str> = book["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Олена Коваль") && names.contains(&"Anna Nowak, Kraków"));

    let mut csv_bytes = Vec::new();
    assert_eq!(s.export_book_csv(&mut csv_bytes).unwrap(), 2);
    let mut r = csv::Reader::from_reader(&csv_bytes[..]);
    let header = r.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let o = rows
        .iter()
        .find(|x| &x[col("id")] == olena.to_string().as_str())
        .unwrap();
    assert_eq!(&o[col("comment")], "алергія на ацетон; \"важливо\"");
    assert_eq!(&o[col("phones")], "+380671234567");
    assert_eq!(&o[col("consent_sms")], "true");
    assert_eq!(&o[col("consent_whatsapp")], "false");
    let a = rows
        .iter()
        .find(|x| &x[col("id")] == anna.to_string().as_str())
        .unwrap();
    assert_eq!(&a[col("name")], "Anna Nowak, Kraków");
}

/// Forgetting a client: gone from the book's files at once (not only from the tables), queued
/// for the server, and never taken in again from a device that still has the old document.
#[test]
fn a_forgotten_client_is_gone_from_the_files_and_never_comes_back() {
    let (dir, mut a) = book();
    let (_dir_b, mut b) = second_device(&a);
    let kept = a
        .create_client(client("Звичайна Клієнтка", &["+380671234567"]))
        .unwrap();
    let gone = a
        .create_client(NewClient {
            email: Some("forget.me@example.com".into()),
            ..client("Забута Людина", &["+380939876543"])
        })
        .unwrap();
    sync_into(&a, &mut b);
    let files = || common::files(dir.path());
    let holds = common::holds;
    assert!(holds(&files(), "Забута Людина"));

    a.forget_client(gone.id).unwrap();
    let after = files();
    for s in ["Забута Людина", "939876543", "forget.me@example.com"] {
        assert!(!holds(&after, s), "{s} is still in the book's files");
    }
    assert!(matches!(a.get_client(gone.id), Err(Error::NotFound { .. })));
    assert_eq!(a.get_client(kept.id).unwrap().name, "Звичайна Клієнтка");
    assert_eq!(a.erasures_to_send().unwrap(), vec![gone.id]);
    assert!(
        a.search(
            "Забута",
            Page {
                offset: 0,
                limit: 10
            }
        )
        .unwrap()
        .is_empty()
    );

    // The other device still has the document, with its history: merging it back is refused.
    sync_into(&b, &mut a);
    assert!(matches!(a.get_client(gone.id), Err(Error::NotFound { .. })));
    assert!(
        !a.apply_remote(gone.id, &b.export_doc(gone.id).unwrap())
            .unwrap()
    );
    assert!(a.is_erased(gone.id).unwrap());

    // Only clients can be forgotten; twice is not found.
    let business = a.business().unwrap().id;
    assert!(matches!(
        a.forget_client(business),
        Err(Error::Validation { .. })
    ));
    assert!(matches!(
        a.forget_client(gone.id),
        Err(Error::NotFound { .. })
    ));
    a.erasures_sent(&[gone.id]).unwrap();
    assert!(a.erasures_to_send().unwrap().is_empty());
}

#[test]
fn the_client_list_searches_within_a_class_and_a_tag_and_pages_after_filtering() {
    let (_d, mut s) = book();
    let vip = |name: &str, phone: &str, tags: &[&str]| NewClient {
        class: Some(ClientClass::Vip),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..client(name, &[phone])
    };
    s.create_clients(vec![
        vip("Олена Коваль", "+380671234501", &["нарощення"]),
        client("Олена Мельник", &["+380671234502"]),
        vip("Оксана Бондар", "+380671234503", &[]),
        NewClient {
            tags: vec!["нарощення".into()],
            ..client("Олег Шевчук", &["+380671234504"])
        },
    ])
    .unwrap();
    let find = |q: &str, class: Option<ClientClass>, tag: Option<&str>, page: Page| {
        let filter = ClientFilter {
            class,
            tag: tag.map(String::from),
            ..Default::default()
        };
        names(&s.find_clients(q, &filter, page).unwrap())
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let all = Page::default();
    assert_eq!(
        find("олена", None, None, all),
        ["Олена Коваль", "Олена Мельник"]
    );
    assert_eq!(
        find("олена", Some(ClientClass::Vip), None, all),
        ["Олена Коваль"]
    );
    // Numbers starting with the digits, in name order.
    assert_eq!(
        find("067123450", Some(ClientClass::Vip), None, all),
        ["Оксана Бондар", "Олена Коваль"]
    );
    assert_eq!(
        find("о", None, Some("нарощення"), all),
        ["Олег Шевчук", "Олена Коваль"]
    );
    assert_eq!(
        find("олена ко", Some(ClientClass::Regular), None, all),
        Vec::<String>::new()
    );
    // A blank query is the filtered list in name order.
    assert_eq!(
        find(" ", Some(ClientClass::Vip), None, all),
        ["Оксана Бондар", "Олена Коваль"]
    );
    // Pages count filtered rows, so a filter never leaves a short page while more match.
    let second = Page {
        offset: 1,
        limit: 1,
    };
    assert_eq!(
        find("0671234", Some(ClientClass::Vip), None, second),
        ["Олена Коваль"]
    );
}

#[test]
fn the_cards_buttons_are_enabled_exactly_when_the_message_could_be_built() {
    use kartka_core::messaging::deeplink::Platform;
    use kartka_core::store::MessageText;

    let (_d, mut s) = book();
    let with_number = s
        .create_client(client("Олена", &["067 123 45 67"]))
        .unwrap();
    let no_number = s
        .create_client(NewClient {
            email: Some("anna@example.pl".into()),
            ..client("Anna", &[])
        })
        .unwrap();
    let channels = [
        Channel::Sms,
        Channel::Whatsapp,
        Channel::Telegram,
        Channel::Viber,
        Channel::Email,
    ];
    let check = |s: &kartka_core::Store, id| {
        let actions = s.card_actions(id).unwrap();
        assert_eq!(actions[0].action, "call");
        assert_eq!(actions[0].enabled, s.call_link(id).is_ok());
        for (a, ch) in actions[1..].iter().zip(channels) {
            assert_eq!(a.action, ch.as_str());
            let built = s.quick_message(
                id,
                ch,
                MessageText::Text("Hi".into()),
                None,
                Platform::Android,
            );
            assert_eq!(a.enabled, built.is_ok(), "{ch}: {built:?}");
            assert_eq!(a.reason.is_some(), !a.enabled);
        }
        actions
    };
    // New clients: nothing but the call, and the reason says it is consent.
    let a = check(&s, with_number.id);
    assert!(a[0].enabled);
    assert_eq!(a[1].reason.as_deref(), Some("no consent for sms"));
    let a = check(&s, no_number.id);
    assert_eq!(a[0].reason.as_deref(), Some("no phone number"));
    assert_eq!(a[5].reason.as_deref(), Some("no consent for email"));

    for ch in channels {
        for id in [with_number.id, no_number.id] {
            s.set_consent(
                id,
                ConsentSubject::Channel(ch),
                true,
                ConsentSource::Verbal,
                "asked at the visit",
            )
            .unwrap();
        }
    }
    let a = check(&s, with_number.id);
    assert!(a[..5].iter().all(|a| a.enabled));
    assert_eq!(a[5].reason.as_deref(), Some("no email address"));
    let a = check(&s, no_number.id);
    assert_eq!(a[1].reason.as_deref(), Some("no phone number"));
    assert!(a[5].enabled);

    // A withdrawal disables the button again at once.
    s.set_consent(
        with_number.id,
        ConsentSubject::Channel(Channel::Whatsapp),
        false,
        ConsentSource::Verbal,
        "",
    )
    .unwrap();
    let a = check(&s, with_number.id);
    assert_eq!(a[2].reason.as_deref(), Some("no consent for whatsapp"));
}

#[test]
fn the_message_log_lists_every_clients_messages_newest_first_and_filters() {
    use kartka_core::model::{MessageKind, MessageStatus};
    use kartka_core::store::MessageFilter;

    let fixed = |t: chrono::DateTime<chrono::Utc>| -> kartka_core::store::Clock {
        std::sync::Arc::new(move || t)
    };
    let (_d, mut s) = book();
    let olena = s
        .create_client(client("Олена", &["067 123 45 67"]))
        .unwrap();
    let anna = s
        .create_client(client("Anna", &["+48 601 234 567"]))
        .unwrap();
    for (c, ch) in [
        (olena.id, Channel::Sms),
        (olena.id, Channel::Whatsapp),
        (anna.id, Channel::Sms),
    ] {
        s.set_consent(
            c,
            ConsentSubject::Channel(ch),
            true,
            ConsentSource::Written,
            "",
        )
        .unwrap();
    }
    s.set_clock(fixed(at(2026, 11, 1, 10, 0)));
    s.record_message(olena.id, Channel::Sms, "перше", None, None)
        .unwrap();
    s.set_clock(fixed(at(2026, 11, 2, 10, 0)));
    s.record_message(anna.id, Channel::Sms, "druga", None, None)
        .unwrap();
    s.set_clock(fixed(at(2026, 11, 3, 10, 0)));
    s.record_message(olena.id, Channel::Whatsapp, "третє", None, None)
        .unwrap();

    let log = |f: MessageFilter| {
        s.message_log(&f, Page::default())
            .unwrap()
            .into_iter()
            .map(|l| (l.client_name, l.message.body))
            .collect::<Vec<_>>()
    };
    let all = log(MessageFilter::default());
    assert_eq!(
        all,
        [
            ("Олена".to_string(), "третє".to_string()),
            ("Anna".to_string(), "druga".to_string()),
            ("Олена".to_string(), "перше".to_string()),
        ]
    );
    assert_eq!(
        log(MessageFilter {
            channel: Some(Channel::Sms),
            ..Default::default()
        })
        .len(),
        2
    );
    assert_eq!(
        log(MessageFilter {
            client: Some(anna.id),
            ..Default::default()
        })
        .len(),
        1
    );
    assert_eq!(
        log(MessageFilter {
            from: Some(at(2026, 11, 2, 0, 0)),
            to: Some(at(2026, 11, 3, 0, 0)),
            ..Default::default()
        }),
        [("Anna".to_string(), "druga".to_string())]
    );
    assert_eq!(
        log(MessageFilter {
            status: Some(MessageStatus::Failed),
            ..Default::default()
        })
        .len(),
        0
    );
    assert_eq!(
        log(MessageFilter {
            kind: Some(MessageKind::Manual),
            ..Default::default()
        })
        .len(),
        3
    );
    assert_eq!(
        log(MessageFilter {
            rule: Some(uuid::Uuid::now_v7()),
            ..Default::default()
        })
        .len(),
        0
    );
    let page = s
        .message_log(
            &MessageFilter::default(),
            Page {
                offset: 1,
                limit: 1,
            },
        )
        .unwrap();
    assert_eq!(page[0].message.body, "druga");
}

#[test]
fn a_mailing_reaches_exactly_the_clients_with_marketing_and_channel_consent() {
    use kartka_core::model::{Birthday, ClientClass};
    use kartka_core::store::Audience;

    let (_d, mut s) = book();
    // 300 clients in every combination of marketing consent, SMS consent, a number, a class
    // and a birthday month.
    let mut expected = std::collections::BTreeSet::new();
    let mut vip_in_march = 0;
    for i in 0..300u32 {
        let (marketing, sms, number, vip) = (i % 2 == 0, i % 3 != 0, i % 5 != 0, i % 4 == 0);
        let c = s
            .create_client(NewClient {
                name: format!("Клієнтка {i:03}"),
                phones: if number {
                    vec![(format!("+38067{:07}", 1_000_000 + i), String::new())]
                } else {
                    vec![]
                },
                class: vip.then_some(ClientClass::Vip),
                birthday: Some(Birthday::MonthDay {
                    month: 1 + i % 12,
                    day: 10,
                }),
                ..Default::default()
            })
            .unwrap();
        for (yes, ch) in [(marketing, Channel::Marketing), (sms, Channel::Sms)] {
            if yes {
                s.set_consent(
                    c.id,
                    ConsentSubject::Channel(ch),
                    true,
                    ConsentSource::BookingForm,
                    "",
                )
                .unwrap();
            }
        }
        if marketing && sms && number {
            expected.insert(c.id);
            if vip && 1 + i % 12 == 3 {
                vip_in_march += 1;
            }
        }
    }
    let text = "Весняна знижка 20% на манікюр до кінця березня! Запис за посиланням у профілі";
    let p = s
        .mailing_preview(&Audience::default(), Channel::Sms, text)
        .unwrap();
    assert_eq!(p.matched, 300);
    assert_eq!(
        p.recipients
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        expected
    );
    assert_eq!(p.no_marketing_consent, 150);
    assert_eq!(p.no_channel_consent, 50, "even i, divisible by 3");
    assert_eq!(
        p.no_marketing_consent + p.no_channel_consent + p.no_address + p.recipients.len() as u32,
        300
    );
    assert_eq!(p.sms_segments, Some(2), "UCS-2 over 70 characters");
    assert_eq!(p.sms_segments_total, Some(2 * expected.len() as u32));

    let march_vips = s
        .mailing_preview(
            &Audience {
                class: Some(ClientClass::Vip),
                birthday_month: Some(3),
                ..Default::default()
            },
            Channel::Sms,
            text,
        )
        .unwrap();
    assert_eq!(march_vips.recipients.len(), vip_in_march);
    assert!(march_vips.recipients.iter().all(|id| expected.contains(id)));
    // Nobody has visited yet: "last visit before" picks no one.
    let lapsed = s
        .mailing_preview(
            &Audience {
                last_visit_before: Some(chrono::Utc::now()),
                ..Default::default()
            },
            Channel::Sms,
            text,
        )
        .unwrap();
    assert_eq!(lapsed.matched, 0);
    assert!(
        s.mailing_preview(&Audience::default(), Channel::Marketing, text)
            .is_err()
    );
    assert!(
        s.mailing_preview(&Audience::default(), Channel::Sms, "  ")
            .is_err()
    );
    assert!(
        s.mailing_preview(
            &Audience {
                birthday_month: Some(13),
                ..Default::default()
            },
            Channel::Sms,
            text
        )
        .is_err()
    );
}

#[test]
fn an_extension_stays_on_the_card_and_is_dialled() {
    let (_d, mut s) = book();
    // The same number twice, once with its extension: one number on the card.
    let c = s
        .create_client(client(
            "Бухгалтерія",
            &["044 235 12 34 доб. 5", "+380 44 235 12 34"],
        ))
        .unwrap();
    assert_eq!(c.phones.len(), 1);
    let p = &c.phones[0];
    assert_eq!(p.e164.as_deref(), Some("+380442351234"));
    assert_eq!(p.extension().as_deref(), Some("5"));
    assert_eq!(s.call_link(c.id).unwrap(), "tel:+380442351234;ext=5");
    assert_eq!(s.dial_link(c.id).unwrap(), "tel:+380442351234,5");
    // Found by the number however it is typed, with or without the extension.
    for q in ["044 235 12 34", "+380442351234", "442351234"] {
        assert_eq!(
            names(&s.search(q, Page::default()).unwrap()),
            ["Бухгалтерія"],
            "{q}"
        );
    }
    // The extension is read from what was typed, so it comes back from the store and a sync.
    let again = s.get_client(c.id).unwrap();
    assert_eq!(again.phones[0].extension().as_deref(), Some("5"));
    let (_d2, mut other) = second_device(&s);
    sync_into(&s, &mut other);
    assert_eq!(other.dial_link(c.id).unwrap(), "tel:+380442351234,5");

    let plain = s
        .create_client(client("Олена", &["067 123 45 67"]))
        .unwrap();
    assert_eq!(s.call_link(plain.id).unwrap(), "tel:+380671234567");
    assert_eq!(s.dial_link(plain.id).unwrap(), "tel:+380671234567");
}

#[test]
fn numbers_are_found_by_the_national_forms_of_their_own_region() {
    let (_d, mut s) = book();
    s.create_client(client("Алесь", &["+375 29 123-45-67"]))
        .unwrap();
    s.create_client(client("Пётр", &["+7 (812) 123 45 67"]))
        .unwrap();
    s.create_client(client("Anna", &["+48 601 234 567"]))
        .unwrap();
    // A Ukrainian book: each number is found as its own country writes it, in any script of
    // digits and with any dash.
    for (q, who) in [
        ("8 029 123-45-67", "Алесь"),
        ("80291234567", "Алесь"),
        ("375291234567", "Алесь"),
        ("8 (812) 123-45-67", "Пётр"),
        ("8\u{2013}812\u{2013}123", "Пётр"),
        ("601 234 567", "Anna"),
        ("６０１ ２３４", "Anna"),
    ] {
        assert_eq!(names(&s.search(q, Page::default()).unwrap()), [who], "{q}");
    }
}
