#![no_main]
//! Any bytes as a sync request (what the server's `/v1/sync` decodes from the network) and as a
//! sync answer (what a device decodes): a value or a typed error, never a panic. A value that
//! decodes survives encoding and decoding again unchanged. (Postcard reads an over-long varint,
//! such as `f7 00` for 0x77, as the same number: harmless, so bytes need not round-trip.)

use kartka_core::sync::wire::{self, SyncRequest, SyncResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = wire::decode::<SyncRequest>(data) {
        let again = wire::decode::<SyncRequest>(&wire::encode(&req)).expect("re-decodes");
        assert_eq!(again, req);
    }
    let _ = wire::decode::<SyncResponse>(data);
});
