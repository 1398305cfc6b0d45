//! Server configuration: defaults, then a TOML file, then environment variables, then flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use kartka_core::model::Channel;
use serde::Deserialize;

use crate::notify::gateway::GatewayConfig;

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
    pub limits: Limits,
    pub notify: Notify,
    /// The gateway of each channel; every one is `log` unless configured.
    pub gateways: Gateways,
    /// HTTPS served directly from certificate files. Without it the server speaks plain HTTP,
    /// for loopback or behind a TLS-terminating reverse proxy.
    pub tls: Option<Tls>,
    pub proxy: Proxy,
    pub admin: Admin,
}

/// The operator's own address: `/metrics` (and `/healthz`) there, never on the public port.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Admin {
    /// Where `/metrics` is served (`127.0.0.1:8788`, a private network's address). Unset (the
    /// default): `/metrics` is not served at all.
    pub bind: Option<SocketAddr>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// PEM certificate chain, leaf first (e.g. Let's Encrypt's `fullchain.pem`).
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// Reverse proxies in front of the server.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Proxy {
    /// Addresses or networks (`127.0.0.1`, `10.0.0.0/8`) of proxies whose `X-Forwarded-For` is
    /// believed. Empty (the default): the header is ignored, since anyone can send it.
    pub trusted: Vec<String>,
}

impl Proxy {
    pub fn networks(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted
            .iter()
            .map(|t| {
                t.parse::<ipnet::IpNet>()
                    .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| ConfigError::Invalid {
                        what: "proxy.trusted",
                        value: t.clone(),
                    })
            })
            .collect()
    }
}

/// The scheduler and the dispatcher.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Notify {
    /// Off: this process syncs but neither schedules nor sends (another one does).
    pub enabled: bool,
    /// Where providers reach this server (`https://kartka.example.com`): status callbacks and
    /// webhooks are only requested when it is set.
    pub public_url: Option<String>,
    /// The `log` gateway's file.
    pub outbox: PathBuf,
    /// How often due messages are looked for, in milliseconds.
    pub tick_ms: u64,
    /// Messages claimed at once.
    pub batch: i64,
    /// Sends in flight at once, across gateways.
    pub concurrency: usize,
    /// A provider that has not answered after this many seconds may have sent the message.
    pub gateway_timeout_secs: u64,
    /// A message left `sending` this long by a process that died is recovered by another.
    pub lease_secs: u64,
    /// Events and moments older than this when first seen are history, not news.
    pub stale_hours: u64,
    /// Attempts before a temporary failure becomes final.
    pub max_attempts: i32,
    /// Offered to clients as `{review_link}`.
    pub review_link: Option<String>,
    /// Signs the `{confirm_link}` links. Unset: a random key kept in `link.key` beside the
    /// outbox; several server processes on one PostgreSQL need the same value here.
    pub link_secret: Option<String>,
    /// New leads (strangers writing in) a business takes per hour, per process: a flood of
    /// spam fills no inbox beyond it. Messages from strangers past it are logged and dropped;
    /// known clients and existing leads are never limited.
    pub leads_per_hour: u32,
    /// How long after a business wrote to a number on a channel a message from that number,
    /// on a number businesses share, is taken as an answer to it (see ARCHITECTURE.md,
    /// "Inbound attribution"). Past it, the message is kept for no business.
    pub reply_window_hours: u64,
    /// Numbers a business has to itself: it sends from them, and every message to them is its
    /// own, whoever wrote last.
    pub senders: Vec<Sender>,
}

/// A business's own sender on the channels that have one (`[[notify.senders]]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    pub business: uuid::Uuid,
    /// Its own SMS number (E.164), sent from instead of the gateway's `from`.
    pub sms: Option<String>,
    /// Its own WhatsApp Cloud `phone_number_id`, sent from instead of the gateway's.
    pub whatsapp: Option<String>,
}

impl Notify {
    /// The business's own sender on `channel`, if it has one.
    pub fn sender_of(&self, business: uuid::Uuid, channel: Channel) -> Option<&str> {
        let s = self.senders.iter().find(|s| s.business == business)?;
        match channel {
            Channel::Sms => s.sms.as_deref(),
            Channel::Whatsapp => s.whatsapp.as_deref(),
            _ => None,
        }
    }

    /// A sender is one business's alone: two claiming one number would share its replies.
    pub fn check_senders(&self) -> Result<(), ConfigError> {
        for (i, s) in self.senders.iter().enumerate() {
            // Providers name the number written to in E.164: any other form would match no
            // message, and the business's replies would go to whoever wrote last.
            if let Some(sms) = &s.sms {
                let digits = sms.strip_prefix('+').unwrap_or_default();
                if !(7..=15).contains(&digits.len())
                    || digits.starts_with('0')
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(ConfigError::Invalid {
                        what: "notify.senders sms (E.164, e.g. +15550002222)",
                        value: sms.clone(),
                    });
                }
            }
            for (channel, own) in [(Channel::Sms, &s.sms), (Channel::Whatsapp, &s.whatsapp)] {
                let Some(own) = own else { continue };
                let taken = self.senders[..i].iter().any(|o| {
                    o.business == s.business || Some(o.business) == self.owner_of(channel, own)
                });
                if taken {
                    return Err(ConfigError::Invalid {
                        what: "notify.senders (one entry per business, one business per number)",
                        value: own.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The business whose own sender on `channel` is `address`.
    pub fn owner_of(&self, channel: Channel, address: &str) -> Option<uuid::Uuid> {
        self.senders
            .iter()
            .find(|s| {
                let own = match channel {
                    Channel::Sms => s.sms.as_deref(),
                    Channel::Whatsapp => s.whatsapp.as_deref(),
                    _ => None,
                };
                own == Some(address)
            })
            .map(|s| s.business)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Gateways {
    pub sms: GatewayConfig,
    pub whatsapp: GatewayConfig,
    pub email: GatewayConfig,
    pub telegram: GatewayConfig,
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
    /// Largest JSON request body (pairing, erasures, links).
    pub max_json_body: usize,
    /// A request's headers must arrive within this many seconds.
    pub header_read_timeout_secs: u64,
    /// A request body may pause this long between its parts.
    pub body_read_timeout_secs: u64,
    /// A whole request (never less than the longest long-poll and 15 s more).
    pub request_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8787)),
            database_url: "sqlite://kartka-data/server.db".into(),
            pool_size: 16,
            limits: Limits::default(),
            notify: Notify::default(),
            gateways: Gateways::default(),
            tls: None,
            proxy: Proxy::default(),
            admin: Admin::default(),
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify {
            enabled: true,
            public_url: None,
            outbox: PathBuf::from("kartka-data/outbox.jsonl"),
            tick_ms: 200,
            batch: 512,
            concurrency: 64,
            gateway_timeout_secs: 20,
            lease_secs: 120,
            stale_hours: 6,
            max_attempts: 8,
            review_link: None,
            link_secret: None,
            leads_per_hour: 30,
            reply_window_hours: 72,
            senders: Vec::new(),
        }
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
            max_json_body: 16 * 1024,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            request_timeout_secs: 120,
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
        config.notify.check_senders()?;
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
    fn gateways_are_configured_per_channel() {
        let c: Config = toml::from_str(
            r#"
            [gateways.sms]
            kind = "twilio"
            account_sid = "AC1"
            auth_token = "t"
            from = "+15550001"
            [gateways.email]
            kind = "smtp"
            host = "127.0.0.1"
            port = 2525
            security = "none"
            from = "Studio <studio@example.com>"
            "#,
        )
        .unwrap();
        assert_eq!(c.gateways.sms.name(), "twilio");
        assert_eq!(c.gateways.email.name(), "smtp");
        assert_eq!(c.gateways.whatsapp, GatewayConfig::Log);
        // A misspelt key is an error, not a silently ignored setting.
        assert!(
            toml::from_str::<Config>("[gateways.sms]\nkind = \"twilio\"\naccount = \"x\"\n")
                .is_err()
        );
        assert!(toml::from_str::<Config>("[gateways.sms]\nkind = \"carrier-pigeon\"\n").is_err());
    }

    #[test]
    fn a_sender_belongs_to_one_business() {
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let toml = |second: uuid::Uuid, number: &str| {
            format!(
                "[[notify.senders]]\nbusiness = \"{a}\"\nsms = \"+15550001\"\n\
                 [[notify.senders]]\nbusiness = \"{second}\"\nsms = \"{number}\"\n"
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, toml(b, "+15550002")).unwrap();
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c.notify.owner_of(Channel::Sms, "+15550002"), Some(b));
        assert_eq!(c.notify.sender_of(a, Channel::Sms), Some("+15550001"));
        assert_eq!(c.notify.sender_of(a, Channel::Whatsapp), None);
        for bad in [toml(b, "+15550001"), toml(a, "+15550002")] {
            std::fs::write(&path, bad).unwrap();
            assert!(matches!(
                Config::load(Some(&path)),
                Err(ConfigError::Invalid { .. })
            ));
        }
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
