//! `kartka-server`: the sync server of a Kartka business.
//!
//! - [`api`]: the HTTP API (pairing, sync, health, metrics);
//! - [`storage`]: businesses, devices, documents and the change feed, on SQLite or PostgreSQL;
//! - [`auth`]: tokens and invite codes;
//! - [`writer`]: the server's own edits of documents (as its own actor);
//! - [`notify`]: the notification scheduler, dispatcher, gateways and webhooks;
//! - [`config`]: configuration from file, environment and flags.
//!
//! See ARCHITECTURE.md, "Sync protocol".

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod guard;
pub mod metrics;
pub mod notify;
pub mod storage;
pub mod tls;
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
    #[error(transparent)]
    Gateway(#[from] notify::gateway::GatewayError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// A server running on the current tokio runtime.
pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when `[admin] bind` is set.
    pub admin: Option<SocketAddr>,
    tls: bool,
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
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }
}

/// Serves the operator's router on its own address, plain HTTP (a private address: loopback or
/// the operator's network), until the server stops.
async fn serve_admin(
    bind: SocketAddr,
    router: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> Result<SocketAddr, ServerError> {
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|source| ServerError::Bind { addr: bind, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr: bind, source })?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await;
    });
    Ok(addr)
}

/// Opens the configured database and starts serving.
pub async fn start(config: Config) -> Result<Running, ServerError> {
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
    start_with_clock(storage, config, notify::system_clock()).await
}

/// Starts serving with a clock of the caller's (tests of the scheduler move time themselves).
pub async fn start_with_clock<S: Storage>(
    storage: S,
    config: Config,
    clock: notify::Clock,
) -> Result<Running, ServerError> {
    let gateways = notify::Gateways::new(&config.gateways, &config.notify)?;
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
    let metrics = std::sync::Arc::new(metrics::Metrics::new());
    let notifier = notify::Notifier::new(
        storage.clone(),
        config.notify.clone(),
        gateways,
        metrics.clone(),
        clock,
    );
    if config.notify.enabled {
        notify::start(notifier.clone(), stopped.clone());
    }
    let app = api::App::new(
        storage,
        config.limits.clone(),
        config.proxy.networks()?,
        metrics,
        stopped.clone(),
    );
    let admin = match config.admin.bind {
        Some(bind) => {
            Some(serve_admin(bind, api::admin_router(app.clone()), stopped.clone()).await?)
        }
        None => None,
    };
    let router = guard::wrap(
        api::router(app)
            .merge(notify::webhooks::routes(notifier.clone()))
            .merge(notify::confirm::routes(notifier)),
        &config.limits,
    )
    .into_make_service_with_connect_info::<SocketAddr>();
    let std_listener = listener.into_std().map_err(|source| ServerError::Bind {
        addr: config.bind,
        source,
    })?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    let mut stopped_signal = stopped;
    tokio::spawn(async move {
        let _ = stopped_signal.wait_for(|s| *s).await;
        // Long-polls answer at once on shutdown; the rest finish within the grace.
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
    });
    let bind_failed = |source| ServerError::Bind {
        addr: config.bind,
        source,
    };
    let header_timeout = guard::header_timeout(&config.limits);
    let task = match &config.tls {
        None => {
            let mut server = axum_server::from_tcp(std_listener).map_err(bind_failed)?;
            // A client that trickles its headers holds a connection no longer than this.
            server
                .http_builder()
                .http1()
                .header_read_timeout(header_timeout);
            tokio::spawn(async move { server.handle(handle).serve(router).await })
        }
        Some(t) => {
            let tls = axum_server::tls_rustls::RustlsConfig::from_config(tls::server_config(
                &t.cert, &t.key,
            )?);
            let mut server =
                axum_server::from_tcp_rustls(std_listener, tls).map_err(bind_failed)?;
            server
                .http_builder()
                .http1()
                .header_read_timeout(header_timeout);
            tokio::spawn(async move { server.handle(handle).serve(router).await })
        }
    };
    tracing::info!(
        %addr,
        sms = config.gateways.sms.name(),
        whatsapp = config.gateways.whatsapp.name(),
        email = config.gateways.email.name(),
        telegram = config.gateways.telegram.name(),
        notify = config.notify.enabled,
        tls = config.tls.is_some(),
        "kartka-server listening"
    );
    Ok(Running {
        addr,
        admin,
        tls: config.tls.is_some(),
        stop,
        task,
    })
}
