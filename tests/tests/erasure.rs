//! The right to erasure, end to end: "forget this client" on one device removes every byte of
//! the person from that device's book, from the server's database and from every other
//! device at its next sync, including the values automerge kept in its history, and an edit
//! made offline on another device does not bring the client back.

use std::path::Path;

use chrono::{Duration, Utc};
use kartka_core::Error;
use kartka_core::model::{
    Channel, ClientPatch, ConsentSource, ConsentSubject, NewClient, NewVisit, ReminderOverride,
    ServiceLine, VisitStatus,
};
use kartka_server::storage::conformance::test_postgres_url;
use kartka_tests::{Device, Server, bytes_under, converge, holds};
use uuid::Uuid;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_server-under-test"))
}

/// What must not remain: the name as it was first and as it became (the first survives only in
/// automerge's history), the phone, the email, a visit note, the consent evidence.
const SECRETS: [&str; 6] = [
    "Секретна Особа",
    "Таємна Особа",
    "931112233",
    "secret.person@example.com",
    "фарбування в синій",
    "згода на папері №77",
];

fn add_secret_client(d: &Device) -> Uuid {
    d.with(|s| {
        let c = s
            .create_client(NewClient {
                name: SECRETS[0].into(),
                phones: vec![("+380931112233".into(), String::new())],
                email: Some(SECRETS[3].into()),
                ..Default::default()
            })
            .unwrap();
        s.update_client(
            c.id,
            ClientPatch {
                name: Some(SECRETS[1].into()),
                ..Default::default()
            },
        )
        .unwrap();
        s.add_visit(NewVisit {
            client_id: c.id,
            start: Utc::now() + Duration::days(2),
            duration_min: 60,
            services: vec![ServiceLine {
                name: "Фарбування".into(),
                price: 120_000,
                quantity: 1,
            }],
            total: None,
            paid: 0,
            status: VisitStatus::Booked,
            staff_id: None,
            note: Some(SECRETS[4].into()),
            reminder: ReminderOverride::Default,
            repeat_after_days: None,
        })
        .unwrap();
        s.set_consent(
            c.id,
            ConsentSubject::Channel(Channel::Sms),
            true,
            ConsentSource::Written,
            SECRETS[5],
        )
        .unwrap();
        c.id
    })
}

fn add_others(d: &Device, n: usize) {
    d.with(|s| {
        for i in 0..n {
            s.create_client(NewClient {
                name: format!("Інша клієнтка {i}"),
                phones: vec![(format!("+38067{:07}", 5550000 + i), String::new())],
                ..Default::default()
            })
            .unwrap();
        }
    });
}

fn assert_clean(what: &str, bytes: &[u8]) {
    for s in SECRETS {
        assert!(!holds(bytes, s), "{s:?} is still in {what}");
    }
}

/// Pieces of the automerge bytes the server held for a document (whole and as feed changes):
/// automerge deflates larger columns, so the person's text need not appear as such on the
/// server; these pieces must not remain either.
fn pieces(blobs: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    blobs
        .into_iter()
        .filter(|b| b.len() >= 64)
        .map(|b| b[b.len() / 2 - 24..b.len() / 2 + 24].to_vec())
        .collect()
}

fn holds_piece(hay: &[u8], pieces: &[Vec<u8>]) -> bool {
    pieces
        .iter()
        .any(|p| hay.windows(p.len()).any(|w| w == &p[..]))
}

/// The whole story against `server`: `server_bytes` reads what the server keeps (its data
/// directory, or its PostgreSQL rows), `server_blobs` a document's bytes and feed changes.
fn forget_everywhere(
    server: &Server,
    server_bytes: &dyn Fn(Uuid) -> Vec<u8>,
    server_blobs: &dyn Fn(Uuid) -> Vec<Vec<u8>>,
) {
    let a = Device::owner(&server.url);
    let b = Device::join(&server.url, &a);
    let business = a.with(|s| s.business().unwrap().id);
    let server_bytes = || server_bytes(business);
    add_others(&a, 50);
    let id = add_secret_client(&a);
    a.sync().unwrap();
    b.sync().unwrap();
    let dir_b = b.dir.path().to_path_buf();
    for (what, bytes) in [
        ("device A", bytes_under(a.dir.path())),
        ("device B", bytes_under(&dir_b)),
    ] {
        assert!(holds(&bytes, SECRETS[1]), "{what} held the client before");
    }
    let held = pieces(server_blobs(id));
    assert!(
        held.len() >= 2,
        "the server held the document and its changes"
    );
    assert!(holds_piece(&server_bytes(), &held));

    // B, offline, still edits the client while A forgets it.
    b.with(|s| {
        s.update_client(
            id,
            ClientPatch {
                comment: Some(Some("правка без мережі".into())),
                ..Default::default()
            },
        )
        .unwrap()
    });
    a.with(|s| s.forget_client(id).unwrap());
    assert_clean(
        "device A's book, before any sync",
        &bytes_under(a.dir.path()),
    );
    assert!(matches!(
        a.with(|s| s.get_client(id)),
        Err(Error::NotFound { .. })
    ));

    a.sync().unwrap();
    assert_clean("the server", &server_bytes());
    assert!(
        !holds_piece(&server_bytes(), &held),
        "the server kept the document's bytes"
    );
    assert!(server_blobs(id).iter().all(Vec::is_empty));

    // B's offline edit reaches the server, which drops it; B learns of the erasure.
    b.sync().unwrap();
    b.sync().unwrap();
    assert!(matches!(
        b.with(|s| s.get_client(id)),
        Err(Error::NotFound { .. })
    ));
    assert!(b.with(|s| s.is_erased(id).unwrap()));
    assert_clean("device B's book", &bytes_under(&dir_b));
    assert_clean("the server, after B's stale edit", &server_bytes());
    assert!(!holds_piece(&server_bytes(), &held));
    assert!(server_blobs(id).iter().all(Vec::is_empty));

    // Nothing else was lost, and both devices agree.
    a.sync().unwrap();
    converge(&[&a, &b]);
    assert_eq!(
        a.with(|s| s.projection_snapshot().unwrap()),
        b.with(|s| s.projection_snapshot().unwrap())
    );
    assert_eq!(a.with(|s| kartka_tests::client_ids(s)).len(), 50);

    // A device paired later never sees the client; the old bytes cannot bring it back.
    let c = Device::join(&server.url, &a);
    assert_eq!(c.with(|s| kartka_tests::client_ids(s)).len(), 50);
    assert!(c.with(|s| s.is_erased(id).unwrap()));
    assert_clean("a device paired afterwards", &bytes_under(c.dir.path()));
}

#[test]
fn a_forgotten_client_leaves_no_byte_on_devices_or_the_sqlite_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path());
    let data = dir.path().to_path_buf();
    let db = data.join("kartka-data/server.db");
    let blobs = |id: Uuid| -> Vec<Vec<u8>> {
        let conn =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let out: Vec<Vec<u8>> = conn
            .prepare("SELECT data FROM docs WHERE id = ?1 UNION ALL SELECT changes FROM feed WHERE doc_id = ?1")
            .unwrap()
            .query_map([id], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out
    };
    forget_everywhere(&server, &|_| bytes_under(&data), &blobs);
}

#[test]
fn a_forgotten_client_leaves_no_row_holding_it_on_postgres() {
    let Some(url) = test_postgres_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(bin(), dir.path(), &[("KARTKA_DATABASE_URL", url.as_str())]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (client, conn) = rt
        .block_on(tokio_postgres::connect(&url, tokio_postgres::NoTls))
        .unwrap();
    rt.spawn(conn);
    // Every row the server keeps for the business: PostgreSQL's own files keep dead row
    // versions until VACUUM (see ARCHITECTURE.md), so the rows are what is checked here. The
    // database is shared with other tests and runs: a table with a business column is read for
    // this business only. Text as text, bytea raw (as text it would print as hex).
    let rows = |business: Uuid| -> Vec<u8> {
        rt.block_on(async {
            let columns = client
                .query(
                    "SELECT table_name::text, column_name::text, data_type::text
                     FROM information_schema.columns WHERE table_schema = current_schema()",
                    &[],
                )
                .await
                .unwrap();
            let scoped: std::collections::HashSet<String> = columns
                .iter()
                .filter(|r| r.get::<_, String>(1) == "business_id")
                .map(|r| r.get(0))
                .collect();
            let mut all = Vec::new();
            for c in &columns {
                let (table, column, ty): (String, String, String) = (c.get(0), c.get(1), c.get(2));
                let filter = if scoped.contains(&table) {
                    "WHERE business_id = $1"
                } else {
                    "WHERE $1::uuid IS NOT NULL"
                };
                let sql = if ty == "bytea" {
                    format!("SELECT \"{column}\" FROM \"{table}\" {filter}")
                } else {
                    format!(
                        "SELECT convert_to(\"{column}\"::text, 'UTF8') FROM \"{table}\" {filter}"
                    )
                };
                for r in client.query(&sql, &[&business]).await.unwrap() {
                    if let Some(b) = r.get::<_, Option<Vec<u8>>>(0) {
                        all.extend(b);
                    }
                }
            }
            all
        })
    };
    let blobs = |id: Uuid| -> Vec<Vec<u8>> {
        rt.block_on(client.query(
            "SELECT data FROM docs WHERE id = $1 UNION ALL SELECT changes FROM feed WHERE doc_id = $1",
            &[&id],
        ))
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect()
    };
    forget_everywhere(&server, &rows, &blobs);
}

/// A device cannot erase another business's client through the server, and a refused erasure
/// does not hold its later syncs back.
#[test]
fn an_erasure_the_server_refuses_is_not_retried_forever() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path());
    let a = Device::owner(&server.url);
    let id = add_secret_client(&a);
    a.sync().unwrap();
    // A device of another business somehow holds a copy of that client's document.
    let other = Device::owner(&server.url);
    let bytes = a.with(|s| s.export_doc(id).unwrap());
    other.with(|s| s.apply_remote(id, &bytes).unwrap());
    other.with(|s| s.forget_client(id).unwrap());
    other.sync().unwrap();
    assert!(other.with(|s| s.erasures_to_send().unwrap()).is_empty());
    other.sync().unwrap();
    // The client is still its own business's.
    a.sync().unwrap();
    assert_eq!(a.with(|s| s.get_client(id).unwrap()).name, SECRETS[1]);
}
