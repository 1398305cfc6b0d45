#![no_main]
//! Any bytes into the vCard parser: a result or a typed error, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = kartka_core::import::vcard::parse(data) {
        for c in &parsed.contacts {
            let _ = c.name();
        }
    }
});
