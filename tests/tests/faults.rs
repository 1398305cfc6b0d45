//! Faults: the server SIGKILLed at random points and restarted, a device killed mid-sync and
//! reopened, requests duplicated and replayed out of order. Nothing is lost or duplicated.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use kartka_core::model::{ClientPatch, NewClient};
use kartka_core::sync::wire::{self, SyncRequest, SyncResponse};
use kartka_tests::{Device, Server, client_ids, converge, raw_sync};
use rand::Rng;
use uuid::Uuid;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_server-under-test"))
}

fn all_clients(d: &Device) -> BTreeSet<Uuid> {
    d.with(|s| client_ids(s)).into_iter().collect()
}

fn new_client(n: usize) -> NewClient {
    NewClient {
        name: format!("Клієнтка {n}"),
        phones: vec![(format!("+38050{n:07}"), String::new())],
        comment: Some("x".repeat(200)),
        ..Default::default()
    }
}

#[test]
fn the_server_killed_at_random_points_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Mutex::new(Server::start(bin(), dir.path())));
    let url = server.lock().unwrap().url.clone();
    let owner = Device::owner(&url);
    let mut devices = vec![Arc::new(owner)];
    for _ in 0..2 {
        let d = Device::join(&url, &devices[0]);
        devices.push(Arc::new(d));
    }
    let created: Arc<Mutex<BTreeSet<Uuid>>> = Arc::default();
    let workers: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let d = d.clone();
            let created = created.clone();
            std::thread::spawn(move || {
                let mut rng = rand::rng();
                for n in 0..60 {
                    let id = d.with(|s| s.create_client(new_client(i * 1000 + n)).unwrap().id);
                    created.lock().unwrap().insert(id);
                    if rng.random_bool(0.5) {
                        d.with(|s| {
                            s.update_client(
                                id,
                                ClientPatch {
                                    comment: Some(Some(format!("edit {n}"))),
                                    ..Default::default()
                                },
                            )
                            .unwrap()
                        });
                    }
                    // Failures are expected while the server is down: the edits wait.
                    let _ = d.sync();
                    std::thread::sleep(Duration::from_millis(rng.random_range(0..20)));
                }
            })
        })
        .collect();
    let mut rng = rand::rng();
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(rng.random_range(50..250)));
        server.lock().unwrap().restart();
    }
    for w in workers {
        w.join().unwrap();
    }
    let refs: Vec<&Device> = devices.iter().map(|d| &**d).collect();
    converge(&refs);
    let fresh = Device::join(&url, &devices[0]);
    fresh.sync().unwrap();
    let created = created.lock().unwrap().clone();
    assert_eq!(created.len(), 180);
    let expected = devices[0].with(|s| s.projection_snapshot().unwrap());
    for d in refs.iter().copied().chain([&fresh]) {
        assert_eq!(
            all_clients(d),
            created,
            "every client on every device, once"
        );
        assert_eq!(d.with(|s| s.projection_snapshot().unwrap()), expected);
        assert_eq!(d.with(|s| s.unsynced_docs().unwrap()), 0);
    }
}

/// Runs the device process on `book` and kills it after a random moment, until one run
/// completes. The moments grow from attempt to attempt (by `step_ms`), so kills land all along
/// the sync and a run eventually finishes. Returns how many runs were killed.
fn sync_with_kills(book: &Path, step_ms: u64) -> usize {
    let device = env!("CARGO_BIN_EXE_device-under-test");
    let mut rng = rand::rng();
    let mut killed = 0;
    for attempt in 1..200 {
        let mut child = Command::new(device).arg(book).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(
            rng.random_range(0..step_ms * attempt),
        ));
        match child.try_wait().unwrap() {
            Some(status) if status.success() => return killed,
            Some(status) => panic!("device failed: {status}"),
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                killed += 1;
                // The book opens after every kill (the kill may also have landed after success).
                kartka_core::Store::open(book).unwrap();
            }
        }
    }
    panic!("the device never finished a sync");
}

#[test]
fn a_device_killed_mid_sync_reopens_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    // Small answers: a fresh device needs many round trips, so kills land between them.
    let server = Server::start_configured(
        bin(),
        dir.path(),
        &[],
        "[limits]\npairing_per_minute = 1000\nsync_per_second = 100000\npull_budget = 8192\n",
    );
    let owner = Device::owner(&server.url);
    let ids: BTreeSet<Uuid> = owner
        .with(|s| {
            s.create_clients((0..200).map(new_client).collect())
                .unwrap()
        })
        .into_iter()
        .collect();
    // Pushing 200 new documents, killed at random moments.
    let book = owner.path();
    let code = owner.with(|s| kartka_core::sync::invite(s).unwrap().code);
    let owner_dir = owner.close();
    let killed_pushing = sync_with_kills(&book, 50);
    // Pulling them all onto a fresh device, killed at random moments.
    let fresh = Device::empty();
    fresh.with(|s| kartka_core::sync::join(s, &server.url, &code, "fresh").unwrap());
    let fresh_book = fresh.path();
    let fresh_dir = fresh.close();
    let killed_pulling = sync_with_kills(&fresh_book, 50);
    eprintln!("killed {killed_pushing} pushing, {killed_pulling} pulling");
    assert!(killed_pushing > 0 && killed_pulling > 0, "no kill landed");

    let fresh = Device::open_at(fresh_dir);
    let owner = Device::open_at(owner_dir);
    converge(&[&owner, &fresh]);
    assert_eq!(all_clients(&fresh), ids);
    assert_eq!(
        fresh.with(|s| s.projection_snapshot().unwrap()),
        owner.with(|s| s.projection_snapshot().unwrap())
    );
    assert_eq!(owner.with(|s| s.unsynced_docs().unwrap()), 0);
    // The first pass was a bulk load without secondary indexes, cut short many times: every
    // index is back.
    let indexes = |p: &Path| -> Vec<String> {
        let c = rusqlite::Connection::open(p).unwrap();
        let mut st = c
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(indexes(&fresh_book), indexes(&book));
    assert!(indexes(&fresh_book).contains(&"visits_by_start".to_string()));
}

#[test]
fn duplicated_and_reordered_requests_change_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path());
    let a = Device::owner(&server.url);
    let b = Device::join(&server.url, &a);
    let id = a.with(|s| s.create_client(new_client(1)).unwrap().id);
    converge(&[&a, &b]);
    let token = a.token();
    // Two pushes built without hearing back, as when answers are lost: the second repeats the
    // first's change and adds one.
    a.with(|s| {
        s.update_client(
            id,
            ClientPatch {
                comment: Some(Some("перша".into())),
                ..Default::default()
            },
        )
        .unwrap()
    });
    let first = a.with(|s| s.sync_outbox(1 << 20).unwrap());
    a.with(|s| {
        s.update_client(
            id,
            ClientPatch {
                comment: Some(Some("друга".into())),
                ..Default::default()
            },
        )
        .unwrap()
    });
    let second = a.with(|s| s.sync_outbox(1 << 20).unwrap());
    let body = |o: &kartka_core::store::Outbox| {
        wire::encode(&SyncRequest {
            cursor: o.cursor,
            push: o.chunks.clone(),
        })
    };
    let mut accepted = Vec::new();
    let mut answers = Vec::new();
    for req in [body(&second), body(&first), body(&second), body(&first)] {
        let (status, resp) = raw_sync(&server.url, &token, req);
        assert_eq!(status, 200);
        let resp: SyncResponse = wire::decode(&resp).unwrap();
        accepted.push(resp.accepted);
        answers.push(resp);
    }
    assert_eq!(accepted, [1, 0, 0, 0]);
    // Answers applied out of order: the device's cursor never goes back.
    a.with(|s| s.sync_apply(&second, &answers[2]).unwrap());
    let cursor = a.with(|s| s.sync_cursor().unwrap());
    a.with(|s| s.sync_apply(&first, &answers[1]).unwrap());
    assert_eq!(a.with(|s| s.sync_cursor().unwrap()), cursor);
    converge(&[&a, &b]);
    assert_eq!(
        b.with(|s| s.get_client(id).unwrap().comment).as_deref(),
        Some("друга")
    );
    // B received the edit once: one feed entry, however often it was pushed.
    let (status, resp) = raw_sync(
        &server.url,
        &b.token(),
        wire::encode(&SyncRequest {
            cursor: wire::Cursor::Feed(0),
            push: vec![],
        }),
    );
    assert_eq!(status, 200);
    let resp: SyncResponse = wire::decode(&resp).unwrap();
    let doc = resp.pull.iter().find(|c| c.doc == id).unwrap();
    let changes = automerge::Automerge::load(&doc.data)
        .unwrap()
        .get_changes(&[])
        .len();
    let local = automerge::Automerge::load(&a.with(|s| s.export_doc(id).unwrap()))
        .unwrap()
        .get_changes(&[])
        .len();
    assert_eq!(changes, local, "the feed holds each change once");
}
