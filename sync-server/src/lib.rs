//! `kartka-server`: the sync server of a Kartka business.
//!
//! - [`api`]: the HTTP API (pairing, sync, health, metrics);
//! - [`storage`]: businesses, devices, documents and the change feed, on SQLite or PostgreSQL;
//! - [`auth`]: tokens and invite codes;
//! - [`writer`]: the server's own edits of documents (as its own actor);
//! - [`config`]: configuration from file, environment and flags.
//!
//! See ARCHITECTURE.md, "Sync protocol".

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod metrics;
pub mod storage;
pub mod writer;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::Config;
use config::Database;
use storage::Storage;
use storage::postgres::PgStorage;
use storage::sqlite::SqliteStorage;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("database: {0}")]
    Storage(#[from] storage::StorageError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the `{0}` gateway is not known (this version has: log)")]
    Gateway(String),
}

/// A server running on the current tokio runtime.
pub struct Running {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish (long-polls answer at once), and waits.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Resolves when the server stops by itself (it does not, unless it fails).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Opens the configured database and starts serving.
pub async fn start(config: Config) -> Result<Running, ServerError> {
    if config.gateway.kind != "log" {
        return Err(ServerError::Gateway(config.gateway.kind.clone()));
    }
    match config.database()? {
        Database::Sqlite(path) => {
            let storage = SqliteStorage::open(&path)?;
            tracing::info!(path = %path.display(), "storage: embedded SQLite");
            start_with(storage, config).await
        }
        Database::Postgres(url) => {
            let storage = PgStorage::connect(&url, config.pool_size).await?;
            tracing::info!("storage: PostgreSQL");
            start_with(storage, config).await
        }
    }
}

/// Starts serving on `storage` (tests and benchmarks pass one they built).
pub async fn start_with<S: Storage>(storage: S, config: Config) -> Result<Running, ServerError> {
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.bind,
        source,
    })?;
    let (stop, stopped) = watch::channel(false);
    let app = api::App::new(storage, config.limits.clone(), stopped.clone());
    let router = api::router(app).into_make_service_with_connect_info::<SocketAddr>();
    let mut stopped_signal = stopped;
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped_signal.wait_for(|s| *s).await;
            })
            .await
    });
    tracing::info!(%addr, gateway = %config.gateway.kind, "kartka-server listening");
    Ok(Running { addr, stop, task })
}
