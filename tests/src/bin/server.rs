//! `kartka-server`, built into this package so its tests can start, kill and restart it.

fn main() -> std::process::ExitCode {
    kartka_server::cli::main_entry()
}
