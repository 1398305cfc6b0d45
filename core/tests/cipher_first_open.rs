//! The first encrypted books a process opens, opened at the same moment on several threads
//! (as a phone's sync worker and its UI may, or a test run's threads): every one opens.
//!
//! Its own test binary, so that these opens are the process's first use of SQLite: SQLCipher
//! finishes its set-up in SQLite's initialisation hook, which runs after SQLite has let other
//! threads through, and a thread keying a book in that window was refused (seen in CI).

use std::sync::{Arc, Barrier};

use kartka_core::store::{BookKey, Store};

#[test]
fn books_opened_at_once_on_a_fresh_process_all_open() {
    const THREADS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let barrier = Arc::new(Barrier::new(THREADS));
    let opens: Vec<_> = (0..THREADS)
        .map(|i| {
            let path = dir.path().join(format!("book-{i}.db"));
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                Store::open_encrypted(&path, &BookKey::new([i as u8 + 1; 32])).map(|_| ())
            })
        })
        .collect();
    for (i, open) in opens.into_iter().enumerate() {
        let result = open.join().expect("the opening thread panicked");
        assert!(result.is_ok(), "book {i}: {result:?}");
    }
}
