#![no_main]
//! Any bytes as each provider's webhook body: WhatsApp's JSON (events), a Telegram update, a
//! Twilio form with its signature check, a Telegram start token. A value or a typed error, never
//! a panic: these bodies come from the internet before anything is verified.

use kartka_server::notify::gateway::{telegram, twilio, whatsapp};
use kartka_server::notify::start_link;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = whatsapp::events(data);
    let _ = whatsapp::signature_valid("secret", data, "sha256=00");
    let _ = telegram::parse_update(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = start_link::verify(b"key", text, Default::default());
        let _ = twilio::is_opt_out(text);
        let params: Vec<(String, String)> = serde_urlencoded_free(text);
        let _ = twilio::signature_valid("token", "https://example.com/hook", &params, text);
    }
});

/// A form split by hand (`a=b&c=d`), so the target needs nothing but the server crate.
fn serde_urlencoded_free(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
