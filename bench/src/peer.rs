//! `kartka-bench peer`: Kartka beside automerge-repo on the same business, in the same run.
//!
//! For each size the Kartka side is `sync::run` (a real server and real books over loopback,
//! bytes counted by a TCP proxy); the peer side is the Node scripts in `bench/peer` (installed
//! with `npm install` from its lockfile): automerge-repo's WebSocket server with filesystem storage,
//! a fresh device, an idle reconnect that opens the client list, 100 offline edits, one edit
//! from A seen on B, and 200 connected devices. Prints one table of both, with ratios.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sync::{self, SyncFigures};

/// A figure not measured is NaN (written as `null` in JSON).
#[derive(Serialize, Deserialize, Default, Clone)]
pub struct PeerFigures {
    #[serde(deserialize_with = "nan_if_null")]
    fresh_s: f64,
    #[serde(deserialize_with = "nan_if_null")]
    fresh_bytes: f64,
    #[serde(deserialize_with = "nan_if_null")]
    reconnect_s: f64,
    #[serde(deserialize_with = "nan_if_null")]
    reconnect_bytes: f64,
    #[serde(deserialize_with = "nan_if_null")]
    offline_s: f64,
    #[serde(deserialize_with = "nan_if_null")]
    offline_bytes: f64,
    #[serde(deserialize_with = "nan_if_null")]
    edit_p50_ms: f64,
    #[serde(deserialize_with = "nan_if_null")]
    edit_p99_ms: f64,
    #[serde(deserialize_with = "nan_if_null")]
    edit_bytes: f64,
    #[serde(deserialize_with = "nan_if_null")]
    server_rss_mib_with_devices: f64,
    /// Phases that gave no figures: stopped at `--peer-limit-secs` (their time is that limit, a
    /// lower bound) or failed. After the fresh device halts the later phases are not run (they
    /// start from its storage).
    #[serde(default)]
    halted: Vec<Halted>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Halted {
    /// "fresh", "reconnect", "offline", "edit" or "devices".
    phase: String,
    /// Stopped at the limit (else failed).
    stopped: bool,
    after_s: f64,
}

impl PeerFigures {
    fn halted(&self, phase: &str) -> Option<&Halted> {
        self.halted.iter().find(|h| h.phase == phase)
    }
}

fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The floor beside both: the same records as plain rows and as compressed JSON.
#[derive(Serialize, Deserialize, Default, Clone)]
pub struct FloorFigures {
    sqlite_file_bytes: u64,
    json_bytes: u64,
    json_zstd_bytes: u64,
    /// Every row written into an empty plain database, one transaction.
    insert_all_s: f64,
    /// Every row read back.
    read_all_s: f64,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Row {
    clients: usize,
    kartka: SyncFigures,
    kartka_server_rss_mib_with_devices: f64,
    peer: PeerFigures,
    floor: FloorFigures,
}

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peer")
}

/// Why a phase of the peer gave no figures.
enum Halt {
    /// Still running at the limit: its time is a lower bound.
    Stopped,
    /// Exited with an error (its stderr is in the run's log) after this many seconds.
    Failed(f64),
}

/// Runs a script of the peer, for at most `limit`, and reads the JSON line it prints last.
fn node(script: &str, args: &[String], limit: Option<Duration>) -> Result<Value, Halt> {
    let started = Instant::now();
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(peer_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let text = reader.join().unwrap();
            let value = text
                .lines()
                .last()
                .and_then(|l| serde_json::from_str(l).ok());
            return match value {
                Some(v) if status.success() => Ok(v),
                _ => Err(Halt::Failed(started.elapsed().as_secs_f64())),
            };
        }
        if limit.is_some_and(|l| started.elapsed() >= l) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Halt::Stopped);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

struct PeerServer {
    child: Child,
    url: String,
    index: String,
    pid: u32,
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first line a server child prints (where it listens), read from its piped stdout.
fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line
}

fn peer_server(dir: &Path, clients: usize, visits: usize) -> PeerServer {
    let mut child = Command::new("node")
        .args(["server.mjs", "--dir"])
        .arg(dir.join("server"))
        .args([
            "--seed",
            &clients.to_string(),
            "--visits",
            &visits.to_string(),
        ])
        .current_dir(peer_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node server.mjs");
    let v: Value = serde_json::from_str(&first_line(&mut child)).expect("the server's first line");
    PeerServer {
        url: format!("ws://127.0.0.1:{}", v["port"]),
        index: v["index"].as_str().unwrap().to_string(),
        pid: v["pid"].as_u64().unwrap() as u32,
        child,
    }
}

fn peer(
    dir: &Path,
    clients: usize,
    visits: usize,
    devices: usize,
    limit: Option<Duration>,
) -> PeerFigures {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let t = std::time::Instant::now();
    let server = peer_server(dir, clients, visits);
    eprintln!(
        "peer: seeded {clients} clients in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let base = |d: &str| {
        vec![
            "--url".to_string(),
            server.url.clone(),
            "--index".into(),
            server.index.clone(),
            "--dir".into(),
            dir.join(d).display().to_string(),
        ]
    };
    let num = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let nan = f64::NAN;
    let mut f = PeerFigures {
        fresh_s: nan,
        fresh_bytes: nan,
        reconnect_s: nan,
        reconnect_bytes: nan,
        offline_s: nan,
        offline_bytes: nan,
        edit_p50_ms: nan,
        edit_p99_ms: nan,
        edit_bytes: nan,
        server_rss_mib_with_devices: nan,
        halted: Vec::new(),
    };
    // Each phase runs for at most `limit`; one that halts is listed in `halted`.
    let limit_s = limit.map_or(nan, |l| l.as_secs_f64());
    let phase = |f: &mut PeerFigures, name: &str, script: &str, args: &[String]| match node(
        script, args, limit,
    ) {
        Ok(v) => {
            eprintln!("peer: {name} done");
            Some(v)
        }
        Err(h) => {
            let (stopped, after_s) = match h {
                Halt::Stopped => (true, limit_s),
                Halt::Failed(after) => (false, after),
            };
            eprintln!(
                "peer: {name} {} after {after_s:.0} s",
                if stopped { "stopped" } else { "failed" }
            );
            f.halted.push(Halted {
                phase: name.into(),
                stopped,
                after_s,
            });
            None
        }
    };
    match phase(&mut f, "fresh", "fresh.mjs", &base("device")) {
        Some(v) => {
            f.fresh_s = num(&v, "seconds");
            f.fresh_bytes = num(&v, "bytes_in") + num(&v, "bytes_out");
        }
        None => {
            drop(server);
            let _ = std::fs::remove_dir_all(dir);
            return f;
        }
    }
    if let Some(v) = phase(&mut f, "reconnect", "reconnect.mjs", &base("device")) {
        f.reconnect_s = num(&v, "seconds");
        f.reconnect_bytes = num(&v, "bytes_in") + num(&v, "bytes_out");
    }
    let mut args = base("device");
    args.extend(["--offline-edits".into(), "100".into()]);
    if let Some(v) = phase(&mut f, "offline", "reconnect.mjs", &args) {
        f.offline_s = num(&v, "seconds");
        f.offline_bytes = num(&v, "bytes_in") + num(&v, "bytes_out");
    }
    let mut args = base("edit");
    args.extend(["--edits".into(), "100".into()]);
    if let Some(v) = phase(&mut f, "edit", "edit.mjs", &args) {
        f.edit_p50_ms = num(&v, "p50_ms");
        f.edit_p99_ms = num(&v, "p99_ms");
        f.edit_bytes = num(&v, "bytes_per_edit");
    }
    let mut args = base("unused");
    args.extend([
        "--pid".into(),
        server.pid.to_string(),
        "--devices".into(),
        devices.to_string(),
    ]);
    if let Some(v) = phase(&mut f, "devices", "devices.mjs", &args) {
        f.server_rss_mib_with_devices = num(&v, "server_rss_mib");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
    f
}

/// The floor's figures for the business in `book` (whose plain-row twin is `floor_db`).
fn floor(book: &Path, floor_db: &Path, dir: &Path) -> FloorFigures {
    let mut f = FloorFigures::default();
    {
        let c = crate::floor::open(floor_db);
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    f.sqlite_file_bytes = crate::file_size(floor_db);
    let mut json = Vec::new();
    kartka_core::Store::open(book)
        .unwrap()
        .export_book_json(&mut json)
        .unwrap();
    f.json_bytes = json.len() as u64;
    f.json_zstd_bytes = zstd::encode_all(&json[..], 3).unwrap().len() as u64;

    let copy = dir.join("floor-copy.db");
    crate::remove_db(&copy);
    let c = crate::floor::open(&copy);
    c.execute("ATTACH DATABASE ?1 AS src", [floor_db.to_str().unwrap()])
        .unwrap();
    let t = std::time::Instant::now();
    c.execute_batch(
        "BEGIN;
         INSERT INTO main.clients SELECT * FROM src.clients;
         INSERT INTO main.visits SELECT * FROM src.visits;
         COMMIT;",
    )
    .unwrap();
    f.insert_all_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let mut n = 0u64;
    for table in ["clients", "visits"] {
        let mut stmt = c.prepare(&format!("SELECT * FROM main.{table}")).unwrap();
        let cols = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..cols {
                let _ = row.get_ref(i).unwrap();
            }
            n += 1;
        }
    }
    f.read_all_s = t.elapsed().as_secs_f64();
    assert!(n > 0);
    drop(c);
    crate::remove_db(&copy);
    f
}

/// `limit`: the longest the peer's fresh device may take at any size (see
/// [`PeerFigures::stopped`]).
pub fn run(
    sizes: &[usize],
    visits: usize,
    dir: &Path,
    devices: usize,
    limit: Option<Duration>,
    after_each: &mut dyn FnMut(&[Row]),
) -> Vec<Row> {
    if !peer_dir().join("node_modules").exists() {
        // `npm install` keeps the versions pinned in package-lock.json. Not `npm ci`: the lock
        // names cbor-extract's optional native builds, which this registry does not serve, and
        // `npm ci` refuses a lock without them (cbor-x falls back to JavaScript).
        let ok = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(peer_dir())
            .status()
            .expect("npm")
            .success();
        assert!(ok, "npm install in bench/peer failed");
    }
    let mut rows = Vec::new();
    for &clients in sizes {
        let book = crate::ensure_book(dir, clients, visits);
        let kartka = sync::run(
            &book,
            dir,
            sync::Backend::Sqlite(dir.join("peer-kartka-server.db")),
            devices,
            10,
        );
        let floor_db = dir.join(format!("floor-{clients}x{visits}.db"));
        let floor = floor(&book, &floor_db, dir);
        let kartka_rss = kartka_server_rss(&book, dir, devices);
        let peer = peer(
            &dir.join(format!("peer-{clients}")),
            clients,
            visits,
            devices,
            limit,
        );
        rows.push(Row {
            clients,
            kartka,
            kartka_server_rss_mib_with_devices: kartka_rss,
            peer,
            floor,
        });
        // What is measured is kept as it comes: the larger sizes take the better part of an hour.
        after_each(&rows);
    }
    rows
}

/// Adds the rows of an earlier run's `--out` JSON for the sizes this run did not measure, so one
/// table and one chart can cover sizes measured in separate runs (the largest peer run alone
/// takes most of an hour here). Rows end up ordered by size.
pub fn with_earlier(rows: &mut Vec<Row>, earlier: &Path) {
    let text = std::fs::read_to_string(earlier).expect("the earlier run's JSON");
    let old: Vec<Row> = serde_json::from_str(&text).expect("rows of `kartka-bench peer --out`");
    for r in old {
        if !rows.iter().any(|n| n.clients == r.clients) {
            rows.push(r);
        }
    }
    rows.sort_by_key(|r| r.clients);
}

/// A ratio to three decimals, or in scientific notation when that would show only zeros.
fn ratio_text(r: f64) -> String {
    if r != 0.0 && r.abs() < 0.001 {
        format!("{r:.1e}")
    } else {
        format!("{r:.3}")
    }
}

pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| figure | clients | Kartka | automerge-repo | Kartka / peer |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        let (k, p) = (&r.kartka, &r.peer);
        let lines: [(&str, f64, f64); 9] = [
            ("fresh device: time (s)", k.fresh_sync_s, p.fresh_s),
            (
                "fresh device: bytes",
                k.fresh_sync_wire_bytes as f64,
                p.fresh_bytes,
            ),
            (
                "idle reconnect: time (ms)",
                k.idle_reconnect.p50_us / 1e3,
                p.reconnect_s * 1e3,
            ),
            (
                "idle reconnect: bytes",
                k.idle_reconnect_wire_bytes as f64,
                p.reconnect_bytes,
            ),
            (
                "100 offline edits, then sync: time (s)",
                k.offline_edits_s,
                p.offline_s,
            ),
            (
                "100 offline edits, then sync: bytes",
                k.offline_edits_wire_bytes as f64,
                p.offline_bytes,
            ),
            (
                "one edit A→B: p50 (ms)",
                k.propagation.p50_us / 1e3,
                p.edit_p50_ms,
            ),
            (
                "one edit A→B: p99 (ms)",
                k.propagation.p99_us / 1e3,
                p.edit_p99_ms,
            ),
            (
                "one edit: bytes",
                k.edit_round_trip_wire_bytes as f64,
                p.edit_bytes,
            ),
        ];
        for (i, (name, kv, pv)) in lines.into_iter().enumerate() {
            // The phase each line's figure comes from.
            let from = [
                "fresh",
                "fresh",
                "reconnect",
                "reconnect",
                "offline",
                "offline",
            ]
            .get(i)
            .copied()
            .unwrap_or("edit");
            let is_time = i % 2 == 0 && i < 6;
            let (peer, ratio) = match p.halted(from) {
                Some(h) if h.stopped && is_time => {
                    let unit = if i == 2 { 1e3 } else { 1.0 };
                    (
                        format!("> {:.0} s (stopped)", h.after_s),
                        format!("< {}", ratio_text(kv / (h.after_s * unit))),
                    )
                }
                Some(h) if h.stopped => ("— (stopped)".to_string(), "—".to_string()),
                Some(h) => (format!("failed after {:.0} s", h.after_s), "—".to_string()),
                None if pv.is_nan() => ("not run".to_string(), "—".to_string()),
                None => (format!("{pv:.3}"), ratio_text(kv / pv)),
            };
            out.push_str(&format!(
                "| {name} | {} | {kv:.3} | {peer} | {ratio} |\n",
                r.clients
            ));
        }
        let fl = &r.floor;
        out.push_str(&format!(
            "| floor: plain SQLite file / JSON / JSON+zstd (bytes) | {} | {} / {} / {} | | |\n\
             | floor: every row into an empty plain database / read back (s) | {} | {:.3} / {:.3} | | |\n",
            r.clients,
            fl.sqlite_file_bytes,
            fl.json_bytes,
            fl.json_zstd_bytes,
            r.clients,
            fl.insert_all_s,
            fl.read_all_s
        ));
        let (kr, pr) = (
            r.kartka_server_rss_mib_with_devices,
            p.server_rss_mib_with_devices,
        );
        let (peer, ratio) = if pr.is_nan() {
            ("not run".to_string(), "—".to_string())
        } else {
            (format!("{pr:.1}"), format!("{:.3}", kr / pr))
        };
        out.push_str(&format!(
            "| server RSS with {} devices connected (MiB) | {} | {kr:.1} | {peer} | {ratio} |\n",
            k.load_devices, r.clients
        ));
    }
    out
}

/// Kartka's server memory with `devices` devices connected: the server in a process of its own
/// (`kartka-bench serve`), the business uploaded by its owner, then every device paired and
/// holding a long-poll open, as a connected device does; its resident memory from /proc.
pub fn kartka_server_rss(book: &Path, dir: &Path, devices: usize) -> f64 {
    use kartka_core::Store;
    use kartka_core::sync::remote::Remote;
    use kartka_core::sync::wire::{self, Cursor, SyncRequest};

    let db = dir.join("rss-server.db");
    crate::remove_db(&db);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("serve")
        .arg("--db")
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("kartka-bench serve");
    let url = first_line(&mut child)
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();

    let owner_path = dir.join("rss-owner.db");
    crate::remove_db(&owner_path);
    std::fs::copy(book, &owner_path).unwrap();
    let owner = std::sync::Mutex::new(Store::open(&owner_path).unwrap());
    sync_pair(&owner, &url);
    let cursor = owner.lock().unwrap().sync_cursor().unwrap();
    let tokens: Vec<String> = (0..devices)
        .map(|i| {
            let code = kartka_core::sync::invite(&owner.lock().unwrap())
                .unwrap()
                .code;
            Remote::new(&url, None)
                .unwrap()
                .join(&wire::JoinBusiness {
                    code,
                    device_name: format!("device {i}"),
                })
                .unwrap()
                .token
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = wire::encode(&SyncRequest {
        cursor: match cursor {
            Cursor::Start => Cursor::Feed(0),
            c => c,
        },
        push: vec![],
    });
    let rss = rt.block_on(async {
        let http = reqwest::Client::new();
        for token in tokens {
            let (http, url, body) = (http.clone(), url.clone(), body.clone());
            tokio::spawn(async move {
                loop {
                    let _ = http
                        .post(format!("{url}/v1/sync?wait=30"))
                        .bearer_auth(&token)
                        .header("content-type", wire::MEDIA_TYPE)
                        .body(body.clone())
                        .send()
                        .await;
                }
            });
        }
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
            / 1024.0
    });
    rt.shutdown_background();
    let _ = child.kill();
    let _ = child.wait();
    drop(owner);
    crate::remove_db(&owner_path);
    crate::remove_db(&db);
    rss
}

fn sync_pair(owner: &std::sync::Mutex<kartka_core::Store>, url: &str) {
    kartka_core::sync::create_business(&mut owner.lock().unwrap(), url, "owner").unwrap();
    kartka_core::sync::sync_now(owner).unwrap();
}

/// `kartka-bench serve`: a kartka-server on SQLite at `db`, for a figure that needs the server
/// in a process of its own. Prints `listening on URL`, then serves until killed.
pub fn serve(db: &Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = sync::server_config();
    rt.block_on(async {
        let storage = kartka_server::storage::sqlite::SqliteStorage::open(db).unwrap();
        let running = kartka_server::start_with(storage, config).await.unwrap();
        println!("listening on {}", running.url());
        running.wait().await.unwrap();
    });
}

/// An SVG of the fresh-device figures against business size: time on the left, bytes on the
/// right, both axes logarithmic; Kartka, automerge-repo, and the floor (plain rows inserted;
/// zstd-compressed JSON).
pub fn chart(rows: &[Row]) -> String {
    /// A line of the chart: its name, colour, and the figure it draws.
    type Series = (&'static str, &'static str, fn(&Row) -> f64);
    let panels: [(&str, [Series; 3]); 2] = [
        (
            "fresh device: time (s)",
            [
                ("Kartka", "#1f6feb", |r| r.kartka.fresh_sync_s),
                ("automerge-repo", "#d9480f", |r| r.peer.fresh_s),
                ("floor: plain rows inserted", "#868e96", |r| {
                    r.floor.insert_all_s
                }),
            ],
        ),
        (
            "fresh device: bytes",
            [
                ("Kartka", "#1f6feb", |r| {
                    r.kartka.fresh_sync_wire_bytes as f64
                }),
                ("automerge-repo", "#d9480f", |r| r.peer.fresh_bytes),
                ("floor: JSON + zstd", "#868e96", |r| {
                    r.floor.json_zstd_bytes as f64
                }),
            ],
        ),
    ];
    let (w, h, pad) = (420.0, 300.0, 50.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n",
        2.0 * w,
        h + 40.0
    );
    let xs: Vec<f64> = rows.iter().map(|r| (r.clients as f64).log10()).collect();
    let (x0, x1) = (
        xs.iter().cloned().fold(f64::INFINITY, f64::min),
        xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
    );
    for (p, (title, series)) in panels.iter().enumerate() {
        let ox = p as f64 * w;
        let values: Vec<f64> = series
            .iter()
            .flat_map(|(_, _, get)| rows.iter().map(get))
            .filter(|v| *v > 0.0 && v.is_finite())
            .map(f64::log10)
            .collect();
        let y0 = values.iter().cloned().fold(f64::INFINITY, f64::min).floor();
        let y1 = values
            .iter()
            .cloned()
            .fold(f64::NEG_INFINITY, f64::max)
            .ceil();
        let sx = |x: f64| ox + pad + (x - x0) / (x1 - x0).max(1e-9) * (w - 2.0 * pad);
        let sy = |y: f64| h - pad + 20.0 - (y - y0) / (y1 - y0).max(1e-9) * (h - 2.0 * pad);
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"16\" font-weight=\"bold\">{title} (log scales)</text>\n",
            ox + pad
        ));
        for e in (y0 as i32)..=(y1 as i32) {
            let y = sy(e as f64);
            svg.push_str(&format!(
                "<line x1=\"{}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">1e{e}</text>\n",
                ox + pad,
                ox + w - pad,
                ox + pad - 4.0,
                y + 4.0
            ));
        }
        for r in rows {
            let x = sx((r.clients as f64).log10());
            svg.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
                h - pad + 36.0,
                r.clients
            ));
        }
        for (k, (name, color, get)) in series.iter().enumerate() {
            let points: Vec<String> = rows
                .iter()
                .filter(|r| get(r) > 0.0 && get(r).is_finite())
                .map(|r| {
                    format!(
                        "{:.1},{:.1}",
                        sx((r.clients as f64).log10()),
                        sy(get(r).log10())
                    )
                })
                .collect();
            svg.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\n",
                points.join(" ")
            ));
            for pt in &points {
                let (x, y) = pt.split_once(',').unwrap();
                svg.push_str(&format!(
                    "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{color}\"/>\n"
                ));
            }
            svg.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" fill=\"{color}\">{name}</text>\n",
                ox + pad + 6.0,
                40.0 + 14.0 * k as f64
            ));
        }
    }
    svg.push_str("</svg>\n");
    svg
}
