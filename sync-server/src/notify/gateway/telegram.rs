//! Telegram Bot API. A bot cannot write first: the client card offers
//! `https://t.me/<bot>?start=<token>`; when the client presses Start, the bot's webhook gets
//! `/start <token>`, binds that chat to the client and records the client's consent to
//! Telegram. `sendMessage` afterwards; `/stop` or blocking the bot withdraws the consent.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::{OutMessage, SendOutcome, http_client, request_error};

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_base")]
    pub base_url: String,
    pub bot_token: String,
    /// The bot's username, for `t.me` links.
    pub bot_username: String,
    /// Telegram sends it back in `X-Telegram-Bot-Api-Secret-Token` (set with `setWebhook`).
    pub webhook_secret: String,
    #[serde(default = "default_rate")]
    pub rate_per_second: u32,
}

fn default_base() -> String {
    "https://api.telegram.org".into()
}

fn default_rate() -> u32 {
    25
}

pub struct Telegram {
    config: Config,
    http: reqwest::Client,
}

impl Telegram {
    pub fn new(config: Config, timeout: Duration) -> Telegram {
        Telegram {
            config,
            http: http_client(timeout),
        }
    }

    pub fn secret_valid(&self, header: &str) -> bool {
        header
            .as_bytes()
            .ct_eq(self.config.webhook_secret.as_bytes())
            .into()
    }

    pub fn bot_username(&self) -> &str {
        &self.config.bot_username
    }

    pub async fn send(&self, m: &OutMessage) -> SendOutcome {
        let url = format!(
            "{}/bot{}/sendMessage",
            self.config.base_url.trim_end_matches('/'),
            self.config.bot_token
        );
        let res = self
            .http
            .post(url)
            .json(&json!({ "chat_id": m.to, "text": m.text }))
            .send()
            .await;
        let res = match res {
            Ok(r) => r,
            // The bot token is in the URL: keep it out of the detail.
            Err(e) => return request_error(&e.without_url()),
        };
        let status = res.status();
        let body: Value = match res.bytes().await {
            Ok(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
            Err(e) => return request_error(&e.without_url()),
        };
        if body["ok"] == true {
            return SendOutcome::Sent {
                reference: body["result"]["message_id"]
                    .as_i64()
                    .map(|id| format!("{}:{id}", m.to)),
            };
        }
        let code = body["error_code"]
            .as_i64()
            .unwrap_or(i64::from(status.as_u16()));
        let detail = format!(
            "telegram {code}: {}",
            body["description"].as_str().unwrap_or("no description")
        );
        match code {
            429 => SendOutcome::Retry {
                after: body["parameters"]["retry_after"]
                    .as_u64()
                    .map(Duration::from_secs),
                detail,
            },
            // "bot was blocked by the user", "user is deactivated".
            403 => SendOutcome::Failed {
                detail,
                opted_out: true,
            },
            500..=599 => SendOutcome::Uncertain { detail },
            _ => SendOutcome::Failed {
                detail,
                opted_out: false,
            },
        }
    }
}

/// What a bot update means to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// `/start <token>`: bind this chat to the client.
    Start {
        update_id: i64,
        chat: i64,
        token: String,
        text: String,
    },
    /// `/stop`, or the client blocked the bot.
    Stop {
        update_id: i64,
        chat: i64,
        text: String,
    },
    /// A text the client wrote to the bot.
    Message {
        update_id: i64,
        chat: i64,
        text: String,
        /// The sender's name on Telegram.
        name: Option<String>,
    },
    /// Anything else (photos, edits, other commands).
    Other { update_id: i64 },
}

#[derive(Debug, thiserror::Error)]
#[error("not a Telegram update: {0}")]
pub struct BadUpdate(String);

pub fn parse_update(body: &[u8]) -> Result<Update, BadUpdate> {
    let v: Value = serde_json::from_slice(body).map_err(|e| BadUpdate(e.to_string()))?;
    let update_id = v["update_id"]
        .as_i64()
        .ok_or_else(|| BadUpdate("no update_id".into()))?;
    if let Some(m) = v.get("message") {
        let chat = m["chat"]["id"]
            .as_i64()
            .ok_or_else(|| BadUpdate("a message without chat id".into()))?;
        let text = m["text"].as_str().unwrap_or_default().trim().to_string();
        let mut words = text.split_whitespace();
        let command = words.next().unwrap_or_default();
        let command = command.split('@').next().unwrap_or_default();
        return Ok(match command {
            "/start" => match words.next() {
                Some(token) => Update::Start {
                    update_id,
                    chat,
                    token: token.to_string(),
                    text,
                },
                None => Update::Other { update_id },
            },
            "/stop" => Update::Stop {
                update_id,
                chat,
                text,
            },
            c if c.starts_with('/') || text.is_empty() => Update::Other { update_id },
            _ => Update::Message {
                update_id,
                chat,
                text,
                name: [&m["from"]["first_name"], &m["from"]["last_name"]]
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(str::to_string)
                    .reduce(|a, b| format!("{a} {b}")),
            },
        });
    }
    if let Some(m) = v.get("my_chat_member") {
        let chat = m["chat"]["id"]
            .as_i64()
            .ok_or_else(|| BadUpdate("a member update without chat id".into()))?;
        if m["new_chat_member"]["status"] == "kicked" {
            return Ok(Update::Stop {
                update_id,
                chat,
                text: "blocked the bot".into(),
            });
        }
    }
    Ok(Update::Other { update_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates() {
        let u = parse_update(
            br#"{"update_id":7,"message":{"message_id":1,"chat":{"id":42},"text":"/start abc"}}"#,
        )
        .unwrap();
        assert_eq!(
            u,
            Update::Start {
                update_id: 7,
                chat: 42,
                token: "abc".into(),
                text: "/start abc".into()
            }
        );
        let u = parse_update(br#"{"update_id":8,"message":{"chat":{"id":42},"text":"/stop"}}"#)
            .unwrap();
        assert!(matches!(u, Update::Stop { chat: 42, .. }));
        let u = parse_update(br#"{"update_id":9,"my_chat_member":{"chat":{"id":42},"new_chat_member":{"status":"kicked"}}}"#).unwrap();
        assert!(matches!(u, Update::Stop { chat: 42, .. }));
        assert_eq!(
            parse_update(br#"{"update_id":10,"message":{"chat":{"id":1},"text":" hi "}}"#).unwrap(),
            Update::Message {
                update_id: 10,
                chat: 1,
                text: "hi".into(),
                name: None,
            }
        );
        // Other commands and messages without text (a photo) are nothing to record.
        for other in [
            r#"{"update_id":11,"message":{"chat":{"id":1},"text":"/help"}}"#,
            r#"{"update_id":11,"message":{"chat":{"id":1},"photo":[]}}"#,
        ] {
            assert_eq!(
                parse_update(other.as_bytes()).unwrap(),
                Update::Other { update_id: 11 }
            );
        }
        assert!(parse_update(b"{}").is_err());
        assert!(parse_update(b"not json").is_err());
        assert!(parse_update(br#"{"update_id":1,"message":{"text":"/stop"}}"#).is_err());
    }
}
