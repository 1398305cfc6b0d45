//! `kartka-bench`: the figures in BENCHMARKS.md, each beside the plain-SQLite floor measured in
//! the same run. `kartka-bench store --clients 50000` builds (or reuses) a book of that size and
//! prints the table; see BENCHMARKS.md for the exact commands.

mod cipher;
mod data;
mod floor;
mod import;
mod notify;
mod peer;
mod phone;
mod status;
mod sync;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use kartka_core::Store;
use kartka_core::model::{ClientPatch, NewBusiness};
use kartka_core::store::{ClientFilter, Page};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use uuid::Uuid;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Store figures: search, first page, cold open, writes, bulk creation, size.
    Store {
        #[command(flatten)]
        book: BookArgs,
        /// Write the figures as JSON here too.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Normalising typed phone numbers: Kartka's reader beside the crate it replaced.
    Phone,
    /// Import figures against the book `store` built: preview and import of a 5,000-contact
    /// phone book, and a 20,000-row CSV previewed.
    Import {
        #[command(flatten)]
        book: BookArgs,
    },
    /// Sync figures on a real server over loopback (builds the book like `store` if needed).
    Sync {
        #[command(flatten)]
        book: BookArgs,
        /// A PostgreSQL URL: the server uses it instead of its embedded SQLite.
        #[arg(long)]
        postgres: Option<String>,
        /// Devices in the load phase, each pushing one edit a second.
        #[arg(long, default_value_t = 200)]
        devices: usize,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// Notification figures: bursts of due messages (SQLite; PostgreSQL with one and two
    /// dispatchers with --postgres), a steady load, and re-deriving after one edit at 500,000
    /// visits (on the `store` book).
    Notify {
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        #[arg(long, default_value = "target/bench-data")]
        dir: PathBuf,
        #[arg(long)]
        postgres: Option<String>,
        /// Edits timed in the re-derivation figure (0: skip it).
        #[arg(long, default_value_t = 200)]
        edits: usize,
    },
    /// Encryption at rest: the `store` book plain and encrypted (SQLCipher), same operations.
    Cipher {
        #[command(flatten)]
        book: BookArgs,
        /// Write the figures as JSON here too.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Turns each book takes; every figure is the median over them.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Kartka beside automerge-repo (bench/peer, run with Node) on the same business, one size
    /// after another: fresh device, idle reconnect, offline edits, one edit A→B, many devices.
    Peer {
        /// Business sizes, comma-separated.
        #[arg(long, default_value = "1000,10000,50000", value_delimiter = ',')]
        clients: Vec<usize>,
        #[arg(long, default_value_t = 10)]
        visits_per_client: usize,
        #[arg(long, default_value = "target/bench-data")]
        dir: PathBuf,
        #[arg(long, default_value_t = 200)]
        devices: usize,
        /// Write the figures as JSON here too.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where the chart (SVG) goes.
        #[arg(long, default_value = "bench/peer/chart.svg")]
        chart: PathBuf,
        /// An earlier run's `--out` JSON: its sizes not measured now join the table and chart.
        #[arg(long)]
        with: Option<PathBuf>,
        /// Measure nothing: print the table and write the chart of `--with`'s rows.
        #[arg(long, requires = "with")]
        render_only: bool,
        /// Stop any phase of the peer after this long (its time is then a lower bound; after
        /// the fresh device, the peer's later phases are not run at that size).
        #[arg(long)]
        peer_limit_secs: Option<u64>,
    },
    /// Child process of `peer`: a kartka-server on SQLite, in a process of its own.
    Serve {
        #[arg(long)]
        db: PathBuf,
    },
    /// What the sync status costs: reads through the FFI on the `store` book, and a subscribed
    /// book left idle with its sync loop live.
    Status {
        #[command(flatten)]
        book: BookArgs,
        /// Seconds the subscribed book is left idle.
        #[arg(long, default_value_t = 60)]
        idle: u64,
    },
    /// Child process of `store`: open a book cold, read the first page, report peak RSS.
    FirstPage {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        floor: bool,
    },
}

/// The business a figure is measured on: a book of `clients` clients with `visits_per_client`
/// visits each, built once (with its plain-SQLite floor) and kept in `dir` for later runs.
#[derive(clap::Args)]
struct BookArgs {
    #[arg(long, default_value_t = 50_000)]
    clients: usize,
    #[arg(long, default_value_t = 10)]
    visits_per_client: usize,
    /// Where the books are built (kept for reuse between runs).
    #[arg(long, default_value = "target/bench-data")]
    dir: PathBuf,
}

/// The book of `clients` × `visits` in `dir`, built first (with its floor twin) if missing.
pub fn ensure_book(dir: &Path, clients: usize, visits: usize) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let book = dir.join(format!("book-{clients}x{visits}.db"));
    if !book.exists() {
        eprintln!("building the book of {clients} clients first (as `store` does)");
        let floor = dir.join(format!("floor-{clients}x{visits}.db"));
        build(&book, &floor, clients, visits);
    }
    book
}

/// Writes the figures as JSON to `out`, when asked.
fn write_json(out: Option<PathBuf>, figures: &impl Serialize) {
    if let Some(out) = out {
        std::fs::write(out, serde_json::to_string_pretty(figures).unwrap()).unwrap();
    }
}

fn main() {
    match Cli::parse().cmd {
        Cmd::Serve { db } => peer::serve(&db),
        Cmd::Status { book, idle } => status::run(
            &ensure_book(&book.dir, book.clients, book.visits_per_client),
            idle,
        ),
        Cmd::Peer {
            clients,
            visits_per_client,
            dir,
            devices,
            out,
            chart,
            with,
            peer_limit_secs,
            render_only,
        } => {
            std::fs::create_dir_all(&dir).unwrap();
            let limit = peer_limit_secs.map(std::time::Duration::from_secs);
            let save = |rows: &[peer::Row]| {
                let mut rows = rows.to_vec();
                if let Some(earlier) = &with {
                    peer::with_earlier(&mut rows, earlier);
                }
                std::fs::write(&chart, peer::chart(&rows)).unwrap();
                write_json(out.clone(), &rows);
                rows
            };
            // Re-rendering measures nothing (and needs no peer installed).
            let rows = if render_only {
                Vec::new()
            } else {
                peer::run(
                    &clients,
                    visits_per_client,
                    &dir,
                    devices,
                    limit,
                    &mut |r| {
                        save(r);
                    },
                )
            };
            println!("{}", peer::markdown(&save(&rows)));
        }
        Cmd::Cipher { book, out, runs } => {
            let path = ensure_book(&book.dir, book.clients, book.visits_per_client);
            let report = cipher::run(&path, book.clients, &book.dir, runs.max(1));
            println!("{}", report.markdown());
            write_json(out, &report);
        }
        Cmd::Store { book, out } => {
            let report = store_bench(book.clients, book.visits_per_client, &book.dir);
            println!("{}", report.markdown());
            write_json(out, &report);
        }
        Cmd::Phone => println!("{}", phone::run().markdown()),
        Cmd::Import { book } => {
            let BookArgs {
                clients,
                visits_per_client,
                dir,
            } = book;
            let book = dir.join(format!("book-{clients}x{visits_per_client}.db"));
            assert!(
                book.exists(),
                "build the book first: kartka-bench store --clients {clients}"
            );
            let r = import::run(&book, &dir);
            println!("{}", serde_json::to_string_pretty(&r).unwrap());
        }
        Cmd::Sync {
            book,
            postgres,
            devices,
            seconds,
        } => {
            let dir = book.dir;
            let book = ensure_book(&dir, book.clients, book.visits_per_client);
            let backend = match postgres {
                Some(url) => sync::Backend::Postgres(url),
                None => sync::Backend::Sqlite(dir.join("sync-server.db")),
            };
            let f = sync::run(&book, &dir, backend, devices, seconds);
            println!("{}", serde_json::to_string_pretty(&f).unwrap());
        }
        Cmd::Notify {
            messages,
            dir,
            postgres,
            edits,
        } => {
            std::fs::create_dir_all(&dir).unwrap();
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap();
            let mut bursts = vec![rt.block_on(notify::burst(
                &dir,
                messages,
                notify::Backend::Sqlite,
                std::time::Duration::ZERO,
            ))];
            eprintln!("{:?}", bursts.last());
            bursts.push(rt.block_on(notify::burst(
                &dir,
                messages,
                notify::Backend::Sqlite,
                std::time::Duration::from_secs(10),
            )));
            eprintln!("{:?}", bursts.last());
            if let Some(url) = postgres {
                for k in [1, 2] {
                    bursts.push(rt.block_on(notify::burst(
                        &dir,
                        messages,
                        notify::Backend::Postgres(url.clone(), k),
                        std::time::Duration::ZERO,
                    )));
                    eprintln!("{:?}", bursts.last());
                }
            }
            let derive = (edits > 0).then(|| {
                let book = dir.join("book-50000x10.db");
                assert!(book.exists(), "build the book first: kartka-bench store");
                rt.block_on(notify::derive(&book, &dir, edits))
            });
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({ "bursts": bursts, "derive": derive })
                )
                .unwrap()
            );
        }
        Cmd::FirstPage { db, floor } => {
            let n = if floor {
                floor::first_page(&rusqlite::Connection::open(&db).unwrap())
            } else {
                let store = Store::open(&db).unwrap();
                store
                    .list_clients(
                        &ClientFilter::default(),
                        Page {
                            offset: 0,
                            limit: 50,
                        },
                    )
                    .unwrap()
                    .len()
            };
            assert_eq!(n, 50);
            println!("{}", peak_rss_kib());
        }
    }
}

/// Peak resident set of this process (VmHWM), KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[derive(Serialize, serde::Deserialize, Default, Clone, Copy)]
struct Stat {
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
    n: usize,
}

fn stat(mut d: Vec<Duration>) -> Stat {
    d.sort();
    let us = |x: Duration| x.as_secs_f64() * 1e6;
    let at = |q: f64| us(d[((d.len() as f64 - 1.0) * q).round() as usize]);
    Stat {
        p50_us: at(0.5),
        p99_us: at(0.99),
        max_us: us(*d.last().unwrap()),
        n: d.len(),
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let v = f();
    (t.elapsed(), v)
}

#[derive(Serialize, Default)]
struct Report {
    clients: usize,
    visits: usize,
    build_s: f64,
    search_name: Stat,
    search_name_floor: Stat,
    search_phone: Stat,
    search_phone_floor: Stat,
    search_phone_last4: Stat,
    search_phone_middle: Stat,
    search_phone_three: Stat,
    search_phone_inside_floor: Stat,
    first_page_after_open: Stat,
    first_page_floor: Stat,
    cold_open_first_page: Stat,
    cold_open_first_page_floor: Stat,
    cold_peak_rss_mib: f64,
    cold_peak_rss_floor_mib: f64,
    add_client: Stat,
    add_client_floor: Stat,
    edit_client: Stat,
    edit_client_floor: Stat,
    bulk_5000_s: f64,
    bulk_5000_floor_s: f64,
    size_mib: f64,
    size_docs_mib: f64,
    size_floor_mib: f64,
    /// Bytes of the index of inner digits (`phone_digits` and its by-client index).
    size_phone_digits: u64,
    /// Bytes of `phone_keys` and its index, with the sort key (schema 9) and without it (as
    /// before, rebuilt from the same rows in a scratch file).
    size_phone_keys: u64,
    size_phone_keys_before: u64,
}

/// Removes a scratch database and its WAL and shared-memory files.
pub fn remove_db(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(format!("{}-wal", path.display()));
    let _ = std::fs::remove_file(format!("{}-shm", path.display()));
}

fn file_size(path: &Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

const MIB: f64 = 1024.0 * 1024.0;

fn store_bench(clients: usize, visits_per_client: usize, dir: &Path) -> Report {
    std::fs::create_dir_all(dir).unwrap();
    let book = dir.join(format!("book-{clients}x{visits_per_client}.db"));
    let plain = dir.join(format!("floor-{clients}x{visits_per_client}.db"));
    let mut r = Report {
        clients,
        visits: clients * visits_per_client,
        ..Default::default()
    };

    if !book.exists() || !plain.exists() {
        let _ = std::fs::remove_file(&book);
        let _ = std::fs::remove_file(&plain);
        let t = Instant::now();
        build(&book, &plain, clients, visits_per_client);
        r.build_s = t.elapsed().as_secs_f64();
        eprintln!("built in {:.1} s", r.build_s);
    }

    {
        let s = Store::open(&book).unwrap();
        s.checkpoint().unwrap();
        let f = floor::open(&plain);
        f.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        r.size_mib = file_size(&book) as f64 / MIB;
        r.size_floor_mib = file_size(&plain) as f64 / MIB;
        let conn = rusqlite::Connection::open(&book).unwrap();
        let docs: i64 = conn
            .query_row("SELECT sum(length(data)) FROM docs", [], |x| x.get(0))
            .unwrap();
        r.size_docs_mib = docs as f64 / MIB;
        let pages = |schema: &str, tables: &str| -> u64 {
            conn.query_row(
                &format!(
                    "SELECT coalesce(sum(pgsize), 0) FROM dbstat('{schema}') WHERE name IN ({tables})"
                ),
                [],
                |x| x.get::<_, i64>(0),
            )
            .unwrap() as u64
        };
        r.size_phone_digits = pages("main", "'phone_digits', 'phone_digits_by_client'");
        r.size_phone_keys = pages("main", "'phone_keys', 'phone_keys_by_client'");
        let before = dir.join("phone-keys-before.db");
        remove_db(&before);
        conn.execute("ATTACH ?1 AS before", [before.to_str().unwrap()])
            .unwrap();
        conn.execute_batch(
            "CREATE TABLE before.phone_keys (key TEXT NOT NULL, client_rid INTEGER NOT NULL,
                 PRIMARY KEY (key, client_rid)) WITHOUT ROWID;
             CREATE INDEX before.phone_keys_by_client ON phone_keys (client_rid);
             INSERT INTO before.phone_keys SELECT key, client_rid FROM main.phone_keys;",
        )
        .unwrap();
        r.size_phone_keys_before = pages("before", "'phone_keys', 'phone_keys_by_client'");
        conn.execute("DETACH before", []).unwrap();
        remove_db(&before);
    }

    let mut rng = StdRng::seed_from_u64(7);
    let mut gen_ = data::Generator::new(99);
    let store = Store::open(&book).unwrap();
    let fl = floor::open(&plain);

    // Search: name parts typed as people type them (any case), and phone digits.
    let samples: Vec<(String, String)> = (0..1000).map(|_| gen_.name()).collect();
    let name_queries: Vec<String> = samples
        .iter()
        .map(|(g, f)| {
            let base = if rng.random_bool(0.5) { g } else { f };
            let n = rng.random_range(3..=5).min(base.chars().count());
            let q: String = base.chars().take(n).collect();
            if rng.random_bool(0.5) {
                q.to_lowercase()
            } else {
                q
            }
        })
        .collect();
    let mut d = Vec::new();
    for q in &name_queries {
        let (t, res) = timed(|| store.search(q, Page::default()).unwrap());
        assert!(!res.is_empty(), "{q}");
        d.push(t);
    }
    r.search_name = stat(d);
    r.search_name_floor = stat(
        samples
            .iter()
            .map(|(g, _)| {
                let q: String = g.chars().take(4).collect();
                timed(|| floor::search_name(&fl, &q)).0
            })
            .collect(),
    );
    let phones: Vec<String> = {
        let mut stmt = fl
            .prepare("SELECT phone FROM clients ORDER BY random() LIMIT 1000")
            .unwrap();
        stmt.query_map([], |x| x.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let mut d = Vec::new();
    for e in &phones {
        // "+380671234567" typed as "067 123"
        let q = format!("0{} {}", &e[4..6], &e[6..9]);
        let (t, res) = timed(|| store.search(&q, Page::default()).unwrap());
        assert!(!res.is_empty(), "{q}");
        d.push(t);
    }
    r.search_phone = stat(d);
    r.search_phone_floor = stat(
        phones
            .iter()
            .map(|e| timed(|| floor::search_phone(&fl, &e[..9])).0)
            .collect(),
    );
    // Digits from inside the number, as a master remembers them: the last four ("45 67" of
    // +380671234567), the subscriber part's start without the operator code ("123 45"), and
    // three digits from its middle ("345", the widest such query: ~7 in 1,000 numbers hold it).
    type Typed = fn(&str) -> String;
    let inside: [(&str, Typed); 3] = [
        ("last4", |e| format!("{} {}", &e[9..11], &e[11..13])),
        ("middle", |e| format!("{} {}", &e[6..9], &e[9..11])),
        ("three", |e| e[8..11].to_string()),
    ];
    for (kind, query) in inside {
        let mut d = Vec::new();
        for e in &phones {
            let q = query(e);
            let (t, res) = timed(|| store.search(&q, Page::default()).unwrap());
            assert!(!res.is_empty(), "{q}");
            d.push(t);
        }
        match kind {
            "last4" => r.search_phone_last4 = stat(d),
            "middle" => r.search_phone_middle = stat(d),
            _ => r.search_phone_three = stat(d),
        }
    }
    r.search_phone_inside_floor = stat(
        phones
            .iter()
            .take(100)
            .map(|e| timed(|| floor::search_phone_inside(&fl, &e[9..13])).0)
            .collect(),
    );

    // First page right after open, in process.
    let mut d = Vec::new();
    for _ in 0..30 {
        let s = Store::open(&book).unwrap();
        d.push(
            timed(|| {
                s.list_clients(&ClientFilter::default(), Page::default())
                    .unwrap()
            })
            .0,
        );
    }
    r.first_page_after_open = stat(d);
    r.first_page_floor = stat(
        (0..30)
            .map(|_| {
                let c = floor::open(&plain);
                timed(|| floor::first_page(&c)).0
            })
            .collect(),
    );

    // Cold process: spawn, open, first page, exit.
    let exe = std::env::current_exe().unwrap();
    let cold = |floor_run: bool| -> (Stat, f64) {
        let mut d = Vec::new();
        let mut rss = 0u64;
        for _ in 0..20 {
            let mut cmd = Command::new(&exe);
            cmd.args(["first-page", "--db"])
                .arg(if floor_run { &plain } else { &book });
            if floor_run {
                cmd.arg("--floor");
            }
            let (t, out) = timed(|| cmd.output().unwrap());
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            rss = rss.max(String::from_utf8_lossy(&out.stdout).trim().parse().unwrap());
            d.push(t);
        }
        (stat(d), rss as f64 / 1024.0)
    };
    (r.cold_open_first_page, r.cold_peak_rss_mib) = cold(false);
    (r.cold_open_first_page_floor, r.cold_peak_rss_floor_mib) = cold(true);

    // Writes go to copies, so the books stay as built and a rerun measures the same data.
    drop(store);
    drop(fl);
    let scratch_book = dir.join("scratch-book.db");
    let scratch_plain = dir.join("scratch-floor.db");
    std::fs::copy(&book, &scratch_book).unwrap();
    std::fs::copy(&plain, &scratch_plain).unwrap();
    let mut store = Store::open(&scratch_book).unwrap();
    let fl = floor::open(&scratch_plain);

    // Single writes, each committed.
    let mut d = Vec::new();
    let mut new_ids = Vec::new();
    for i in 0..1000 {
        let c = gen_.client(clients + i);
        let (t, created) = timed(|| store.create_client(c).unwrap());
        new_ids.push(created.id);
        d.push(t);
    }
    r.add_client = stat(d);
    let mut d = Vec::new();
    for i in 0..1000 {
        let c = gen_.client(clients + 1000 + i);
        let (_, e164) = gen_.phone();
        d.push(timed(|| floor::insert_client(&fl, Uuid::now_v7(), &c, &e164, 0)).0);
    }
    r.add_client_floor = stat(d);
    let mut d = Vec::new();
    for (i, id) in new_ids.iter().enumerate() {
        let patch = ClientPatch {
            comment: Some(Some(format!("edit {i}"))),
            ..Default::default()
        };
        d.push(timed(|| store.update_client(*id, patch).unwrap()).0);
    }
    r.edit_client = stat(d);
    let floor_ids: Vec<Uuid> = {
        let mut stmt = fl
            .prepare("SELECT id FROM clients ORDER BY random() LIMIT 1000")
            .unwrap();
        stmt.query_map([], |x| x.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    r.edit_client_floor = stat(
        floor_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                timed(|| {
                    fl.execute(
                        "UPDATE clients SET comment = ?1, updated_at = ?2 WHERE id = ?3",
                        rusqlite::params![format!("edit {i}"), i as i64, id],
                    )
                    .unwrap()
                })
                .0
            })
            .collect(),
    );

    // Bulk creation of 5,000 clients in one transaction.
    let batch: Vec<_> = (0..5000).map(|i| gen_.client(clients + 2000 + i)).collect();
    let floor_batch: Vec<_> = batch.iter().map(|c| (c.clone(), gen_.phone().1)).collect();
    r.bulk_5000_s = timed(|| store.create_clients(batch).unwrap())
        .0
        .as_secs_f64();
    r.bulk_5000_floor_s = timed(|| {
        let tx = fl.unchecked_transaction().unwrap();
        for (c, e) in &floor_batch {
            floor::insert_client(&tx, Uuid::now_v7(), c, e, 0);
        }
        tx.commit().unwrap();
    })
    .0
    .as_secs_f64();

    drop(store);
    drop(fl);
    remove_db(&scratch_book);
    remove_db(&scratch_plain);
    r
}

pub fn build(book: &Path, plain: &Path, clients: usize, visits_per_client: usize) {
    let mut store = Store::open(book).unwrap();
    store
        .init_business(NewBusiness {
            name: "Бенчмарк".into(),
            region: "UA".into(),
            zone: "Europe/Kyiv".into(),
            currency: "UAH".into(),
            locale: Some("uk".into()),
        })
        .unwrap();
    let fl = floor::open(plain);
    let mut g = data::Generator::new(1);
    let mut done = 0;
    while done < clients {
        let n = (clients - done).min(1000);
        let items: Vec<_> = (0..n)
            .map(|i| (g.client(done + i), g.visits(visits_per_client)))
            .collect();
        let ids = store.import_history(items.clone()).unwrap();
        let tx = fl.unchecked_transaction().unwrap();
        for (id, (c, visits)) in ids.iter().zip(&items) {
            let e164 = kartka_core::phone::to_e164(
                &c.phones[0].0,
                kartka_core::phone::parse_region("UA").unwrap(),
            )
            .unwrap();
            floor::insert_client(&tx, *id, c, &e164, 0);
            for v in visits {
                floor::insert_visit(&tx, *id, v, 0);
            }
        }
        tx.commit().unwrap();
        done += n;
        eprint!("\rbuilt {done}/{clients}");
    }
    eprintln!();
}

impl Report {
    fn markdown(&self) -> String {
        let ms = |s: Stat| format!("{:.2} / {:.2} ms", s.p50_us / 1000.0, s.p99_us / 1000.0);
        let rows = [
            (
                "search by name, p50 / p99",
                ms(self.search_name),
                ms(self.search_name_floor),
            ),
            (
                "search by phone digits, p50 / p99",
                ms(self.search_phone),
                ms(self.search_phone_floor),
            ),
            (
                "search by the last 4 digits (`45 67`), p50 / p99",
                ms(self.search_phone_last4),
                ms(self.search_phone_inside_floor),
            ),
            (
                "search by middle digits (`123 45`), p50 / p99",
                ms(self.search_phone_middle),
                ms(self.search_phone_inside_floor),
            ),
            (
                "search by 3 middle digits (`345`), p50 / p99",
                ms(self.search_phone_three),
                ms(self.search_phone_inside_floor),
            ),
            (
                "first page (50 by name) after open, p50 / p99",
                ms(self.first_page_after_open),
                ms(self.first_page_floor),
            ),
            (
                "cold process: open + first page, p50 / p99",
                ms(self.cold_open_first_page),
                ms(self.cold_open_first_page_floor),
            ),
            (
                "cold process peak RSS",
                format!("{:.1} MiB", self.cold_peak_rss_mib),
                format!("{:.1} MiB", self.cold_peak_rss_floor_mib),
            ),
            (
                "add one client (committed), p50 / p99",
                ms(self.add_client),
                ms(self.add_client_floor),
            ),
            (
                "edit one client (committed), p50 / p99",
                ms(self.edit_client),
                ms(self.edit_client_floor),
            ),
            (
                "bulk create 5,000 clients",
                format!("{:.2} s", self.bulk_5000_s),
                format!("{:.3} s", self.bulk_5000_floor_s),
            ),
            (
                "on-disk size",
                format!(
                    "{:.1} MiB (documents {:.1} MiB)",
                    self.size_mib, self.size_docs_mib
                ),
                format!("{:.1} MiB", self.size_floor_mib),
            ),
        ];
        let mut s = format!(
            "{} clients, {} visits\n\n| figure | Kartka | plain SQLite floor |\n|---|---|---|\n",
            self.clients, self.visits
        );
        for (a, b, c) in rows {
            s += &format!("| {a} | {b} | {c} |\n");
        }
        s += &format!(
            "\nsize ratio Kartka / floor: {:.2}\n",
            self.size_mib / self.size_floor_mib
        );
        s += &format!(
            "index of inner phone digits: {} bytes ({:.1} MiB); phone keys {} bytes with sort keys, {} without\n",
            self.size_phone_digits,
            self.size_phone_digits as f64 / MIB,
            self.size_phone_keys,
            self.size_phone_keys_before
        );
        s
    }
}
