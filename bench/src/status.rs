//! `kartka-bench status`: what the sync status costs (issue 24). Reading it through the FFI on
//! the `store` book (50,000 clients), with nothing and with 1,000 records waiting; and a book
//! subscribed to it, its sync loop live against a server in a process of its own, left idle:
//! how often the subscriber is told and how much CPU the book's process spends meanwhile.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kartka_ffi::{ClientBook, SyncStateListener, SyncStateRec, SyncStatusListener, SyncStatusRec};

struct Count(AtomicU64);

impl SyncStateListener for Count {
    fn sync_state_changed(&self, _: SyncStateRec) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

struct Quiet;

impl SyncStatusListener for Quiet {
    fn sync_status(&self, _: SyncStatusRec) {}
}

/// p50 and p99 of `reads` calls, in µs.
fn reads(book: &ClientBook, reads: usize) -> (f64, f64) {
    let mut ns: Vec<u128> = (0..reads)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(book.sync_state().unwrap());
            t.elapsed().as_nanos()
        })
        .collect();
    ns.sort_unstable();
    let at = |p: f64| ns[((ns.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    (at(0.5), at(0.99))
}

/// User + system CPU time of this process so far (Linux /proc; clock ticks of 10 ms).
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split(' ')
        .skip(11)
        .take(2)
        .map(|x| x.parse().unwrap())
        .collect();
    (f[0] + f[1]) * 10
}

pub fn run(book: &Path, idle_secs: u64) {
    let dir = book.parent().unwrap().join("status");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("book.db");
    std::fs::copy(book, &copy).unwrap();

    let open = || ClientBook::open(copy.to_string_lossy().into()).unwrap();
    // As built: never paired, every record waiting.
    let b = open();
    reads(&b, 1000);
    let (p50, p99) = reads(&b, 20_000);
    let all = b.sync_state().unwrap().pending;
    println!("read, {all} waiting (never paired): p50 {p50:.1} µs  p99 {p99:.1} µs");
    drop(b);
    // As after its first sync: the server holds everything.
    rusqlite::Connection::open(&copy)
        .unwrap()
        .execute("UPDATE docs SET synced = heads, dirty = 0", [])
        .unwrap();
    let b = open();
    let ids: Vec<String> = b
        .find_clients(String::new(), None, None, 0, 1000)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    reads(&b, 1000); // warm the cache and the prepared statements
    let (p50, p99) = reads(&b, 20_000);
    let waiting0 = b.sync_state().unwrap().pending;
    println!("read, {waiting0} waiting (synced):    p50 {p50:.1} µs  p99 {p99:.1} µs");
    for id in &ids {
        b.update_client(
            id.clone(),
            kartka_ffi::ClientPatchRec {
                comment: Some("edited offline".into()),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let waiting = b.sync_state().unwrap().pending;
    let (p50, p99) = reads(&b, 20_000);
    println!("read, {waiting} waiting (edited):  p50 {p50:.1} µs  p99 {p99:.1} µs");
    drop(b);

    // Idle with a subscriber and the loop live: a small paired book, the server elsewhere.
    let mut server = Command::new(std::env::current_exe().unwrap())
        .args(["serve", "--db"])
        .arg(dir.join("server.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().trim_start_matches("listening on ").to_string();
    let live = ClientBook::open(dir.join("live.db").to_string_lossy().into()).unwrap();
    live.init_business(kartka_ffi::NewBusinessRec {
        name: "Bench".into(),
        region: "UA".into(),
        zone: "Europe/Kyiv".into(),
        currency: "UAH".into(),
        locale: None,
    })
    .unwrap();
    live.pair_create_business(url, "bench".into()).unwrap();
    live.sync_now().unwrap();
    let told = Arc::new(Count(AtomicU64::new(0)));
    live.observe_sync_state(told.clone()).unwrap();
    live.clone().start_sync(25, Arc::new(Quiet));
    std::thread::sleep(Duration::from_secs(2)); // the loop's first check
    let (calls, cpu) = (told.0.load(Ordering::Relaxed), cpu_ms());
    std::thread::sleep(Duration::from_secs(idle_secs));
    let calls = told.0.load(Ordering::Relaxed) - calls;
    let cpu = cpu_ms() - cpu;
    println!(
        "idle {idle_secs} s, subscribed, loop live (25 s long-poll): subscriber told {calls} times, \
         {cpu} ms CPU in the book's process"
    );
    live.stop_sync();
    let _ = server.kill();
    let _ = server.wait();
}
