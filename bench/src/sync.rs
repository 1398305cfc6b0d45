//! Sync figures: a business of N clients (10 visits each) on a real `kartka-server` over
//! loopback, with every byte counted by a TCP proxy between the devices and the server.
//!
//! - upload of the first device's whole book, and a fresh device's full sync (time, wire bytes,
//!   against the saved size of the documents);
//! - one edit round trip and an idle reconnect (wire bytes, time);
//! - an edit's propagation from device A to device B, which waits on a long-poll;
//! - 200 devices each pushing one edit a second (request latency as the devices see it).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT};
use kartka_core::Store;
use kartka_core::model::ClientPatch;
use kartka_core::sync::remote::Remote;
use kartka_core::sync::wire::{self, Chunk, Cursor, SyncRequest, SyncResponse};
use kartka_core::sync::{self};
use rand::Rng;
use serde::Serialize;
use std::sync::Mutex;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};

use crate::{Stat, remove_db, stat};

#[derive(Serialize, serde::Deserialize, Default, Clone)]
pub struct SyncFigures {
    pub backend: String,
    pub clients: usize,
    pub visits: usize,
    pub docs_saved_bytes: u64,
    pub upload_s: f64,
    pub upload_wire_bytes: u64,
    pub fresh_sync_s: f64,
    pub fresh_sync_wire_bytes: u64,
    pub fresh_sync_ratio_to_saved: f64,
    pub edit_round_trip: Stat,
    pub edit_round_trip_wire_bytes: u64,
    pub idle_reconnect: Stat,
    pub idle_reconnect_wire_bytes: u64,
    pub idle_same_connection: Stat,
    pub idle_same_connection_wire_bytes: u64,
    /// 100 clients edited on a device while offline, then one sync.
    pub offline_edits_s: f64,
    pub offline_edits_wire_bytes: u64,
    pub propagation: Stat,
    pub load_devices: usize,
    pub load_seconds: u64,
    pub load_requests: usize,
    pub load_errors: usize,
    pub load_latency: Stat,
}

const EDITS: usize = 200;

/// A TCP proxy counting the bytes that cross it, both ways.
struct Counter {
    bytes: Arc<AtomicU64>,
    url: String,
}

impl Counter {
    async fn start(upstream: std::net::SocketAddr) -> Counter {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let bytes = Arc::new(AtomicU64::new(0));
        let b = bytes.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut down, _)) = listener.accept().await else {
                    return;
                };
                let b = b.clone();
                tokio::spawn(async move {
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    if let Ok((x, y)) = copy_bidirectional(&mut down, &mut up).await {
                        b.fetch_add(x + y, Ordering::Relaxed);
                    }
                });
            }
        });
        Counter { bytes, url }
    }

    /// Bytes of connections closed so far (a connection counts when it closes).
    fn total(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

pub enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

/// A server for the sync benchmarks: on a free loopback port, no limits in the way, and the
/// outbox out of the way (no rules run).
pub fn server_config() -> kartka_server::Config {
    let mut config = kartka_server::Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    config.notify.outbox = std::env::temp_dir().join("kartka-bench-outbox.jsonl");
    config.limits.pairing_per_minute = 1_000_000;
    config.limits.sync_per_second = 1_000_000;
    config
}

pub fn run(book: &Path, dir: &Path, backend: Backend, devices: usize, seconds: u64) -> SyncFigures {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = server_config();
    let (name, running) = match backend {
        Backend::Sqlite(path) => {
            remove_db(&path);
            let s = kartka_server::storage::sqlite::SqliteStorage::open(&path).unwrap();
            (
                "SQLite",
                rt.block_on(kartka_server::start_with(s, config)).unwrap(),
            )
        }
        Backend::Postgres(url) => {
            let s = rt
                .block_on(kartka_server::storage::postgres::PgStorage::connect(
                    &url, 16,
                ))
                .unwrap();
            (
                "PostgreSQL",
                rt.block_on(kartka_server::start_with(s, config)).unwrap(),
            )
        }
    };
    let proxy = rt.block_on(Counter::start(running.addr));
    let mut f = SyncFigures {
        backend: name.into(),
        ..Default::default()
    };

    // The first device: a copy of the benchmark book, paired and uploaded whole.
    let owner_path = dir.join("sync-owner.db");
    remove_db(&owner_path);
    std::fs::copy(book, &owner_path).unwrap();
    let owner = Mutex::new(Store::open(&owner_path).unwrap());
    {
        let conn = rusqlite::Connection::open(&owner_path).unwrap();
        f.docs_saved_bytes = conn
            .query_row("SELECT sum(length(data)) FROM docs", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap() as u64;
        f.clients = conn
            .query_row("SELECT count(*) FROM clients", [], |r| r.get::<_, i64>(0))
            .unwrap() as usize;
        f.visits = conn
            .query_row("SELECT count(*) FROM visits", [], |r| r.get::<_, i64>(0))
            .unwrap() as usize;
    }
    let before = proxy.total();
    let t = Instant::now();
    sync::create_business(&mut owner.lock().unwrap(), &proxy.url, "owner").unwrap();
    sync::sync_now(&owner).unwrap();
    f.upload_s = t.elapsed().as_secs_f64();
    settle();
    f.upload_wire_bytes = proxy.total() - before;
    eprintln!("uploaded in {:.1} s", f.upload_s);

    // A fresh device pulls everything.
    let fresh_path = dir.join("sync-fresh.db");
    remove_db(&fresh_path);
    let fresh = Mutex::new(Store::open(&fresh_path).unwrap());
    let code = sync::invite(&owner.lock().unwrap()).unwrap().code;
    sync::join(&mut fresh.lock().unwrap(), &proxy.url, &code, "fresh").unwrap();
    settle();
    let before = proxy.total();
    let t = Instant::now();
    let r = sync::sync_now(&fresh).unwrap();
    f.fresh_sync_s = t.elapsed().as_secs_f64();
    settle();
    f.fresh_sync_wire_bytes = proxy.total() - before;
    f.fresh_sync_ratio_to_saved = f.fresh_sync_wire_bytes as f64 / f.docs_saved_bytes as f64;
    eprintln!("fresh sync: {} docs in {:.1} s", r.pulled, f.fresh_sync_s);

    // One edit, one round trip, as an app's sync service does it: over a kept connection.
    // Bytes: everything that crossed the connection, divided by the edits.
    let ids: Vec<uuid::Uuid> = owner
        .lock()
        .unwrap()
        .doc_ids()
        .unwrap()
        .into_iter()
        .filter(|id| fresh.lock().unwrap().get_client(*id).is_ok())
        .collect();
    let mut rng = rand::rng();
    let mut times = Vec::new();
    let cfg = owner.lock().unwrap().sync_config().unwrap().unwrap();
    settle();
    let before = proxy.total();
    {
        let remote = Remote::new(&cfg.server, Some(cfg.token.clone())).unwrap();
        for i in 0..EDITS {
            let id = ids[rng.random_range(0..ids.len())];
            let t = Instant::now();
            comment(&owner, id, format!("edit {i}"));
            let r = sync::sync_with(&owner, &remote).unwrap();
            assert_eq!(r.pushed, 1);
            times.push(t.elapsed());
        }
    }
    settle();
    f.edit_round_trip = stat(times);
    f.edit_round_trip_wire_bytes = (proxy.total() - before) / EDITS as u64;

    // The fresh device catches up, then reconnects with nothing new.
    sync::sync_now(&fresh).unwrap();
    let mut times = Vec::new();
    let mut bytes = Vec::new();
    for _ in 0..50 {
        settle();
        let before = proxy.total();
        let t = Instant::now();
        let r = sync::sync_now(&fresh).unwrap();
        times.push(t.elapsed());
        assert_eq!(r.pulled + r.pushed, 0);
        settle();
        bytes.push(proxy.total() - before);
    }
    f.idle_reconnect = stat(times);
    f.idle_reconnect_wire_bytes = *bytes.iter().max().unwrap();
    // The same, over a connection kept open (an app's sync service): counted by closing it.
    let remote = fresh.lock().unwrap().sync_config().unwrap().unwrap();
    let mut times = Vec::new();
    settle();
    let before = proxy.total();
    {
        let r = Remote::new(&remote.server, Some(remote.token.clone())).unwrap();
        for _ in 0..50 {
            let t = Instant::now();
            sync::sync_with(&fresh, &r).unwrap();
            times.push(t.elapsed());
        }
    }
    settle();
    f.idle_same_connection = stat(times);
    f.idle_same_connection_wire_bytes = (proxy.total() - before) / 50;

    // "A day offline": the fresh device edits 100 clients with no network, then syncs once.
    for (i, id) in ids.iter().take(100).enumerate() {
        comment(&fresh, *id, format!("offline {i}"));
    }
    settle();
    let before = proxy.total();
    let t = Instant::now();
    let r = sync::sync_now(&fresh).unwrap();
    f.offline_edits_s = t.elapsed().as_secs_f64();
    assert_eq!(r.pushed, 100.min(ids.len()) as u32);
    settle();
    f.offline_edits_wire_bytes = proxy.total() - before;

    // Propagation: B waits on a long-poll; A edits and syncs.
    let (tx, rx) = std::sync::mpsc::channel::<Instant>();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let waiter = {
        let stop = stop.clone();
        let fresh_path = fresh_path.clone();
        drop(fresh);
        std::thread::spawn(move || {
            let b = Mutex::new(Store::open(&fresh_path).unwrap());
            let cfg = b.lock().unwrap().sync_config().unwrap().unwrap();
            let r = Remote::new(&cfg.server, Some(cfg.token)).unwrap();
            while !stop.load(Ordering::Relaxed) {
                let rep = sync::sync_and_wait_with(&b, &r, Duration::from_secs(5)).unwrap();
                if rep.pulled > 0 {
                    let _ = tx.send(Instant::now());
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let mut lat = Vec::new();
    let cfg = owner.lock().unwrap().sync_config().unwrap().unwrap();
    let a_remote = Remote::new(&cfg.server, Some(cfg.token)).unwrap();
    for i in 0..100 {
        let id = ids[rng.random_range(0..ids.len())];
        let t = Instant::now();
        comment(&owner, id, format!("live {i}"));
        sync::sync_with(&owner, &a_remote).unwrap();
        let seen = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("B saw the edit");
        lat.push(seen - t);
        std::thread::sleep(Duration::from_millis(20));
    }
    f.propagation = stat(lat);
    stop.store(true, Ordering::Relaxed);
    // Wake the waiter so it can stop.
    comment(&owner, ids[0], "end".into());
    sync::sync_with(&owner, &a_remote).unwrap();
    waiter.join().unwrap();

    // Load: `devices` devices, each pushing one edit of its own client a second.
    let cursor = owner.lock().unwrap().sync_cursor().unwrap();
    let mut sims = Vec::new();
    for i in 0..devices {
        let code = sync::invite(&owner.lock().unwrap()).unwrap().code;
        let paired = Remote::new(&running.url(), None)
            .unwrap()
            .join(&wire::JoinBusiness {
                code,
                device_name: format!("load {i}"),
            })
            .unwrap();
        let id = ids[i % ids.len()];
        let doc = Automerge::load(&owner.lock().unwrap().export_doc(id).unwrap())
            .unwrap()
            .with_actor(ActorId::random());
        sims.push((paired.token, id, doc));
    }
    let url = running.url();
    let (lat, errors) = rt.block_on(load(url, sims, cursor, Duration::from_secs(seconds)));
    f.load_devices = devices;
    f.load_seconds = seconds;
    f.load_requests = lat.len();
    f.load_errors = errors;
    f.load_latency = stat(lat);

    rt.block_on(running.shutdown()).unwrap();
    drop(owner);
    remove_db(&owner_path);
    remove_db(&fresh_path);
    f
}

/// Edits one client's comment on the device.
fn comment(device: &Mutex<Store>, id: uuid::Uuid, text: String) {
    let patch = ClientPatch {
        comment: Some(Some(text)),
        ..Default::default()
    };
    device.lock().unwrap().update_client(id, patch).unwrap();
}

/// Lets the proxy count connections that just closed.
fn settle() {
    std::thread::sleep(Duration::from_millis(30));
}

async fn load(
    url: String,
    sims: Vec<(String, uuid::Uuid, Automerge)>,
    cursor: Cursor,
    run_for: Duration,
) -> (Vec<Duration>, usize) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .unwrap();
    let end = tokio::time::Instant::now() + run_for;
    let mut tasks = Vec::new();
    for (n, (token, id, mut doc)) in sims.into_iter().enumerate() {
        let http = http.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            let mut cursor = cursor;
            // Spread the devices over the second.
            tokio::time::sleep(Duration::from_millis((n as u64 * 997) % 1000)).await;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut i = 0u64;
            while tokio::time::Instant::now() < end {
                tick.tick().await;
                let heads = doc.get_heads();
                let mut tx = doc.transaction();
                tx.put(ROOT, "comment", format!("load {n} {i}")).unwrap();
                tx.commit();
                i += 1;
                let body = wire::encode(&SyncRequest {
                    cursor,
                    push: vec![Chunk {
                        doc: id,
                        data: doc.save_after(&heads),
                    }],
                });
                let t = Instant::now();
                let resp = http
                    .post(format!("{url}/v1/sync"))
                    .bearer_auth(&token)
                    .header("content-type", wire::MEDIA_TYPE)
                    .body(body)
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status().is_success() => {
                        let bytes = r.bytes().await.unwrap();
                        lat.push(t.elapsed());
                        let resp: SyncResponse = wire::decode(&bytes).unwrap();
                        cursor = resp.cursor;
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    (all, errors)
}
