#![allow(dead_code)]
//! Helpers shared by the core's integration tests: real store files in a temporary directory.

use chrono::{DateTime, TimeZone, Utc};
use kartka_core::Store;
use kartka_core::model::{NewBusiness, NewClient};
use tempfile::TempDir;

pub fn business() -> NewBusiness {
    NewBusiness {
        name: "Студія Олени".into(),
        region: "UA".into(),
        zone: "Europe/Kyiv".into(),
        currency: "UAH".into(),
        locale: Some("uk".into()),
    }
}

/// A fresh, initialised book in its own directory (kept alive by the returned `TempDir`).
pub fn book() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("book.db")).unwrap();
    store.init_business(business()).unwrap();
    (dir, store)
}

/// A second device of the same business: an empty book that received the business document.
pub fn second_device(first: &Store) -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("book.db")).unwrap();
    let biz = first.business().unwrap().id;
    store
        .apply_remote(biz, &first.export_doc(biz).unwrap())
        .unwrap();
    (dir, store)
}

/// Sends every document of `from` to `to` (what a sync does, without the network).
pub fn sync_into(from: &Store, to: &mut Store) {
    for id in from.doc_ids().unwrap() {
        to.apply_remote(id, &from.export_doc(id).unwrap()).unwrap();
    }
}

pub fn client(name: &str, phones: &[&str]) -> NewClient {
    NewClient {
        name: name.into(),
        phones: phones
            .iter()
            .map(|p| (p.to_string(), String::new()))
            .collect(),
        ..Default::default()
    }
}

pub fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Every byte of every file in `dir` (a book, its WAL and shared memory), to look for what must
/// not be there.
pub fn files(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        all.extend(std::fs::read(e.path()).unwrap_or_default());
    }
    all
}

/// Whether `s` occurs in `hay` as UTF-8 bytes.
pub fn holds(hay: &[u8], s: &str) -> bool {
    hay.windows(s.len()).any(|w| w == s.as_bytes())
}
