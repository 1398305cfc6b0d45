#![no_main]
//! Any bytes as a stored or received document: the strict loader, then the readers of a client
//! and of a business document, and a merge into a real client document. A document or a typed
//! error, never a panic.

use kartka_core::crdt::{self, business, client};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

fuzz_target!(|data: &[u8]| {
    let id = Uuid::nil();
    if let Ok(doc) = crdt::load_strict(id, data) {
        let _ = client::read(&doc, id);
        let _ = business::read(&doc, id);
        let _ = crdt::doc_kind(&doc);
    }
    let _ = crdt::merge_bytes(id, None, data);
});
