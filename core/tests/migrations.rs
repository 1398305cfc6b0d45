//! Old databases kept under `tests/fixtures/` open with the current code, migrate, and keep
//! every client, visit and consent record. See `tests/fixtures/README.md` for how each was made.

use std::path::PathBuf;

use kartka_core::Store;
use kartka_core::model::Channel;
use kartka_core::store::{ClientFilter, Page, VisitFilter};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copies a fixture to a temporary directory: opening migrates in place, and the fixture itself
/// must stay as it was made.
fn open_copy(name: &str) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(fixture(name), &path).unwrap();
    let store = Store::open(&path).unwrap();
    (dir, store)
}

#[test]
fn a_version_1_book_opens_with_everything_in_it() {
    let (_dir, mut s) = open_copy("book-v1.db");
    assert_eq!(s.business().unwrap().name, "Салон «Кактус»");
    let all = ClientFilter {
        include_deleted: true,
        ..Default::default()
    };
    let clients = s.list_clients(&all, Page::default()).unwrap();
    let names: Vec<_> = clients.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Anna Nowak",
            "Łucja Żółkiewska",
            "Олена Коваленко",
            "Сергій Видалений"
        ]
    );
    assert!(clients[3].deleted);
    let olena = &clients[2];
    assert_eq!(olena.phones[0].e164.as_deref(), Some("+380671234567"));
    assert_eq!(olena.stats.visits, 1);
    assert_eq!(olena.stats.sold, 80000);
    assert!(s.consent(olena.id).unwrap().granted(Channel::Sms));
    assert_eq!(s.consent(olena.id).unwrap().evidence.len(), 1);
    assert_eq!(s.list_visits(&VisitFilter::default()).unwrap().len(), 2);
    assert_eq!(
        s.search("067 123", Page::default()).unwrap()[0].id,
        olena.id
    );
    assert_eq!(
        s.search("zolk", Page::default()).unwrap()[0].name,
        "Łucja Żółkiewska"
    );
    // The stored projection is what the current code derives from the stored documents.
    let stored = s.projection_snapshot().unwrap();
    s.rebuild_projection().unwrap();
    assert_eq!(stored, s.projection_snapshot().unwrap());
}

#[test]
fn upgrading_projects_what_a_newer_device_left_in_the_documents() {
    // A schema-1 device keeps fields it does not know. Here it has received a message entry
    // (schema 2) in a client's document; upgrading must project it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.db");
    std::fs::copy(fixture("book-v1.db"), &path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (id, bytes): (uuid::Uuid, Vec<u8>) = conn
        .query_row(
            "SELECT id, data FROM docs WHERE kind = 'client' ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut doc = automerge::Automerge::load(&bytes).unwrap();
    let now = chrono::Utc::now();
    let message = kartka_core::model::MessageRecord {
        id: uuid::Uuid::now_v7(),
        client_id: id,
        channel: Channel::Sms,
        kind: kartka_core::model::MessageKind::Automatic,
        body: "Нагадуємо про візит".into(),
        at: now,
        staff_id: None,
        device_id: None,
        visit_id: None,
        template_id: None,
        rule_id: None,
        status: kartka_core::model::MessageStatus::Delivered,
        status_at: now,
        detail: None,
    };
    kartka_core::crdt::client::put_message(&mut doc, &message).unwrap();
    conn.execute(
        "UPDATE docs SET data = ?1 WHERE id = ?2",
        rusqlite::params![doc.save(), id],
    )
    .unwrap();
    drop(conn);

    let s = Store::open(&path).unwrap();
    let history = s.history(id).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].body, "Нагадуємо про візит");
    assert_eq!(
        history[0].status,
        kartka_core::model::MessageStatus::Delivered
    );
}

/// Makes `book-v1.db`. Run it only while schema 1 is the newest, with
/// `cargo test -p kartka-core --test migrations -- --ignored make_fixture_v1`; once a newer
/// schema exists the fixture must stay as it is, since it stands for books already on phones.
#[test]
#[ignore]
fn make_fixture_v1() {
    use kartka_core::model::{
        ConsentSource, ConsentSubject, NewBusiness, NewClient, NewVisit, ReminderOverride,
        ServiceLine, VisitStatus,
    };
    assert_eq!(
        kartka_core::store::schema::CURRENT_VERSION,
        1,
        "the v1 fixture is made at schema 1"
    );
    let path = fixture("book-v1.db");
    let _ = std::fs::remove_file(&path);
    let mut s = Store::open(&path).unwrap();
    s.init_business(NewBusiness {
        name: "Салон «Кактус»".into(),
        region: "UA".into(),
        zone: "Europe/Kyiv".into(),
        currency: "UAH".into(),
        locale: Some("uk".into()),
    })
    .unwrap();
    let client = |name: &str, phone: &str| NewClient {
        name: name.into(),
        phones: vec![(phone.into(), "mobile".into())],
        ..Default::default()
    };
    let olena = s
        .create_client(client("Олена Коваленко", "067 123 45 67"))
        .unwrap()
        .id;
    s.create_client(client("Łucja Żółkiewska", "+48 601 234 567"))
        .unwrap();
    s.create_client(NewClient {
        email: Some("anna@example.pl".into()),
        ..client("Anna Nowak", "")
    })
    .unwrap();
    let gone = s
        .create_client(client("Сергій Видалений", "0501112233"))
        .unwrap()
        .id;
    s.delete_client(gone).unwrap();
    s.set_consent(
        olena,
        ConsentSubject::Channel(kartka_core::model::Channel::Sms),
        true,
        ConsentSource::Written,
        "анкета",
    )
    .unwrap();
    let visit = |day: u32, status| NewVisit {
        client_id: olena,
        start: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, day, 8, 0, 0).unwrap(),
        duration_min: 60,
        services: vec![ServiceLine {
            name: "Манікюр".into(),
            price: 80000,
            quantity: 1,
        }],
        total: None,
        paid: 0,
        status,
        staff_id: None,
        note: None,
        reminder: ReminderOverride::Default,
        repeat_after_days: Some(21),
    };
    s.add_visit(visit(2, VisitStatus::Completed)).unwrap();
    s.add_visit(visit(23, VisitStatus::Booked)).unwrap();
    s.checkpoint().unwrap();
    drop(s);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA journal_mode = DELETE; VACUUM;")
        .unwrap();
}

/// A version-6 book whose cards hold what the old phone reader stored (issue 23): a German
/// number turned into a stranger's, a St Petersburg landline rejected. Opening it with the new
/// reader corrects both cards by ordinary edits (they sync), lists them once for the master,
/// and leaves the right ones alone.
#[test]
fn a_book_read_by_the_old_phone_reader_is_read_again_on_upgrade() {
    use kartka_core::crdt::client as client_doc;
    use kartka_core::model::{NewBusiness, NewClient};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.db");
    let mut s = Store::open(&path).unwrap();
    s.init_business(NewBusiness {
        name: "Салон".into(),
        region: "RU".into(),
        zone: "Europe/Moscow".into(),
        currency: "RUB".into(),
        locale: Some("ru".into()),
    })
    .unwrap();
    let new = |name: &str, phone: &str| NewClient {
        name: name.into(),
        phones: vec![(phone.into(), "mobile".into())],
        ..Default::default()
    };
    let anna = s.create_client(new("Анна", "+49 89 12345678")).unwrap().id;
    let petr = s
        .create_client(new("Пётр", "8 (812) 123-45-67"))
        .unwrap()
        .id;
    let olga = s.create_client(new("Ольга", "8 912 345-67-89")).unwrap().id;
    // What the old reader had stored, written as that device's edits.
    for (id, old) in [(anna, Some("+49912345678")), (petr, None)] {
        let mut doc = automerge::Automerge::load(&s.export_doc(id).unwrap()).unwrap();
        doc.set_actor(automerge::ActorId::random());
        let card = client_doc::read(&doc, id).unwrap().card;
        let mut was = card.clone();
        was.phones[0].e164 = old.map(str::to_string);
        client_doc::edit_card(&mut doc, &card, &was, chrono::Utc::now()).unwrap();
        s.apply_remote(id, &doc.save()).unwrap();
    }
    assert_eq!(
        s.get_client(anna).unwrap().phones[0].e164.as_deref(),
        Some("+49912345678")
    );
    drop(s);
    // Back to what a version-6 Kartka left: no corrections table, no reader recorded, no
    // index of inner phone digits.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE phone_corrections; DROP TABLE phone_digits; DROP TABLE docs_pending;
         DROP TRIGGER docs_pending_insert; DROP TRIGGER docs_pending_update;
         DROP TRIGGER docs_pending_delete;
         DELETE FROM meta WHERE key = 'phone_reader'; PRAGMA user_version = 6;",
    )
    .unwrap();
    drop(conn);
    // The Android suite opens this very book (scripts/old-reader-book writes it there).
    if let Some(copy) = std::env::var_os("KARTKA_WRITE_OLD_READER_BOOK") {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = DELETE; VACUUM;")
            .unwrap();
        drop(conn);
        std::fs::copy(&path, copy).unwrap();
    }

    let mut s = Store::open(&path).unwrap();
    let e164 = |s: &Store, id| s.get_client(id).unwrap().phones[0].e164.clone();
    assert_eq!(e164(&s, anna).as_deref(), Some("+498912345678"));
    assert_eq!(e164(&s, petr).as_deref(), Some("+78121234567"));
    assert_eq!(e164(&s, olga).as_deref(), Some("+79123456789"));
    let listed: Vec<_> = s
        .phone_corrections()
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.raw, c.was, c.now))
        .collect();
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        listed,
        [
            (
                "Анна".to_string(),
                "+49 89 12345678".to_string(),
                some("+49912345678"),
                some("+498912345678")
            ),
            (
                "Пётр".to_string(),
                "8 (812) 123-45-67".to_string(),
                None,
                some("+78121234567")
            ),
        ]
    );
    // Found by the corrected number; shown once.
    assert_eq!(s.search("8 812 123", Page::default()).unwrap()[0].id, petr);
    s.mark_phone_corrections_seen().unwrap();
    assert!(s.phone_corrections().unwrap().is_empty());
    // The corrections are edits in the documents: another device gets them by sync.
    let other_dir = tempfile::tempdir().unwrap();
    let mut other = Store::open(other_dir.path().join("book.db")).unwrap();
    for id in s.doc_ids().unwrap() {
        other.apply_remote(id, &s.export_doc(id).unwrap()).unwrap();
    }
    assert_eq!(e164(&other, anna).as_deref(), Some("+498912345678"));
    drop(s);
    // Read once: opening again changes nothing and lists nothing.
    let s = Store::open(&path).unwrap();
    assert!(s.phone_corrections().unwrap().is_empty());
}
