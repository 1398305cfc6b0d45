#![no_main]
//! Any bytes into the CSV parser: a result or a typed error, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kartka_core::import::csv::parse(data);
});
