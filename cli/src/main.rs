//! `kartka`: the client book from a terminal, for masters at a laptop and for end-to-end tests.
//!
//! Human output by default, `--json` for machines; on bad input a one-line `error: …` on stderr
//! and exit code 2 (1 for anything else that fails), with nothing changed.

mod args;
mod comms;
mod inbox;
mod output;
mod rules;
mod run;
mod staff;
mod sync;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse();
    if let Err(e) = run::run(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
