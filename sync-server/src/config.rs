//! Server configuration: defaults, then a TOML file, then environment variables, then flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on. Default 127.0.0.1:8787: put a TLS-terminating proxy in front to
    /// serve the internet (see README).
    pub bind: SocketAddr,
    /// `sqlite://PATH` (default `sqlite://kartka-data/server.db`) or `postgres://…`.
    pub database_url: String,
    /// PostgreSQL connections per server process.
    pub pool_size: usize,
    pub gateway: Gateway,
    pub limits: Limits,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Gateway {
    /// `log`: messages are written to the server's log instead of being sent.
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Business creations and joins per client address per minute.
    pub pairing_per_minute: u32,
    /// Sync requests per device per second (sustained; bursts of twice that pass).
    pub sync_per_second: u32,
    /// Largest sync request body.
    pub max_sync_body: usize,
    /// Longest long-poll a device may ask for, in seconds.
    pub max_wait_secs: u64,
    /// Budget of one sync answer, in bytes (a page; `more` says when another follows).
    pub pull_budget: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8787)),
            database_url: "sqlite://kartka-data/server.db".into(),
            pool_size: 16,
            gateway: Gateway::default(),
            limits: Limits::default(),
        }
    }
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway { kind: "log".into() }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pairing_per_minute: 20,
            sync_per_second: 20,
            max_sync_body: 8 << 20,
            max_wait_secs: 30,
            pull_budget: 4 << 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("invalid {what}: {value}")]
    Invalid { what: &'static str, value: String },
}

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Config {
    /// Reads `file` if given, then applies `KARTKA_BIND` and `KARTKA_DATABASE_URL`.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.into(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.into(),
                    source: Box::new(source),
                })?
            }
            None => Config::default(),
        };
        if let Ok(url) = std::env::var("KARTKA_DATABASE_URL") {
            config.database_url = url;
        }
        if let Ok(bind) = std::env::var("KARTKA_BIND") {
            config.bind = bind.parse().map_err(|_| ConfigError::Invalid {
                what: "KARTKA_BIND",
                value: bind,
            })?;
        }
        Ok(config)
    }

    pub fn database(&self) -> Result<Database, ConfigError> {
        let url = &self.database_url;
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(ConfigError::Invalid {
                    what: "database_url",
                    value: url.clone(),
                });
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.clone()));
        }
        // The URL may carry a password: name only its scheme.
        Err(ConfigError::Invalid {
            what: "database_url (sqlite:// or postgres://)",
            value: url.split(':').next().unwrap_or("").to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_defaults_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\n[limits]\nsync_per_second = 5\n",
        )
        .unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c.bind.port(), 9000);
        assert_eq!(c.limits.sync_per_second, 5);
        assert_eq!(c.limits.pairing_per_minute, 20);
        std::fs::write(&path, "bnid = \"x\"\n").unwrap();
        assert!(matches!(
            Config::load(Some(&path)),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn database_urls() {
        let mut c = Config::default();
        assert_eq!(
            c.database().unwrap(),
            Database::Sqlite("kartka-data/server.db".into())
        );
        c.database_url = "postgres://u:secret@localhost/k".into();
        assert!(matches!(c.database().unwrap(), Database::Postgres(_)));
        c.database_url = "mysql://u:secret@h/k".into();
        let err = c.database().unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
