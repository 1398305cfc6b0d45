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
