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
