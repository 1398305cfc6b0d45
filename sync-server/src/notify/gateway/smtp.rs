//! Email over SMTP (lettre): STARTTLS on 587 by default, implicit TLS on 465, or plain for a
//! relay on the same machine.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::{GatewayError, OutMessage, SendOutcome};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    #[default]
    Starttls,
    Tls,
    /// Plain text: only for a relay on the same machine or network.
    None,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender, e.g. `Студія Олени <studio@example.com>`.
    pub from: String,
    #[serde(default = "default_rate")]
    pub rate_per_second: u32,
}

fn default_rate() -> u32 {
    5
}

pub struct Smtp {
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Smtp {
    pub fn new(config: Config, timeout: Duration) -> Result<Smtp, GatewayError> {
        let bad = |detail: String| GatewayError::Config {
            gateway: "smtp",
            detail,
        };
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| bad(format!("`from` is not an address: {e}")))?;
        let tls = || TlsParameters::new(config.host.clone()).map_err(|e| bad(format!("TLS: {e}")));
        let (tls, port) = match config.security {
            Security::Starttls => (Tls::Required(tls()?), 587),
            Security::Tls => (Tls::Wrapper(tls()?), 465),
            Security::None => (Tls::None, 25),
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
            .port(config.port.unwrap_or(port))
            .tls(tls)
            .timeout(Some(timeout));
        if let (Some(u), Some(p)) = (&config.username, &config.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Smtp {
            from,
            transport: b.build(),
        })
    }

    pub async fn send(&self, m: &OutMessage) -> SendOutcome {
        let to: Mailbox = match m.to.parse() {
            Ok(t) => t,
            Err(e) => {
                return SendOutcome::Failed {
                    detail: format!("not an email address: {e}"),
                    opted_out: false,
                };
            }
        };
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .message_id(Some(format!("<{}@kartka>", m.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(m.text.clone());
        let email = match email {
            Ok(e) => e,
            Err(e) => {
                return SendOutcome::Failed {
                    detail: format!("cannot build the email: {e}"),
                    opted_out: false,
                };
            }
        };
        match self.transport.send(email).await {
            Ok(r) => SendOutcome::Sent {
                reference: r.message().next().map(|s| s.to_string()),
            },
            Err(e) => classify(&e),
        }
    }
}

/// A 4xx reply means "not accepted, try later", a 5xx "never": both certain. A connection that
/// could not be made, or TLS that could not be set up, sent nothing. Anything else (a timeout, a
/// connection dropped mid-conversation) may have come after the server accepted the message.
fn classify(e: &lettre::transport::smtp::Error) -> SendOutcome {
    let detail = format!("smtp: {e}");
    if e.is_transient() {
        return SendOutcome::Retry {
            after: None,
            detail,
        };
    }
    if e.is_permanent() {
        return SendOutcome::Failed {
            detail,
            opted_out: false,
        };
    }
    if e.is_tls() || refused(e) {
        return SendOutcome::Retry {
            after: None,
            detail,
        };
    }
    SendOutcome::Uncertain { detail }
}

fn refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
            );
        }
        source = err.source();
    }
    false
}
