//! Two `kartka-server` processes on one PostgreSQL serve the same business: a change pushed to
//! one is pulled from the other, a device waiting on one wakes for a push to the other, and a
//! device revoked through one is refused by the other at once.
//!
//! Needs `KARTKA_TEST_POSTGRES`; fails rather than skips when `KARTKA_REQUIRE_POSTGRES=1`.

use std::path::Path;
use std::time::Duration;

use kartka_core::model::{ClientPatch, NewClient};
use kartka_core::{Error, sync};
use kartka_server::storage::conformance::test_postgres_url;
use kartka_tests::{Device, Server, converge};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_server-under-test"))
}

#[test]
fn two_server_processes_on_one_postgres_serve_one_business() {
    let Some(url) = test_postgres_url() else {
        return;
    };
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("KARTKA_DATABASE_URL", url.as_str())];
    let one = Server::start_with(bin(), d1.path(), &env);
    let two = Server::start_with(bin(), d2.path(), &env);

    let a = Device::owner(&one.url);
    let code = a.with(|s| sync::invite(s).unwrap().code);
    let b = Device::empty();
    b.with(|s| sync::join(s, &two.url, &code, "on two").unwrap());
    b.sync().unwrap();
    assert_eq!(
        b.with(|s| s.business().unwrap().id),
        a.with(|s| s.business().unwrap().id)
    );

    // Pushed to one, pulled from two.
    let id = a.with(|s| {
        s.create_client(NewClient {
            name: "Олена".into(),
            ..Default::default()
        })
        .unwrap()
        .id
    });
    a.sync().unwrap();
    b.sync().unwrap();
    assert_eq!(b.with(|s| s.get_client(id).unwrap().name), "Олена");

    // A device waiting on two wakes for a push to one (LISTEN/NOTIFY between the processes).
    let waiter = std::thread::spawn(move || {
        let r = sync::sync_and_wait(&b.store, Duration::from_secs(25)).unwrap();
        (r, b)
    });
    std::thread::sleep(Duration::from_millis(300));
    a.with(|s| {
        s.update_client(
            id,
            ClientPatch {
                comment: Some(Some("через інший сервер".into())),
                ..Default::default()
            },
        )
        .unwrap()
    });
    a.sync().unwrap();
    let (report, b) = waiter.join().unwrap();
    assert_eq!(report.pulled, 1);
    assert_eq!(
        b.with(|s| s.get_client(id).unwrap().comment).as_deref(),
        Some("через інший сервер")
    );

    // Both devices edit concurrently through different processes and converge.
    for n in 0..20 {
        let dev = if n % 2 == 0 { &a } else { &b };
        dev.with(|s| {
            s.create_client(NewClient {
                name: format!("Клієнтка {n}"),
                ..Default::default()
            })
            .unwrap()
        });
        dev.sync().unwrap();
    }
    converge(&[&a, &b]);
    assert_eq!(
        a.with(|s| s.projection_snapshot().unwrap()),
        b.with(|s| s.projection_snapshot().unwrap())
    );

    // Revoked through one, refused by two at once.
    let b_id = b.with(|s| s.sync_config().unwrap().unwrap().device_id);
    a.with(|s| sync::remote_of(s).unwrap().revoke(b_id).unwrap());
    // The revoked device is told so by the other process, and erases its copy.
    match b.sync() {
        Err(Error::Revoked) => {}
        other => panic!("{other:?}"),
    }
    assert!(b.with(|s| s.sync_config().unwrap()).is_none());
    assert!(b.with(|s| kartka_tests::client_ids(s)).is_empty());
}
