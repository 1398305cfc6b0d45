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
    end_quietly_on_a_closed_pipe();
    let cli = args::Cli::parse();
    if let Err(e) = run::run(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}

/// `kartka --json client list | head`: once the reader has what it wants and closes the pipe,
/// the next `println!` fails with EPIPE, which std turns into a panic and a backtrace. A closed
/// pipe is the reader saying "enough", as for any Unix tool: the process ends quietly with 141
/// (128 + SIGPIPE, what a shell reports for a tool SIGPIPE ended). Every edit was committed
/// before its output was printed, so nothing is lost.
fn end_quietly_on_a_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
