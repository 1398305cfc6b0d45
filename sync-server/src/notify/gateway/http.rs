//! A generic JSON-over-HTTP SMS gateway, for the many local providers with a simple API:
//! `POST {url}` with `{"id", "to", "text"}`, an auth header from configuration, and an
//! `Idempotency-Key` (the message id) so that sending one message twice sends it once.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::json;

use super::{GatewayError, OutMessage, SendOutcome, http_client, request_error, retry_after};

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub url: String,
    /// A whole header line, e.g. `Authorization: Bearer 0123…`.
    pub auth_header: Option<String>,
    /// Whether the provider honours `Idempotency-Key`: then a send cut short is simply sent
    /// again; otherwise it is marked uncertain.
    #[serde(default = "yes")]
    pub idempotent: bool,
    #[serde(default = "default_rate")]
    pub rate_per_second: u32,
}

fn yes() -> bool {
    true
}

fn default_rate() -> u32 {
    10
}

pub struct HttpSms {
    config: Config,
    auth: Option<(HeaderName, HeaderValue)>,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Accepted {
    id: Option<serde_json::Value>,
}

impl HttpSms {
    pub fn new(config: Config, timeout: Duration) -> Result<HttpSms, GatewayError> {
        let bad = |detail: &str| GatewayError::Config {
            gateway: "http",
            detail: detail.into(),
        };
        let auth = match &config.auth_header {
            Some(line) => {
                let (name, value) = line
                    .split_once(':')
                    .ok_or_else(|| bad("auth_header must be `Name: value`"))?;
                Some((
                    HeaderName::from_bytes(name.trim().as_bytes())
                        .map_err(|_| bad("auth_header has an invalid name"))?,
                    HeaderValue::from_str(value.trim())
                        .map_err(|_| bad("auth_header has an invalid value"))?,
                ))
            }
            None => None,
        };
        Ok(HttpSms {
            config,
            auth,
            http: http_client(timeout),
        })
    }

    pub fn idempotent(&self) -> bool {
        self.config.idempotent
    }

    pub async fn send(&self, m: &OutMessage) -> SendOutcome {
        let mut req = self
            .http
            .post(&self.config.url)
            .header("Idempotency-Key", m.id.to_string())
            .json(&json!({ "id": m.id.to_string(), "to": m.to, "text": m.text }));
        if let Some((name, value)) = &self.auth {
            req = req.header(name.clone(), value.clone());
        }
        let res = match req.send().await {
            Ok(r) => r,
            Err(e) if self.config.idempotent => {
                return SendOutcome::Retry {
                    after: None,
                    detail: format!("http gateway: {e} (safe to repeat: idempotency key)"),
                };
            }
            Err(e) => return request_error(&e),
        };
        let status = res.status();
        let after = retry_after(res.headers());
        let body = res.bytes().await.unwrap_or_default();
        if status.is_success() {
            let reference = serde_json::from_slice::<Accepted>(&body)
                .ok()
                .and_then(|a| a.id)
                .map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                })
                .unwrap_or_else(|| m.id.to_string());
            return SendOutcome::Sent {
                reference: Some(reference),
            };
        }
        let detail = format!(
            "http gateway answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
        match status.as_u16() {
            429 => SendOutcome::Retry { after, detail },
            500..=599 if self.config.idempotent => SendOutcome::Retry { after, detail },
            500..=599 => SendOutcome::Uncertain { detail },
            _ => SendOutcome::Failed {
                detail,
                opted_out: false,
            },
        }
    }
}
