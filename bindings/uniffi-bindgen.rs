//! `cargo run -p kartka-ffi --bin uniffi-bindgen -- generate --library <lib> --language kotlin …`
fn main() {
    uniffi::uniffi_bindgen_main()
}
