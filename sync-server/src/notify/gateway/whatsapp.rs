//! WhatsApp Business Cloud API: `POST {base}/{phone_number_id}/messages` with a bearer token.
//! A business may write first only with an approved template; free text only inside the 24 h
//! window after the client's last message. Webhooks: the `hub.challenge` handshake, and status
//! callbacks signed with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body, app secret).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::{OutMessage, SendOutcome, http_client, request_error, retry_after};

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_base")]
    pub base_url: String,
    pub phone_number_id: String,
    pub access_token: String,
    /// Signs webhook bodies.
    pub app_secret: String,
    /// Echoed back in the subscription handshake.
    pub verify_token: String,
    #[serde(default = "default_rate")]
    pub rate_per_second: u32,
}

fn default_base() -> String {
    "https://graph.facebook.com/v21.0".into()
}

fn default_rate() -> u32 {
    20
}

pub struct WhatsappCloud {
    config: Config,
    http: reqwest::Client,
}

/// Error codes Meta documents as throttling: try again later.
const THROTTLED: &[i64] = &[4, 80007, 130429, 131048, 131056];
/// The recipient has not written within 24 h (free text refused), or stopped marketing.
const OUTSIDE_WINDOW: i64 = 131047;

impl WhatsappCloud {
    pub fn new(config: Config, timeout: Duration) -> WhatsappCloud {
        WhatsappCloud {
            config,
            http: http_client(timeout),
        }
    }

    pub fn app_secret(&self) -> &str {
        &self.config.app_secret
    }

    pub fn verify_token(&self) -> &str {
        &self.config.verify_token
    }

    /// The request body: a template message when one is given, free text otherwise.
    pub fn body(m: &OutMessage) -> Value {
        let to = m.to.trim_start_matches('+');
        match &m.whatsapp {
            Some(t) => json!({
                "messaging_product": "whatsapp",
                "to": to,
                "type": "template",
                "template": {
                    "name": t.name,
                    "language": { "code": t.language },
                    "components": [{
                        "type": "body",
                        "parameters": t.params.iter()
                            .map(|p| json!({ "type": "text", "text": p }))
                            .collect::<Vec<_>>(),
                    }],
                },
            }),
            None => json!({
                "messaging_product": "whatsapp",
                "to": to,
                "type": "text",
                "text": { "body": m.text },
            }),
        }
    }

    pub async fn send(&self, m: &OutMessage) -> SendOutcome {
        let url = format!(
            "{}/{}/messages",
            self.config.base_url.trim_end_matches('/'),
            m.from.as_deref().unwrap_or(&self.config.phone_number_id)
        );
        let res = self
            .http
            .post(url)
            .bearer_auth(&self.config.access_token)
            .json(&Self::body(m))
            .send()
            .await;
        let res = match res {
            Ok(r) => r,
            Err(e) => return request_error(&e),
        };
        let status = res.status();
        let after = retry_after(res.headers());
        let body: Value = match res.bytes().await {
            Ok(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
            Err(e) => return request_error(&e),
        };
        if status.is_success() {
            return match body["messages"][0]["id"].as_str() {
                Some(id) => SendOutcome::Sent {
                    reference: Some(id.to_string()),
                },
                None => SendOutcome::Uncertain {
                    detail: format!("whatsapp answered {status} without a message id"),
                },
            };
        }
        let code = body["error"]["code"].as_i64();
        let detail = format!(
            "whatsapp {}: {}",
            code.map(|c| c.to_string())
                .unwrap_or_else(|| status.to_string()),
            body["error"]["message"].as_str().unwrap_or("no message")
        );
        if status.as_u16() == 429 || code.is_some_and(|c| THROTTLED.contains(&c)) {
            SendOutcome::Retry { after, detail }
        } else if status.is_server_error() {
            SendOutcome::Uncertain { detail }
        } else {
            SendOutcome::Failed {
                detail: if code == Some(OUTSIDE_WINDOW) {
                    format!("{detail} (outside the 24 h window: an approved template is needed)")
                } else {
                    detail
                },
                opted_out: false,
            }
        }
    }
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` over the raw body.
pub fn signature_valid(app_secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.finalize().into_bytes().as_slice().ct_eq(&sig).into()
}

/// One status or inbound message from a webhook body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Status {
        id: String,
        status: String,
        detail: Option<String>,
    },
    Inbound {
        id: String,
        from: String,
        text: String,
        /// The sender's WhatsApp profile name, when the webhook carries it.
        name: Option<String>,
        /// The `phone_number_id` written to (`value.metadata`): whose number it is.
        to: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
#[error("not a WhatsApp webhook body: {0}")]
pub struct BadBody(String);

/// The statuses and inbound messages of a webhook body (`entry[].changes[].value`).
pub fn events(body: &[u8]) -> Result<Vec<Event>, BadBody> {
    let v: Value = serde_json::from_slice(body).map_err(|e| BadBody(e.to_string()))?;
    if v["object"] != "whatsapp_business_account" {
        return Err(BadBody("`object` is not whatsapp_business_account".into()));
    }
    let entries = v["entry"]
        .as_array()
        .ok_or_else(|| BadBody("no `entry` list".into()))?;
    let mut out = Vec::new();
    for change in entries
        .iter()
        .flat_map(|e| e["changes"].as_array().into_iter().flatten())
    {
        let value = &change["value"];
        for s in value["statuses"].as_array().into_iter().flatten() {
            let (Some(id), Some(status)) = (s["id"].as_str(), s["status"].as_str()) else {
                return Err(BadBody("a status without id or status".into()));
            };
            out.push(Event::Status {
                id: id.to_string(),
                status: status.to_string(),
                detail: s["errors"][0]["title"].as_str().map(str::to_string),
            });
        }
        for m in value["messages"].as_array().into_iter().flatten() {
            let (Some(id), Some(from)) = (m["id"].as_str(), m["from"].as_str()) else {
                return Err(BadBody("a message without id or sender".into()));
            };
            let name = value["contacts"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["wa_id"].as_str() == Some(from))
                .and_then(|c| c["profile"]["name"].as_str())
                .map(str::to_string);
            out.push(Event::Inbound {
                id: id.to_string(),
                from: format!("+{}", from.trim_start_matches('+')),
                text: m["text"]["body"].as_str().unwrap_or_default().to_string(),
                name,
                to: value["metadata"]["phone_number_id"]
                    .as_str()
                    .map(str::to_string),
            });
        }
    }
    Ok(out)
}

/// WhatsApp's status → our state.
pub fn status_of(s: &str) -> Option<&'static str> {
    use crate::storage::outbox::state;
    Some(match s {
        "sent" => state::SENT,
        "delivered" => state::DELIVERED,
        "read" => state::READ,
        "failed" => state::FAILED,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(body);
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signature_valid("s3cret", body, &good));
        assert!(!signature_valid("other", body, &good));
        assert!(!signature_valid("s3cret", b"{}", &good));
        assert!(!signature_valid("s3cret", body, "sha1=00"));
        assert!(!signature_valid("s3cret", body, "sha256=zz"));
    }

    #[test]
    fn webhook_bodies() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
            "statuses":[{"id":"wamid.A","status":"delivered","timestamp":"1"},
                        {"id":"wamid.B","status":"failed","errors":[{"code":131026,"title":"Message undeliverable"}]}],
            "messages":[{"from":"380671234567","id":"wamid.C","type":"text","text":{"body":"STOP"}}]}}]}]}"#;
        let e = events(body).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(
            e[1],
            Event::Status {
                id: "wamid.B".into(),
                status: "failed".into(),
                detail: Some("Message undeliverable".into())
            }
        );
        assert!(
            matches!(&e[2], Event::Inbound { from, text, .. } if from == "+380671234567" && text == "STOP")
        );
        assert!(events(b"[]").is_err());
        assert!(events(br#"{"object":"page","entry":[]}"#).is_err());
        assert!(events(br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"statuses":[{"status":"read"}]}}]}]}"#).is_err());
    }
}
