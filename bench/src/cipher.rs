//! `kartka-bench cipher`: what encryption at rest costs. The same book (the one `store` builds)
//! measured plain and encrypted with SQLCipher, in one run, with the same operations: search by
//! name and by phone, first page after open, single writes, a bulk write; and the one-off cost
//! of encrypting a plain book in place.

use std::path::Path;
use std::time::Duration;

use kartka_core::Store;
use kartka_core::model::ClientPatch;
use kartka_core::store::{BookKey, ClientFilter, Page};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::{Stat, data, remove_db, stat, timed};

#[derive(Serialize, Default, Clone)]
struct Figures {
    search_name: Stat,
    search_phone: Stat,
    open_first_page: Stat,
    add_client: Stat,
    edit_client: Stat,
    bulk_5000_s: f64,
}

#[derive(Serialize, Default)]
pub struct Report {
    clients: usize,
    runs: usize,
    encrypt_in_place_s: f64,
    size_plain_mib: f64,
    size_encrypted_mib: f64,
    plain: Figures,
    encrypted: Figures,
}

/// Measures `book` (of `clients` clients) plain and encrypted, working on copies in `dir`.
pub fn run(book: &Path, clients: usize, dir: &Path, runs: usize) -> Report {
    // Writes go to copies; the built book stays as it is for other runs.
    let plain = dir.join("cipher-plain.db");
    let encrypted = dir.join("cipher-encrypted.db");
    for p in [&plain, &encrypted] {
        remove_db(p);
    }
    // Brought to the current schema (and checkpointed) once, so both copies start equal.
    Store::open(book).unwrap().checkpoint().unwrap();
    std::fs::copy(book, &plain).unwrap();
    std::fs::copy(book, &encrypted).unwrap();
    let key = BookKey::new([0x5a; 32]);
    let mut r = Report {
        clients,
        ..Default::default()
    };
    r.encrypt_in_place_s = timed(|| Store::open_encrypted(&encrypted, &key).unwrap())
        .0
        .as_secs_f64();
    r.size_plain_mib = crate::file_size(&plain) as f64 / crate::MIB;
    r.size_encrypted_mib = crate::file_size(&encrypted) as f64 / crate::MIB;
    // Each book is measured whole, with the same queries and the same generated clients;
    // the two take turns `runs` times and each figure is the median over the runs, so that a
    // burst of noise on this two-core machine (a checkpoint, another process) moves neither.
    let (mut p, mut e) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        p.push(figures(clients, &|| Store::open(&plain).unwrap()));
        e.push(figures(clients, &|| {
            Store::open_encrypted(&encrypted, &key).unwrap()
        }));
    }
    r.runs = runs;
    r.plain = median(&p);
    r.encrypted = median(&e);
    remove_db(&plain);
    remove_db(&encrypted);
    r
}

/// Each figure's median over the runs (p50 and p99 taken separately).
fn median(runs: &[Figures]) -> Figures {
    let mid = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let st = |get: &dyn Fn(&Figures) -> Stat| Stat {
        p50_us: mid(runs.iter().map(|f| get(f).p50_us).collect()),
        p99_us: mid(runs.iter().map(|f| get(f).p99_us).collect()),
        max_us: mid(runs.iter().map(|f| get(f).max_us).collect()),
        n: runs.iter().map(|f| get(f).n).sum(),
    };
    Figures {
        search_name: st(&|f| f.search_name),
        search_phone: st(&|f| f.search_phone),
        open_first_page: st(&|f| f.open_first_page),
        add_client: st(&|f| f.add_client),
        edit_client: st(&|f| f.edit_client),
        bulk_5000_s: mid(runs.iter().map(|f| f.bulk_5000_s).collect()),
    }
}

fn figures(clients: usize, open: &dyn Fn() -> Store) -> Figures {
    let mut rng = StdRng::seed_from_u64(7);
    let mut gen_ = data::Generator::new(99);
    let mut f = Figures::default();
    let store = open();

    let queries: Vec<String> = (0..1000)
        .map(|_| {
            let (g, fam) = gen_.name();
            let base = if rng.random_bool(0.5) { g } else { fam };
            let n = rng.random_range(3..=5).min(base.chars().count());
            base.chars().take(n).collect::<String>().to_lowercase()
        })
        .collect();
    f.search_name = stat(
        queries
            .iter()
            .map(|q| timed(|| store.search(q, Page::default()).unwrap()).0)
            .collect(),
    );
    let phones: Vec<String> = (0..1000).map(|_| gen_.phone().1).collect();
    f.search_phone = stat(
        phones
            .iter()
            .map(|e| {
                let q = format!("0{} {}", &e[4..6], &e[6..9]);
                timed(|| store.search(&q, Page::default()).unwrap()).0
            })
            .collect(),
    );
    drop(store);

    f.open_first_page = stat(
        (0..30)
            .map(|_| {
                timed(|| {
                    let s = open();
                    s.list_clients(&ClientFilter::default(), Page::default())
                        .unwrap()
                })
                .0
            })
            .collect(),
    );

    let mut store = open();
    let mut ids = Vec::new();
    let mut d: Vec<Duration> = Vec::new();
    for i in 0..1000 {
        let c = gen_.client(clients + i);
        let (t, created) = timed(|| store.create_client(c).unwrap());
        ids.push(created.id);
        d.push(t);
    }
    f.add_client = stat(d);
    f.edit_client = stat(
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                let patch = ClientPatch {
                    comment: Some(Some(format!("edit {i}"))),
                    ..Default::default()
                };
                timed(|| store.update_client(*id, patch).unwrap()).0
            })
            .collect(),
    );
    let batch: Vec<_> = (0..5000).map(|i| gen_.client(clients + 2000 + i)).collect();
    f.bulk_5000_s = timed(|| store.create_clients(batch).unwrap())
        .0
        .as_secs_f64();
    f
}

impl Report {
    pub fn markdown(&self) -> String {
        let ms = |s: &Stat| format!("{:.2} / {:.2}", s.p50_us / 1e3, s.p99_us / 1e3);
        let ratio = |a: f64, b: f64| format!("{:.2}×", b / a);
        let (p, e) = (&self.plain, &self.encrypted);
        let mut out = format!(
            "{} clients, median of {} runs each: encrypting the plain book in place took {:.1} s; \
             size {:.1} MiB plain, {:.1} MiB encrypted\n\n\
             | operation | plain p50 / p99 (ms) | encrypted p50 / p99 (ms) | encrypted / plain (p99) |\n\
             |---|---|---|---|\n",
            self.clients,
            self.runs,
            self.encrypt_in_place_s,
            self.size_plain_mib,
            self.size_encrypted_mib
        );
        for (name, a, b) in [
            ("search by name", &p.search_name, &e.search_name),
            ("search by phone digits", &p.search_phone, &e.search_phone),
            ("open + first page", &p.open_first_page, &e.open_first_page),
            ("add one client", &p.add_client, &e.add_client),
            ("edit one client", &p.edit_client, &e.edit_client),
        ] {
            out.push_str(&format!(
                "| {name} | {} | {} | {} |\n",
                ms(a),
                ms(b),
                ratio(a.p99_us, b.p99_us)
            ));
        }
        out.push_str(&format!(
            "| 5,000 clients in one transaction | {:.2} s | {:.2} s | {} |\n",
            p.bulk_5000_s,
            e.bulk_5000_s,
            ratio(p.bulk_5000_s, e.bulk_5000_s)
        ));
        out
    }
}
