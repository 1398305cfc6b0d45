//! The HTTP side of the sync client: one blocking call per endpoint.
//!
//! Blocking on purpose: the core is called from the apps' background threads (and the CLI), and a
//! blocking client keeps the core free of an async runtime the apps would have to drive.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};
use uuid::Uuid;

use super::wire::{
    self, ConfirmLink, ConfirmLinkRequest, CreateBusiness, DeviceInfo, Erase, Erased, ErrorBody,
    Invite, JoinBusiness, Paired, SyncRequest, SyncResponse, TelegramLink, TelegramLinkRequest,
};
use crate::error::{Error, Result};

/// How long a request may take before it counts as timed out (a long-poll adds its wait), in
/// seconds: 60 unless [`set_request_timeout`] says otherwise.
static TIMEOUT_SECS: AtomicU64 = AtomicU64::new(60);

/// Sets how long requests made from now on wait for an answer (the CLI's `--timeout`). One
/// setting for the process: every remote of a book behaves the same.
pub fn set_request_timeout(timeout: Duration) {
    TIMEOUT_SECS.store(timeout.as_secs().max(1), Ordering::Relaxed);
}

fn timeout() -> Duration {
    Duration::from_secs(TIMEOUT_SECS.load(Ordering::Relaxed))
}

#[derive(Clone)]
pub struct Remote {
    http: Client,
    base: String,
    token: Option<String>,
    timeout: Duration,
    /// Cleared when a server answers 415 to a compressed body (one that predates compression or
    /// a proxy that refuses it): the request is repeated plain, and later ones go plain.
    compress: Arc<AtomicBool>,
}

impl Remote {
    pub fn new(server: &str, token: Option<String>) -> Result<Remote> {
        let base = server.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::validation(
                "server",
                "must be an http:// or https:// URL",
            ));
        }
        let timeout = timeout();
        let http = Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .user_agent(concat!("kartka/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Network {
                server: base.clone(),
                detail: e.to_string(),
            })?;
        Ok(Remote {
            http,
            base,
            token,
            timeout,
            compress: Arc::new(AtomicBool::new(true)),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authed(&self, rb: RequestBuilder) -> Result<RequestBuilder> {
        let token = self.token.as_deref().ok_or(Error::NotPaired)?;
        Ok(rb.bearer_auth(token))
    }

    pub fn create_business(&self, req: &CreateBusiness) -> Result<Paired> {
        self.json(self.http.post(self.url("/v1/businesses")).json(req).send())
    }

    pub fn join(&self, req: &JoinBusiness) -> Result<Paired> {
        self.json(self.http.post(self.url("/v1/join")).json(req).send())
    }

    pub fn invite(&self) -> Result<Invite> {
        self.json(self.authed(self.http.post(self.url("/v1/invites")))?.send())
    }

    /// The signed link where the client confirms or cancels this visit.
    pub fn confirm_link(&self, client: Uuid, visit: Uuid) -> Result<ConfirmLink> {
        self.json(
            self.authed(self.http.post(self.url("/v1/confirm-links")))?
                .json(&ConfirmLinkRequest { client, visit })
                .send(),
        )
    }

    /// The signed Telegram start link of a client or a staff member.
    pub fn telegram_link(&self, req: &TelegramLinkRequest) -> Result<TelegramLink> {
        self.json(
            self.authed(self.http.post(self.url("/v1/telegram-links")))?
                .json(req)
                .send(),
        )
    }

    pub fn devices(&self) -> Result<Vec<DeviceInfo>> {
        self.json(self.authed(self.http.get(self.url("/v1/devices")))?.send())
    }

    pub fn revoke(&self, device: Uuid) -> Result<()> {
        let resp = self
            .authed(self.http.delete(self.url(&format!("/v1/devices/{device}"))))?
            .send();
        self.checked(resp).map(|_| ())
    }

    /// Asks the server to erase these clients' documents everywhere.
    pub fn erase(&self, docs: &[Uuid]) -> Result<Erased> {
        let req = Erase {
            docs: docs.to_vec(),
        };
        self.json(
            self.authed(self.http.post(self.url("/v1/erasures")))?
                .json(&req)
                .send(),
        )
    }

    /// One sync round trip. With `wait`, the server holds an empty answer up to that long for
    /// changes to arrive (long-poll).
    pub fn sync(&self, req: &SyncRequest, wait: Option<Duration>) -> Result<SyncResponse> {
        let body = wire::encode(req);
        let compressed = (body.len() >= usize::from(wire::COMPRESS_FROM)
            && self.compress.load(Ordering::Relaxed))
        .then(|| zstd::bulk::compress(&body, wire::ZSTD_LEVEL))
        .transpose()
        .map_err(|e| Error::Protocol(format!("compressing the sync body: {e}")))?;
        let resp = match compressed {
            Some(z) => {
                let resp = self.post_sync(z, true, wait)?;
                if resp.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                    self.compress.store(false, Ordering::Relaxed);
                    self.post_sync(body, false, wait)?
                } else {
                    resp
                }
            }
            None => self.post_sync(body, false, wait)?,
        };
        // reqwest has already inflated a zstd answer (it asked for one with Accept-Encoding).
        let total = resp
            .headers()
            .get(wire::TOTAL_HEADER)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let wait_secs = wait.map_or(0, |w| w.as_secs());
        let bytes = self
            .checked(Ok(resp))?
            .bytes()
            .map_err(|e| self.net(e, wait_secs))?;
        let mut resp: SyncResponse =
            wire::decode(&bytes).map_err(|e| Error::Protocol(e.to_string()))?;
        resp.total_docs = total;
        Ok(resp)
    }

    fn post_sync(&self, body: Vec<u8>, zstd: bool, wait: Option<Duration>) -> Result<Response> {
        let rb = match wait {
            Some(w) => self
                .http
                .post(self.url(&format!("/v1/sync?wait={}", w.as_secs())))
                .timeout(self.timeout + w),
            None => self.http.post(self.url("/v1/sync")),
        };
        let mut rb = self
            .authed(rb)?
            .header(CONTENT_TYPE, HeaderValue::from_static(wire::MEDIA_TYPE));
        if zstd {
            rb = rb.header(CONTENT_ENCODING, HeaderValue::from_static("zstd"));
        }
        let wait_secs = wait.map_or(0, |w| w.as_secs());
        rb.body(body).send().map_err(|e| self.net(e, wait_secs))
    }

    /// A failed request in the words a master reads: the server was not reached, did not
    /// answer in time, or the connection broke. `extra_secs` is a long-poll's wait, which the
    /// request's time limit includes.
    fn net(&self, e: reqwest::Error, extra_secs: u64) -> Error {
        let server = self.base.clone();
        if e.is_timeout() {
            return Error::TimedOut {
                server,
                secs: self.timeout.as_secs() + extra_secs,
            };
        }
        if e.is_connect() {
            return Error::Unreachable {
                server,
                reason: root_cause(&e),
            };
        }
        // reqwest's text names the URL, never a body: no personal data.
        Error::Network {
            server,
            detail: root_cause(&e),
        }
    }

    fn checked(&self, resp: reqwest::Result<Response>) -> Result<Response> {
        let resp = resp.map_err(|e| self.net(e, 0))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body: Option<ErrorBody> = resp.json().ok();
        let (code, detail, doc) = match body {
            Some(b) => (b.error, b.detail, b.doc),
            None => ("http".to_string(), status.to_string(), None),
        };
        Err(Error::Server {
            status: status.as_u16(),
            code,
            detail,
            doc,
        })
    }

    fn json<T: serde::de::DeserializeOwned>(&self, resp: reqwest::Result<Response>) -> Result<T> {
        self.checked(resp)?
            .json()
            .map_err(|e| Error::Protocol(e.to_string()))
    }
}

/// The innermost cause of a failed request, worded for a person: "connection refused" rather
/// than hyper's chain of wrappers ending in "tcp connect error: Connection refused (os error 111)".
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    if let Some(io) = cause.downcast_ref::<std::io::Error>() {
        use std::io::ErrorKind::*;
        let said = match io.kind() {
            ConnectionRefused => Some("connection refused"),
            ConnectionReset => Some("connection reset"),
            ConnectionAborted => Some("connection aborted"),
            HostUnreachable => Some("host unreachable"),
            NetworkUnreachable => Some("network unreachable"),
            NetworkDown => Some("network down"),
            AddrNotAvailable => Some("address not available"),
            TimedOut => Some("connection timed out"),
            _ => None,
        };
        if let Some(said) = said {
            return said.to_string();
        }
    }
    let text = cause.to_string();
    // A name that does not resolve: getaddrinfo's words vary by platform.
    if text.contains("failed to lookup address") || text.contains("Name or service not known") {
        return "no such host".to_string();
    }
    text
}
