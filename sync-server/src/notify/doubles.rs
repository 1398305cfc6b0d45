//! The providers' remote ends, for tests and benchmarks: real servers on 127.0.0.1 that speak
//! each provider's API shape (Twilio, the generic JSON SMS API, WhatsApp Cloud, the Telegram
//! Bot API over HTTP; SMTP over TCP) and record what they receive. This is the only place a
//! test double stands in for anything, and it is the outside world's edge.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message a provider received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub provider: &'static str,
    pub to: String,
    pub text: String,
    /// Our message id where the request carries it (idempotency key, SMTP Message-ID).
    pub key: Option<String>,
    /// The WhatsApp template's name, when one was used.
    pub template: Option<String>,
    /// Twilio's `StatusCallback`.
    pub callback: Option<String>,
    /// The sender: Twilio's `From`, WhatsApp's `phone_number_id`.
    pub from: Option<String>,
}

/// How the fake providers answer.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Answer 429 (with `Retry-After: 1`) to this many requests first.
    pub throttle_first: usize,
    /// Recipients refused for good: (recipient, provider error code).
    pub refuse: HashMap<String, i64>,
    /// Hold every answer this long (a slow provider; a process can be killed meanwhile).
    pub delay: Duration,
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    behaviour: Behaviour,
    requests: usize,
}

/// The HTTP providers, on one loopback port.
#[derive(Clone)]
pub struct Providers {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Providers {
    pub async fn start() -> Providers {
        Self::start_on("127.0.0.1:0".parse().expect("addr")).await
    }

    pub async fn start_on(addr: SocketAddr) -> Providers {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(twilio_create).get(twilio_list),
            )
            .route("/sms", post(generic))
            .route("/wa/{phone}/messages", post(whatsapp))
            .route("/tg/{bot}/sendMessage", post(telegram))
            .with_state(inner.clone());
        let listener = TcpListener::bind(addr).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Providers { url, inner }
    }

    pub fn set(&self, b: Behaviour) {
        self.inner.lock().expect("lock").behaviour = b;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("lock").received.clone()
    }

    /// How many messages arrived (cheaper than `received` when polled).
    pub fn count(&self) -> usize {
        self.inner.lock().expect("lock").received.len()
    }

    pub fn clear(&self) {
        self.inner.lock().expect("lock").received.clear();
    }
}

/// Common to every provider: count the request, throttle, delay, refuse a recipient.
async fn gate(inner: &Arc<Mutex<Inner>>, to: &str) -> Result<(), (StatusCode, Option<i64>)> {
    let (delay, throttled, refused) = {
        let mut i = inner.lock().expect("lock");
        i.requests += 1;
        (
            i.behaviour.delay,
            i.requests <= i.behaviour.throttle_first,
            i.behaviour.refuse.get(to).copied(),
        )
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if throttled {
        return Err((StatusCode::TOO_MANY_REQUESTS, None));
    }
    if let Some(code) = refused {
        return Err((StatusCode::BAD_REQUEST, Some(code)));
    }
    Ok(())
}

fn record(inner: &Arc<Mutex<Inner>>, r: Received) -> usize {
    let mut i = inner.lock().expect("lock");
    i.received.push(r);
    i.received.len()
}

fn throttled() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "1")],
        "slow down",
    )
        .into_response()
}

async fn twilio_create(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(_sid): Path<String>,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let to = form.get("To").cloned().unwrap_or_default();
    match gate(&inner, &to).await {
        Err((StatusCode::TOO_MANY_REQUESTS, _)) => return throttled(),
        Err((s, code)) => {
            return (
                s,
                axum::Json(json!({ "code": code, "message": "refused", "status": s.as_u16() })),
            )
                .into_response();
        }
        Ok(()) => {}
    }
    let n = record(
        &inner,
        Received {
            provider: "twilio",
            to: to.clone(),
            text: form.get("Body").cloned().unwrap_or_default(),
            key: None,
            template: None,
            callback: form.get("StatusCallback").cloned(),
            from: form.get("From").cloned(),
        },
    );
    (
        StatusCode::CREATED,
        axum::Json(json!({ "sid": format!("SM{n:032}"), "status": "queued", "to": to })),
    )
        .into_response()
}

async fn twilio_list(
    State(inner): State<Arc<Mutex<Inner>>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let to = q.get("To").cloned().unwrap_or_default();
    let messages: Vec<Value> = inner
        .lock()
        .expect("lock")
        .received
        .iter()
        .enumerate()
        .filter(|(_, r)| r.provider == "twilio" && r.to == to)
        .map(|(i, r)| json!({ "sid": format!("SM{:032}", i + 1), "to": r.to, "body": r.text }))
        .collect();
    axum::Json(json!({ "messages": messages })).into_response()
}

async fn generic(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let to = v["to"].as_str().unwrap_or_default().to_string();
    let key = headers
        .get("idempotency-key")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    // A provider honouring idempotency keys: the same key twice is one message.
    if let Some(k) = &key
        && inner
            .lock()
            .expect("lock")
            .received
            .iter()
            .any(|r| r.key.as_ref() == Some(k))
    {
        return axum::Json(json!({ "id": k, "duplicate": true })).into_response();
    }
    match gate(&inner, &to).await {
        Err((StatusCode::TOO_MANY_REQUESTS, _)) => return throttled(),
        Err((s, _)) => return (s, "refused").into_response(),
        Ok(()) => {}
    }
    record(
        &inner,
        Received {
            provider: "http",
            to,
            text: v["text"].as_str().unwrap_or_default().to_string(),
            key: key.clone(),
            template: None,
            callback: None,
            from: None,
        },
    );
    axum::Json(json!({ "id": key })).into_response()
}

async fn whatsapp(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(phone): Path<String>,
    body: Bytes,
) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let to = v["to"].as_str().unwrap_or_default().to_string();
    match gate(&inner, &to).await {
        Err((StatusCode::TOO_MANY_REQUESTS, _)) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(json!({ "error": { "code": 130429, "message": "Rate limit hit" } })),
            )
                .into_response();
        }
        Err((s, code)) => {
            return (
                s,
                axum::Json(json!({ "error": { "code": code, "message": "refused" } })),
            )
                .into_response();
        }
        Ok(()) => {}
    }
    let (text, template) = match v["type"].as_str() {
        Some("template") => (
            v["template"]["components"][0]["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .unwrap_or_default(),
            v["template"]["name"].as_str().map(str::to_string),
        ),
        _ => (
            v["text"]["body"].as_str().unwrap_or_default().to_string(),
            None,
        ),
    };
    let n = record(
        &inner,
        Received {
            provider: "whatsapp",
            to,
            text,
            key: None,
            template,
            callback: None,
            from: Some(phone),
        },
    );
    axum::Json(
        json!({ "messaging_product": "whatsapp", "messages": [{ "id": format!("wamid.{n}") }] }),
    )
    .into_response()
}

async fn telegram(State(inner): State<Arc<Mutex<Inner>>>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let to = match &v["chat_id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match gate(&inner, &to).await {
        Err((StatusCode::TOO_MANY_REQUESTS, _)) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(json!({ "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": { "retry_after": 1 } })),
            )
                .into_response();
        }
        Err((_, code)) => {
            let code = code.unwrap_or(400);
            return (
                StatusCode::from_u16(code as u16).unwrap_or(StatusCode::BAD_REQUEST),
                axum::Json(json!({ "ok": false, "error_code": code, "description": "Forbidden: bot was blocked by the user" })),
            )
                .into_response();
        }
        Ok(()) => {}
    }
    let n = record(
        &inner,
        Received {
            provider: "telegram",
            to,
            text: v["text"].as_str().unwrap_or_default().to_string(),
            key: None,
            template: None,
            callback: None,
            from: None,
        },
    );
    axum::Json(json!({ "ok": true, "result": { "message_id": n } })).into_response()
}

/// A real SMTP server (plain, RFC 5321's minimum) that keeps every message it accepts.
#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body, dot-unstuffed).
    pub data: String,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(sock, store).await;
                });
            }
        });
        SmtpSink { addr, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("lock").clone()
    }
}

async fn session(sock: tokio::net::TcpStream, store: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 sink.localhost ESMTP\r\n").await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            w.write_all(b"250-sink.localhost\r\n250 8BITMIME\r\n")
                .await?;
        } else if upper.starts_with("HELO") {
            w.write_all(b"250 sink.localhost\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = line.trim_end()[10..]
                .trim()
                .trim_matches(['<', '>'])
                .to_string();
            to.clear();
            w.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(
                line.trim_end()[8..]
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_string(),
            );
            w.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            store.lock().expect("lock").push(Mail {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            w.write_all(b"250 OK queued\r\n").await?;
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            w.write_all(b"250 OK\r\n").await?;
        } else {
            w.write_all(b"502 not implemented\r\n").await?;
        }
    }
}
