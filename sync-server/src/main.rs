//! `kartka-server`: with no arguments, serves 127.0.0.1:8787 from `./kartka-data/server.db`.

fn main() -> std::process::ExitCode {
    kartka_server::cli::main_entry()
}
