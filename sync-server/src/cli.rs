//! The `kartka-server` command: with no arguments, serves 127.0.0.1:8787 from
//! `./kartka-data/server.db` with the `log` gateway.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::Config;
use clap::Parser;

#[derive(Parser)]
#[command(name = "kartka-server", version, about = "Kartka's sync server")]
struct Args {
    /// A TOML configuration file (see README for its keys).
    #[arg(long, env = "KARTKA_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the file and KARTKA_BIND).
    #[arg(long)]
    bind: Option<std::net::SocketAddr>,
    /// sqlite://PATH or postgres://… (overrides the file and KARTKA_DATABASE_URL).
    #[arg(long)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Lists the businesses' own senders of the configuration (`[[notify.senders]]`), checked:
    /// what each business sends from, and where a message to it is its own.
    Senders,
}

/// The whole `kartka-server` program: flags, configuration, serve until SIGINT/SIGTERM.
pub fn main_entry() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KARTKA_LOG")
                // automerge logs refused input at ERROR; the server already answers it with a 4xx.
                .unwrap_or_else(|_| "info,automerge=off".into()),
        )
        .with_target(false)
        // Logs go to stderr: stdout carries only the "listening on" line a supervisor reads.
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = match Config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kartka-server: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Senders) = args.command {
        // Loading checked them: one business per number, one entry per business.
        print!("{}", senders(&config.notify));
        return ExitCode::SUCCESS;
    }
    if let Some(b) = args.bind {
        config.bind = b;
    }
    if let Some(u) = args.database_url {
        config.database_url = u;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kartka-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    rt.block_on(async move {
        let running = match crate::start(config).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("kartka-server: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Print the bound address on stdout: with port 0 it is how a supervisor (or a test)
        // learns the port.
        println!("listening on {scheme}://{}", running.addr);
        shutdown_signal().await;
        tracing::info!("shutting down");
        match running.shutdown().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kartka-server: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// `kartka-server senders`: a line per business with its own sender.
fn senders(notify: &crate::config::Notify) -> String {
    if notify.senders.is_empty() {
        return format!(
            "no business has its own sender: a reply on a shared number belongs to the business \
             that wrote to that number last, within {} h\n",
            notify.reply_window_hours
        );
    }
    notify
        .senders
        .iter()
        .map(|s| {
            format!(
                "{}  sms {}  whatsapp {}\n",
                s.business,
                s.sms.as_deref().unwrap_or("-"),
                s.whatsapp.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
