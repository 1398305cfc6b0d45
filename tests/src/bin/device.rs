//! A device syncing its book once, as an app's background job does: `device-under-test BOOK`.
//! Tests kill it at random moments.

use std::sync::Mutex;

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: device-under-test BOOK");
        return std::process::ExitCode::from(2);
    };
    let store = match kartka_core::Store::open(&path) {
        Ok(s) => Mutex::new(s),
        Err(e) => {
            eprintln!("open: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match kartka_core::sync::sync_now(&store) {
        Ok(r) => {
            println!("pushed {} pulled {}", r.pushed, r.pulled);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sync: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
