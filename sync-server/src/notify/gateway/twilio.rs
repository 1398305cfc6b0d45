//! Twilio's Messages API (and any provider speaking its shape): a form POST to
//! `/2010-04-01/Accounts/{sid}/Messages.json` with HTTP basic auth, status callbacks signed
//! with `X-Twilio-Signature`, and a list endpoint that tells whether a message went out.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{Lookup, OutMessage, SendOutcome, http_client, request_error, retry_after};

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_base")]
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// The sending number, or leave it out and give a messaging service.
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    #[serde(default = "default_rate")]
    pub rate_per_second: u32,
}

fn default_base() -> String {
    "https://api.twilio.com".into()
}

fn default_rate() -> u32 {
    10
}

pub struct Twilio {
    config: Config,
    http: reqwest::Client,
    /// `{public_url}/v1/hooks/twilio/status`, when the server has a public URL.
    callback: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

#[derive(Deserialize)]
struct ApiError {
    code: Option<i64>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Listed {
    messages: Vec<ListedMessage>,
}

#[derive(Deserialize)]
struct ListedMessage {
    sid: String,
    body: Option<String>,
}

/// Twilio error codes meaning the recipient opted out (replied STOP): consent is withdrawn.
const UNSUBSCRIBED: i64 = 21610;

impl Twilio {
    pub fn new(config: Config, timeout: Duration) -> Twilio {
        Twilio {
            config,
            http: http_client(timeout),
            callback: None,
        }
    }

    pub fn with_callback(mut self, url: Option<String>) -> Twilio {
        self.callback = url;
        self
    }

    pub fn auth_token(&self) -> &str {
        &self.config.auth_token
    }

    fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.base_url.trim_end_matches('/'),
            self.config.account_sid
        )
    }

    pub async fn send(&self, m: &OutMessage) -> SendOutcome {
        let mut form = vec![("To", m.to.clone()), ("Body", m.text.clone())];
        match (
            &m.from,
            &self.config.messaging_service_sid,
            &self.config.from,
        ) {
            // The business's own number first: replies to it are its own, whoever wrote last.
            (Some(own), _, _) => form.push(("From", own.clone())),
            (None, Some(service), _) => form.push(("MessagingServiceSid", service.clone())),
            (None, None, Some(from)) => form.push(("From", from.clone())),
            (None, None, None) => {
                return SendOutcome::Failed {
                    detail: "twilio: neither `from` nor `messaging_service_sid` is configured"
                        .into(),
                    opted_out: false,
                };
            }
        }
        if let Some(cb) = &self.callback {
            form.push(("StatusCallback", format!("{cb}?m={}", m.id)));
        }
        let res = self
            .http
            .post(self.messages_url())
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .form(&form)
            .send()
            .await;
        let res = match res {
            Ok(r) => r,
            Err(e) => return request_error(&e),
        };
        let status = res.status();
        let after = retry_after(res.headers());
        let body = match res.bytes().await {
            Ok(b) => b,
            Err(e) => return request_error(&e),
        };
        if status.is_success() {
            return match serde_json::from_slice::<Created>(&body) {
                Ok(c) => SendOutcome::Sent {
                    reference: Some(c.sid),
                },
                Err(_) => SendOutcome::Uncertain {
                    detail: format!("twilio answered {status} with a body it should not have"),
                },
            };
        }
        let err: Option<ApiError> = serde_json::from_slice(&body).ok();
        let code = err.as_ref().and_then(|e| e.code);
        let text = err
            .and_then(|e| e.message)
            .unwrap_or_else(|| status.to_string());
        let detail = match code {
            Some(c) => format!("twilio {c}: {text}"),
            None => format!("twilio: {text}"),
        };
        if status.as_u16() == 429 || status.is_server_error() {
            // Twilio creates the message only when it answers 201: anything else was not sent.
            SendOutcome::Retry { after, detail }
        } else {
            SendOutcome::Failed {
                detail,
                opted_out: code == Some(UNSUBSCRIBED),
            }
        }
    }

    /// Asks Twilio for messages to the same number since the attempt began, matching the body.
    pub async fn lookup(&self, m: &OutMessage) -> Lookup {
        let since = m.claimed_at.format("%Y-%m-%d").to_string();
        let res = self
            .http
            .get(self.messages_url())
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .query(&[
                ("To", m.to.as_str()),
                ("DateSent>", since.as_str()),
                ("PageSize", "100"),
            ])
            .send()
            .await;
        let Ok(res) = res else {
            return Lookup::Unknown;
        };
        if !res.status().is_success() {
            return Lookup::Unknown;
        }
        match res.json::<Listed>().await {
            Ok(l) => l
                .messages
                .into_iter()
                .find(|x| x.body.as_deref() == Some(m.text.as_str()))
                .map(|x| Lookup::Sent {
                    reference: Some(x.sid),
                })
                .unwrap_or(Lookup::NotSent),
            Err(_) => Lookup::Unknown,
        }
    }
}

/// Checks `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the auth token, over the full
/// URL Twilio called followed by every POST parameter's name and value, sorted by name.
pub fn signature_valid(token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(data.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    expected.as_bytes().ct_eq(header.trim().as_bytes()).into()
}

/// Twilio's `MessageStatus` → our state.
pub fn status_of(s: &str) -> Option<&'static str> {
    use crate::storage::outbox::state;
    Some(match s {
        "sent" => state::SENT,
        "delivered" => state::DELIVERED,
        "read" => state::READ,
        "failed" | "undelivered" => state::FAILED,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_of_twilio_documented_example() {
        // The example in Twilio's webhook security documentation.
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let token = "12345";
        let good = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
        assert!(signature_valid(token, url, &params, good));
        assert!(!signature_valid(
            token,
            url,
            &params,
            "0/KCTR6DLpKmkAf8muzZqo1nDgR="
        ));
        let mut tampered = params.clone();
        tampered[2].1 = "9999".into();
        assert!(!signature_valid(token, url, &tampered, good));
    }
}
