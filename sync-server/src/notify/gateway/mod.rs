//! Gateways: one real protocol client per provider, each behind the same two calls. Base URLs
//! come from configuration, so tests point them at servers on 127.0.0.1.
//!
//! How a send ends decides what the dispatcher does next, so every client classifies its
//! provider's answers the same way:
//! - [`SendOutcome::Sent`]: the provider took it (with its id, for delivery callbacks);
//! - [`SendOutcome::Retry`]: it was certainly not sent and may be tried again (a refused
//!   connection, 429 with `Retry-After`, a 5xx the provider documents as "not accepted");
//! - [`SendOutcome::Failed`]: it was not sent and trying again will not help (a bad number, a
//!   template the provider rejects, a client who blocked the bot);
//! - [`SendOutcome::Uncertain`]: the request went out and no answer came back: it may have been
//!   sent. Never retried blindly; [`Gateway::lookup`] asks the provider where it can tell.

pub mod http;
pub mod log;
pub mod smtp;
pub mod telegram;
pub mod twilio;
pub mod whatsapp;

use std::time::Duration;

use chrono::{DateTime, Utc};
use kartka_core::model::Channel;
use serde::Deserialize;
use uuid::Uuid;

/// A message ready to go: rendered, addressed, consent checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMessage {
    pub id: Uuid,
    pub business: Uuid,
    pub channel: Channel,
    /// E.164 number, email address, or Telegram chat id.
    pub to: String,
    /// The business's own sender (an SMS number, a WhatsApp `phone_number_id`) instead of the
    /// gateway's shared one, when it has one.
    pub from: Option<String>,
    pub text: String,
    /// Email subject.
    pub subject: String,
    /// For WhatsApp outside the 24 h window: the approved template and its parameters.
    pub whatsapp: Option<WaTemplate>,
    /// When this attempt was claimed: a lookup looks for messages sent since.
    pub claimed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaTemplate {
    pub name: String,
    pub language: String,
    pub params: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent {
        reference: Option<String>,
    },
    Retry {
        after: Option<Duration>,
        detail: String,
    },
    Failed {
        detail: String,
        opted_out: bool,
    },
    Uncertain {
        detail: String,
    },
}

/// What a provider says about a message whose send was cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Sent {
        reference: Option<String>,
    },
    /// The provider can tell, and it has no such message: sending it is safe.
    NotSent,
    /// The provider cannot tell.
    Unknown,
}

/// Configuration of the gateway of one channel (`[gateways.sms]`, …).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GatewayConfig {
    /// Appends each message to the outbox file and logs it: nothing leaves the machine.
    #[default]
    Log,
    Twilio(twilio::Config),
    Http(http::Config),
    Smtp(smtp::Config),
    WhatsappCloud(whatsapp::Config),
    Telegram(telegram::Config),
}

impl GatewayConfig {
    pub fn name(&self) -> &'static str {
        match self {
            GatewayConfig::Log => "log",
            GatewayConfig::Twilio(_) => "twilio",
            GatewayConfig::Http(_) => "http",
            GatewayConfig::Smtp(_) => "smtp",
            GatewayConfig::WhatsappCloud(_) => "whatsapp_cloud",
            GatewayConfig::Telegram(_) => "telegram",
        }
    }
}

/// A configured gateway.
pub enum Gateway {
    Log(log::LogGateway),
    Twilio(twilio::Twilio),
    Http(http::HttpSms),
    Smtp(smtp::Smtp),
    WhatsappCloud(whatsapp::WhatsappCloud),
    Telegram(telegram::Telegram),
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("gateway {gateway}: {detail}")]
    Config {
        gateway: &'static str,
        detail: String,
    },
}

/// The HTTP client every HTTP gateway uses: a connect timeout short enough that a dead provider
/// is a retry, an overall timeout after which a send is uncertain.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .timeout(timeout)
        .user_agent(concat!("kartka-server/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a TLS backend is compiled in")
}

/// How a failed HTTP request is classified: refused before it left is a retry; anything after
/// the request may have reached the provider is uncertain.
pub fn request_error(e: &reqwest::Error) -> SendOutcome {
    if e.is_connect() {
        SendOutcome::Retry {
            after: None,
            detail: format!("cannot connect: {e}"),
        }
    } else {
        SendOutcome::Uncertain {
            detail: format!("no answer: {e}"),
        }
    }
}

/// `Retry-After` in seconds (the form every provider here uses).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

impl Gateway {
    pub fn new(
        config: &GatewayConfig,
        outbox: &std::path::Path,
        timeout: Duration,
    ) -> Result<Gateway, GatewayError> {
        Ok(match config {
            GatewayConfig::Log => {
                Gateway::Log(
                    log::LogGateway::open(outbox).map_err(|e| GatewayError::Config {
                        gateway: "log",
                        detail: format!("cannot open {}: {e}", outbox.display()),
                    })?,
                )
            }
            GatewayConfig::Twilio(c) => Gateway::Twilio(twilio::Twilio::new(c.clone(), timeout)),
            GatewayConfig::Http(c) => Gateway::Http(http::HttpSms::new(c.clone(), timeout)?),
            GatewayConfig::Smtp(c) => Gateway::Smtp(smtp::Smtp::new(c.clone(), timeout)?),
            GatewayConfig::WhatsappCloud(c) => {
                Gateway::WhatsappCloud(whatsapp::WhatsappCloud::new(c.clone(), timeout))
            }
            GatewayConfig::Telegram(c) => {
                Gateway::Telegram(telegram::Telegram::new(c.clone(), timeout))
            }
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Gateway::Log(_) => "log",
            Gateway::Twilio(_) => "twilio",
            Gateway::Http(_) => "http",
            Gateway::Smtp(_) => "smtp",
            Gateway::WhatsappCloud(_) => "whatsapp_cloud",
            Gateway::Telegram(_) => "telegram",
        }
    }

    pub async fn send(&self, m: &OutMessage) -> SendOutcome {
        match self {
            Gateway::Log(g) => g.send(m).await,
            Gateway::Twilio(g) => g.send(m).await,
            Gateway::Http(g) => g.send(m).await,
            Gateway::Smtp(g) => g.send(m).await,
            Gateway::WhatsappCloud(g) => g.send(m).await,
            Gateway::Telegram(g) => g.send(m).await,
        }
    }

    /// Where the provider can tell whether `m` was sent by an attempt that was cut short.
    pub async fn lookup(&self, m: &OutMessage) -> Lookup {
        match self {
            Gateway::Log(g) => g.lookup(m).await,
            Gateway::Twilio(g) => g.lookup(m).await,
            // An idempotency key makes a second send of the same message a no-op at the
            // provider, which is as good as knowing.
            Gateway::Http(g) if g.idempotent() => Lookup::NotSent,
            _ => Lookup::Unknown,
        }
    }
}
