//! Edits made on two devices at once: two real books of one business change the same card while
//! apart, exchange their documents, and both show the conflict with every value and who made
//! it; settling on one clears it on both after the next exchange. The merged value before
//! anyone settles is what automerge picks, the same on both books.

mod common;

use common::{at, book, client, second_device, sync_into};
use kartka_core::Error;
use kartka_core::Store;
use kartka_core::model::{Birthday, ClientPatch, NewVisit, VisitPatch};
use kartka_core::store::{Conflict, ConflictField, FieldValue, Keep};
use uuid::Uuid;

fn rename(s: &mut Store, id: Uuid, name: &str) {
    s.update_client(
        id,
        ClientPatch {
            name: Some(name.into()),
            ..Default::default()
        },
    )
    .unwrap();
}

fn set_phones(s: &mut Store, id: Uuid, phones: &[&str]) {
    s.update_client(
        id,
        ClientPatch {
            phones: Some(
                phones
                    .iter()
                    .map(|p| (p.to_string(), String::new()))
                    .collect(),
            ),
            ..Default::default()
        },
    )
    .unwrap();
}

fn exchange(a: &mut Store, b: &mut Store) {
    sync_into(a, b);
    sync_into(b, a);
}

fn field<'a>(cs: &'a [Conflict], f: &ConflictField) -> &'a Conflict {
    cs.iter()
        .find(|c| c.field == *f)
        .unwrap_or_else(|| panic!("no conflict on {f} in {cs:?}"))
}

fn displays(c: &Conflict) -> Vec<String> {
    c.values.iter().map(|v| v.value.display()).collect()
}

/// Two books of one business, both holding one client, with names for both devices.
fn two_books() -> ((tempfile::TempDir, Store), (tempfile::TempDir, Store), Uuid) {
    let (da, mut a) = book();
    a.name_this_device("Olena's phone").unwrap();
    let (db, mut b) = second_device(&a);
    let ira = b.add_staff("Ira").unwrap();
    b.set_current_staff(Some(ira)).unwrap();
    let id = a
        .create_client(client("Anna Koval", &["+380671111111"]))
        .unwrap()
        .id;
    exchange(&mut a, &mut b);
    ((da, a), (db, b), id)
}

#[test]
fn concurrent_names_and_phone_lists_are_shown_on_both_books_and_settled_once() {
    let ((_da, mut a), (_db, mut b), id) = two_books();
    assert!(a.conflicts(id).unwrap().is_empty());

    // Apart: both rename her and both replace her number.
    rename(&mut a, id, "Anna Kovalenko");
    set_phones(&mut a, id, &["+380672222222"]);
    rename(&mut b, id, "Ганна Коваль");
    set_phones(&mut b, id, &["+380673333333"]);
    exchange(&mut a, &mut b);

    // The merged card is what it has always been: one name, the same on both; both numbers.
    let (ca, cb) = (a.get_client(id).unwrap(), b.get_client(id).unwrap());
    assert_eq!(ca.name, cb.name);
    assert_eq!(ca.phones, cb.phones);
    let mut numbers: Vec<_> = ca.phones.iter().map(|p| p.raw.clone()).collect();
    numbers.sort();
    assert_eq!(numbers, ["+380672222222", "+380673333333"]);

    let (ka, kb) = (a.conflicts(id).unwrap(), b.conflicts(id).unwrap());
    assert_eq!(ka.len(), 2, "{ka:?}");
    for cs in [&ka, &kb] {
        let name = field(cs, &ConflictField::Name);
        let mut names = displays(name);
        names.sort();
        assert_eq!(names, ["Anna Kovalenko", "Ганна Коваль"]);
        // The value marked current is the one the card shows.
        assert_eq!(
            name.values[name.current.unwrap()].value,
            FieldValue::Text(ca.name.clone())
        );
        let phones = field(cs, &ConflictField::Phones);
        assert_eq!(phones.current, None, "a phone list shows the union");
        let mut lists = displays(phones);
        lists.sort();
        assert_eq!(lists, ["+380672222222", "+380673333333"]);
    }
    // Both books list the values in the same order, with who wrote each.
    assert_eq!(
        displays(field(&ka, &ConflictField::Name)),
        displays(field(&kb, &ConflictField::Name))
    );
    let by = |cs: &[Conflict], value: &str| {
        field(cs, &ConflictField::Name)
            .values
            .iter()
            .find(|v| v.value.display() == value)
            .unwrap()
            .author
            .clone()
    };
    let olena = by(&ka, "Anna Kovalenko");
    assert!(olena.this_device);
    assert_eq!(olena.device, Some(a.device_id()));
    assert_eq!(olena.name.as_deref(), Some("Olena's phone"));
    let ira = by(&ka, "Ганна Коваль");
    assert!(!ira.this_device);
    assert_eq!(ira.device, Some(b.device_id()));
    assert_eq!(
        ira.name.as_deref(),
        Some("Ira"),
        "the staff member on that device"
    );
    assert!(by(&kb, "Ганна Коваль").this_device);

    // B keeps A's name and only its own number.
    let name = field(&kb, &ConflictField::Name);
    let keep_a = name
        .values
        .iter()
        .position(|v| v.value.display() == "Anna Kovalenko")
        .unwrap();
    let settled = b
        .settle(id, &ConflictField::Name, Keep::Value(keep_a))
        .unwrap();
    assert_eq!(settled.name, "Anna Kovalenko");
    let phones = field(&kb, &ConflictField::Phones);
    let keep_b = phones
        .values
        .iter()
        .position(|v| v.value.display() == "+380673333333")
        .unwrap();
    let settled = b
        .settle(id, &ConflictField::Phones, Keep::Value(keep_b))
        .unwrap();
    assert_eq!(settled.phones.len(), 1);
    assert_eq!(settled.phones[0].raw, "+380673333333");
    assert!(settled.phones[0].primary);
    assert!(b.conflicts(id).unwrap().is_empty());
    // A still sees both until it hears of the settling.
    assert_eq!(a.conflicts(id).unwrap().len(), 2);

    exchange(&mut a, &mut b);
    assert!(a.conflicts(id).unwrap().is_empty());
    assert!(b.conflicts(id).unwrap().is_empty());
    assert_eq!(a.get_client(id).unwrap(), b.get_client(id).unwrap());
    assert_eq!(a.get_client(id).unwrap().name, "Anna Kovalenko");
    assert_eq!(a.get_client(id).unwrap().phones[0].raw, "+380673333333");

    // Settled means nothing left to settle.
    assert!(matches!(
        a.settle(id, &ConflictField::Name, Keep::Value(0)),
        Err(Error::NoConflict { .. })
    ));
}

#[test]
fn keeping_every_number_keeps_both_and_clears_the_conflict() {
    let ((_da, mut a), (_db, mut b), id) = two_books();
    set_phones(&mut a, id, &["+380672222222"]);
    set_phones(&mut b, id, &["+380673333333", "+380674444444"]);
    exchange(&mut a, &mut b);
    let before = a.get_client(id).unwrap().phones;
    assert_eq!(before.len(), 3);

    // Bad choices are typed errors, the card untouched.
    assert!(matches!(
        a.settle(id, &ConflictField::Phones, Keep::Value(2)),
        Err(Error::NoSuchValue { index: 2, count: 2 })
    ));
    assert!(matches!(
        a.settle(id, &ConflictField::Name, Keep::Value(0)),
        Err(Error::NoConflict { .. })
    ));

    let kept = a.settle(id, &ConflictField::Phones, Keep::All).unwrap();
    assert_eq!(
        kept.phones, before,
        "every number, the primary as it was shown"
    );
    exchange(&mut a, &mut b);
    assert!(a.conflicts(id).unwrap().is_empty());
    assert!(b.conflicts(id).unwrap().is_empty());
    assert_eq!(b.get_client(id).unwrap().phones, before);
}

#[test]
fn the_same_change_on_both_books_is_no_conflict() {
    let ((_da, mut a), (_db, mut b), id) = two_books();
    rename(&mut a, id, "Anna K.");
    rename(&mut b, id, "Anna K.");
    set_phones(&mut a, id, &["+380672222222"]);
    set_phones(&mut b, id, &["+380672222222"]);
    // Different fields changed apart are both kept, with nothing to settle.
    a.update_client(
        id,
        ClientPatch {
            comment: Some(Some("likes tea".into())),
            ..Default::default()
        },
    )
    .unwrap();
    exchange(&mut a, &mut b);
    assert!(a.conflicts(id).unwrap().is_empty());
    assert!(b.conflicts(id).unwrap().is_empty());
    assert_eq!(
        b.get_client(id).unwrap().comment.as_deref(),
        Some("likes tea")
    );
}

#[test]
fn birthday_comment_and_visit_time_conflicts_settle_on_both_books() {
    let ((_da, mut a), (_db, mut b), id) = two_books();
    let visit = a
        .add_visit(NewVisit::booked(id, at(2026, 12, 10, 9, 0), 60, vec![]))
        .unwrap()
        .id;
    exchange(&mut a, &mut b);

    for (s, birthday, comment, hour) in [
        (&mut a, "1990-05-17", "allergic to latex", 10),
        (&mut b, "--05-18", "prefers mornings", 12),
    ] {
        s.update_client(
            id,
            ClientPatch {
                birthday: Some(Some(birthday.parse::<Birthday>().unwrap())),
                comment: Some(Some(comment.into())),
                ..Default::default()
            },
        )
        .unwrap();
        s.update_visit(
            visit,
            VisitPatch {
                start: Some(at(2026, 12, 10, hour, 0)),
                ..Default::default()
            },
        )
        .unwrap();
    }
    exchange(&mut a, &mut b);

    let cs = b.conflicts(id).unwrap();
    assert_eq!(
        cs,
        a.conflicts(id)
            .unwrap()
            .iter()
            .map(|c| {
                // The same conflicts on both books; only "this device" differs.
                let mut c = c.clone();
                for v in &mut c.values {
                    v.author.this_device = v.author.device == Some(b.device_id());
                }
                c
            })
            .collect::<Vec<_>>()
    );
    let mut birthdays = displays(field(&cs, &ConflictField::Birthday));
    birthdays.sort();
    assert_eq!(birthdays, ["--05-18", "1990-05-17"]);
    let mut comments = displays(field(&cs, &ConflictField::Comment));
    comments.sort();
    assert_eq!(comments, ["allergic to latex", "prefers mornings"]);
    let time = field(&cs, &ConflictField::VisitTime { visit });
    let mut starts: Vec<_> = time
        .values
        .iter()
        .map(|v| match v.value {
            FieldValue::Time(t) => t,
            ref other => panic!("not a time: {other:?}"),
        })
        .collect();
    starts.sort();
    assert_eq!(starts, [at(2026, 12, 10, 10, 0), at(2026, 12, 10, 12, 0)]);
    let shown = b.get_visit(visit).unwrap().start;
    assert_eq!(
        time.values[time.current.unwrap()].value,
        FieldValue::Time(shown)
    );

    // Keep every value that is not shown now, so each settle visibly changes the card.
    let other = |c: &Conflict| 1 - c.current.unwrap();
    let birthday = field(&cs, &ConflictField::Birthday);
    let comment = field(&cs, &ConflictField::Comment);
    let want_time = time.values[other(time)].value.clone();
    let want_birthday = birthday.values[other(birthday)].value.display();
    let want_comment = comment.values[other(comment)].value.display();
    assert!(matches!(
        b.settle(id, &ConflictField::Comment, Keep::All),
        Err(Error::Validation { field: "keep", .. })
    ));
    b.settle(id, &ConflictField::Birthday, Keep::Value(other(birthday)))
        .unwrap();
    b.settle(id, &ConflictField::Comment, Keep::Value(other(comment)))
        .unwrap();
    b.settle(
        id,
        &ConflictField::VisitTime { visit },
        Keep::Value(other(time)),
    )
    .unwrap();
    exchange(&mut a, &mut b);
    for s in [&a, &b] {
        assert!(s.conflicts(id).unwrap().is_empty());
        let c = s.get_client(id).unwrap();
        assert_eq!(c.birthday.unwrap().to_string(), want_birthday);
        assert_eq!(c.comment.unwrap(), want_comment);
        assert_eq!(
            FieldValue::Time(s.get_visit(visit).unwrap().start),
            want_time
        );
    }
}

#[test]
fn field_keys_read_back() {
    let visit = Uuid::now_v7();
    for f in [
        ConflictField::Name,
        ConflictField::Phones,
        ConflictField::Comment,
        ConflictField::Birthday,
        ConflictField::VisitTime { visit },
    ] {
        assert_eq!(ConflictField::parse(&f.key()), Some(f));
    }
    assert_eq!(ConflictField::parse("email"), None);
    assert_eq!(ConflictField::parse("visit-time:nope"), None);
}
