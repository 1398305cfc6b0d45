//! Edits made on two devices at once, over a real `kartka-server` process on loopback: two
//! paired books change the same name, phone list and visit time while apart, sync, and both
//! list the conflicts with every value and the name each device was paired under; one settles
//! (a phone list with every number kept); after the next syncs neither lists anything, and a
//! fresh device that pulls the book sees the settled card and no conflict.

use std::path::Path;

use chrono::{TimeZone, Utc};
use kartka_core::model::{ClientPatch, NewClient, NewVisit, VisitPatch};
use kartka_core::store::{ConflictField, Keep};
use kartka_tests::{Device, Server, converge};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_server-under-test"))
}

#[test]
fn two_paired_books_see_the_same_conflicts_and_one_settling_clears_them_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path());
    let a = Device::owner(&server.url);
    let (id, visit) = a.with(|s| {
        let c = s
            .create_client(NewClient {
                name: "Anna".into(),
                phones: vec![("+380671111111".into(), String::new())],
                ..Default::default()
            })
            .unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap();
        let v = s.add_visit(NewVisit::booked(c.id, at, 60, vec![])).unwrap();
        (c.id, v.id)
    });
    a.sync().unwrap();
    let b = Device::join(&server.url, &a);

    for (d, name, phone, hour) in [
        (&a, "Anna K", "+380672222222", 10),
        (&b, "Ганна", "+380673333333", 12),
    ] {
        d.with(|s| {
            s.update_client(
                id,
                ClientPatch {
                    name: Some(name.into()),
                    phones: Some(vec![(phone.into(), String::new())]),
                    ..Default::default()
                },
            )
            .unwrap();
            s.update_visit(
                visit,
                VisitPatch {
                    start: Some(Utc.with_ymd_and_hms(2026, 12, 10, hour, 0, 0).unwrap()),
                    ..Default::default()
                },
            )
            .unwrap();
        });
    }
    converge(&[&a, &b]);

    let (ka, kb) = (
        a.with(|s| s.conflicts(id).unwrap()),
        b.with(|s| s.conflicts(id).unwrap()),
    );
    let fields: Vec<_> = ka.iter().map(|c| c.field.clone()).collect();
    assert_eq!(
        fields,
        [
            ConflictField::Name,
            ConflictField::Phones,
            ConflictField::VisitTime { visit }
        ]
    );
    for (x, y) in ka.iter().zip(&kb) {
        assert_eq!(x.field, y.field);
        assert_eq!(x.current, y.current);
        let values = |c: &kartka_core::store::Conflict| {
            c.values
                .iter()
                .map(|v| (v.value.clone(), v.author.device, v.author.name.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(values(x), values(y), "the same values, in the same order");
        let mut names: Vec<_> = x
            .values
            .iter()
            .filter_map(|v| v.author.name.clone())
            .collect();
        names.sort();
        assert_eq!(names, ["owner", "phone"], "each value names its device");
    }

    // B settles: A's name, every number, its own time.
    let name = &kb[0];
    let keep = name
        .values
        .iter()
        .position(|v| v.value.display() == "Anna K")
        .unwrap();
    let time = &kb[2];
    let own = time
        .values
        .iter()
        .position(|v| v.author.this_device)
        .unwrap();
    b.with(|s| {
        s.settle(id, &ConflictField::Name, Keep::Value(keep))
            .unwrap();
        let c = s.settle(id, &ConflictField::Phones, Keep::All).unwrap();
        assert_eq!(c.phones.len(), 2);
        s.settle(id, &ConflictField::VisitTime { visit }, Keep::Value(own))
            .unwrap();
    });
    converge(&[&a, &b]);

    let fresh = Device::join(&server.url, &a);
    for d in [&a, &b, &fresh] {
        d.with(|s| {
            assert!(s.conflicts(id).unwrap().is_empty());
            let c = s.get_client(id).unwrap();
            assert_eq!(c.name, "Anna K");
            let mut numbers: Vec<_> = c.phones.iter().map(|p| p.raw.clone()).collect();
            numbers.sort();
            assert_eq!(numbers, ["+380672222222", "+380673333333"]);
            assert_eq!(
                s.get_visit(visit).unwrap().start,
                Utc.with_ymd_and_hms(2026, 12, 10, 12, 0, 0).unwrap()
            );
        });
    }
}
