//! The sync status a master sees, through every transition, over the real server on loopback:
//! never paired, paired and connected, the server killed, edits made offline counted, the server
//! back and the count drained to zero; and a fresh device's "receiving N of M".

use std::path::Path;

use kartka_core::model::NewClient;
use kartka_core::sync::{
    self,
    status::{Activity, Link, ProblemKind},
};
use kartka_core::{Error, Store};
use kartka_tests::{Device, Server, business};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_server-under-test"))
}

/// The waiting records counted the slow way, on the book's file, beside the counter the status
/// reads.
fn counted(d: &Device) -> u64 {
    let conn = rusqlite::Connection::open(d.path()).unwrap();
    conn.query_row("SELECT count(*) FROM docs WHERE dirty = 1", [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as u64
}

fn client(n: usize) -> NewClient {
    NewClient {
        name: format!("Клієнтка {n}"),
        phones: vec![(format!("+38050{n:07}"), String::new())],
        ..Default::default()
    }
}

#[test]
fn the_status_follows_the_server_away_and_back() {
    // Never paired: no server, nothing known of a link, every record waiting.
    let d = Device::empty();
    d.with(|s| s.init_business(business()).unwrap());
    let st = d.with(|s| s.sync_state().unwrap());
    assert_eq!(st.server, None);
    assert_eq!(st.link, Link::Unknown);
    assert_eq!(
        (st.last_synced_at, st.receiving, &st.last_error),
        (None, None, &None)
    );
    assert_eq!(st.pending, 1, "the business's settings wait to be sent");
    assert_eq!(counted(&d), 1);
    assert!(!st.has_synced());

    // Paired, synced: connected, nothing waiting.
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(bin(), dir.path());
    d.with(|s| sync::create_business(s, &server.url, "owner").unwrap());
    let st = d.with(|s| s.sync_state().unwrap());
    assert_eq!(st.server.as_deref(), Some(server.url.as_str()));
    assert_eq!(st.link, Link::Unknown, "paired, not tried yet");
    d.sync().unwrap();
    let st = d.with(|s| s.sync_state().unwrap());
    let Link::Connected { since: up_since } = st.link else {
        panic!("not connected after a sync: {:?}", st.link)
    };
    let first_sync = st.last_synced_at.expect("a sync went through");
    assert_eq!((st.pending, st.receiving, &st.last_error), (0, None, &None));
    assert_eq!(st.activity, Activity::Idle);
    assert!(st.has_synced());

    // The server killed: edits are counted as they are made, a sync fails as unreachable.
    server.kill9();
    for n in 0..3 {
        d.with(|s| s.create_client(client(n)).unwrap());
    }
    assert_eq!(d.with(|s| s.sync_state().unwrap()).pending, 3);
    assert_eq!(counted(&d), 3);
    let err = d.sync().unwrap_err();
    assert!(
        matches!(err, Error::Unreachable { ref reason, .. } if reason == "connection refused"),
        "{err}"
    );
    assert!(err.is_offline());
    let st = d.with(|s| s.sync_state().unwrap());
    let Link::Offline { since: down_since } = st.link else {
        panic!("not offline: {:?}", st.link)
    };
    assert!(down_since >= up_since);
    let problem = st.last_error.clone().expect("the failure is kept");
    assert_eq!(problem.kind, ProblemKind::Unreachable);
    assert!(problem.detail.contains("unreachable"), "{}", problem.detail);
    assert_eq!(
        st.last_synced_at,
        Some(first_sync),
        "the last good sync stays"
    );
    assert_eq!(st.pending, 3);

    // Still away: "offline since" is the first failure, not the latest.
    d.with(|s| s.create_client(client(3)).unwrap());
    d.sync().unwrap_err();
    let st = d.with(|s| s.sync_state().unwrap());
    assert_eq!(st.link, Link::Offline { since: down_since });
    assert_eq!(st.pending, 4);

    // The same book opened again (the app restarted offline) tells the same.
    let reopened = Store::open(d.path()).unwrap().sync_state().unwrap();
    assert_eq!(reopened, st);

    // The server back: the waiting edits go, the count drains to zero, the error clears.
    server.restart();
    let report = d.sync().unwrap();
    assert_eq!(report.pushed, 4);
    let st = d.with(|s| s.sync_state().unwrap());
    let Link::Connected { since } = st.link else {
        panic!("not connected again: {:?}", st.link)
    };
    assert!(since >= down_since);
    assert_eq!((st.pending, &st.last_error), (0, &None));
    assert_eq!(counted(&d), 0);
    assert!(st.last_synced_at.unwrap() >= first_sync);
}

#[test]
fn a_refusal_is_an_answer_not_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), dir.path());
    let owner = Device::owner(&server.url);
    let phone = Device::join(&server.url, &owner);
    let phone_id = phone.with(|s| s.sync_config().unwrap().unwrap().device_id);
    sync::remote_of(&owner.store.lock().unwrap())
        .unwrap()
        .revoke(phone_id)
        .unwrap();
    assert!(matches!(phone.sync(), Err(Error::Revoked)));
    let st = phone.with(|s| s.sync_state().unwrap());
    assert_eq!(st.last_error.map(|p| p.kind), Some(ProblemKind::Revoked));
    // The book was wiped: nothing of it waits, and the counter says so.
    assert_eq!((st.pending, counted(&phone)), (0, 0));
    assert!(!matches!(st.link, Link::Offline { .. }), "{:?}", st.link);
}

#[test]
fn a_fresh_device_tells_how_much_it_has_received_of_how_much() {
    let dir = tempfile::tempdir().unwrap();
    // Small pages: the fresh device needs many round trips.
    let server = Server::start_configured(bin(), dir.path(), &[], "[limits]\npull_budget = 2048\n");
    let owner = Device::owner(&server.url);
    owner.with(|s| {
        for n in 0..120 {
            s.create_client(client(n)).unwrap();
        }
    });
    owner.sync().unwrap();
    let total = 120;

    let phone = Device::join_unsynced(&server.url, &owner);
    let st = phone.with(|s| s.sync_state().unwrap());
    assert!(!st.has_synced());
    assert_eq!(st.receiving.map(|r| r.received), Some(0));

    let mut seen = Vec::new();
    sync::sync_with_progress(&phone.store, &mut |_| {
        // Read as the app's status line would, between pages.
        let st = phone.store.try_lock().unwrap().sync_state().unwrap();
        seen.push(st.receiving.expect("still receiving"));
    })
    .unwrap();
    assert!(seen.len() > 3, "{} pages", seen.len());
    assert!(seen.iter().all(|r| r.total == Some(total)), "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0].received < w[1].received),
        "{seen:?}"
    );
    assert!(seen.last().unwrap().received < total);
    let st = phone.with(|s| s.sync_state().unwrap());
    assert_eq!(st.receiving, None);
    assert!(st.has_synced());
    assert_eq!(st.pending, 0);
    assert_eq!(counted(&phone), 0);
    // Edits on top of synced cards: each counted once, however often it is edited.
    let ids = phone.with(|s| kartka_tests::client_ids(s));
    phone.with(|s| {
        for id in ids.iter().take(5).chain(ids.iter().take(2)) {
            s.update_client(
                *id,
                kartka_core::model::ClientPatch {
                    comment: Some(Some("edited".into())),
                    ..Default::default()
                },
            )
            .unwrap();
        }
    });
    assert_eq!(phone.with(|s| s.sync_state().unwrap()).pending, 5);
    assert_eq!(counted(&phone), 5);
}
