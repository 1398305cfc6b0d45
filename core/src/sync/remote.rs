//! The HTTP side of the sync client: one blocking call per endpoint.
//!
//! Blocking on purpose: the core is called from the apps' background threads (and the CLI), and a
//! blocking client keeps the core free of an async runtime the apps would have to drive.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// How long a request may take before it counts as a network failure (a long-poll adds its wait).
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Remote {
    http: Client,
    base: String,
    token: Option<String>,
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
        let http = Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("kartka/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(net)?;
        Ok(Remote {
            http,
            base,
            token,
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
        json(self.http.post(self.url("/v1/businesses")).json(req).send())
    }

    pub fn join(&self, req: &JoinBusiness) -> Result<Paired> {
        json(self.http.post(self.url("/v1/join")).json(req).send())
    }

    pub fn invite(&self) -> Result<Invite> {
        json(self.authed(self.http.post(self.url("/v1/invites")))?.send())
    }

    /// The signed link where the client confirms or cancels this visit.
    pub fn confirm_link(&self, client: Uuid, visit: Uuid) -> Result<ConfirmLink> {
        json(
            self.authed(self.http.post(self.url("/v1/confirm-links")))?
                .json(&ConfirmLinkRequest { client, visit })
                .send(),
        )
    }

    /// The signed Telegram start link of a client or a staff member.
    pub fn telegram_link(&self, req: &TelegramLinkRequest) -> Result<TelegramLink> {
        json(
            self.authed(self.http.post(self.url("/v1/telegram-links")))?
                .json(req)
                .send(),
        )
    }

    pub fn devices(&self) -> Result<Vec<DeviceInfo>> {
        json(self.authed(self.http.get(self.url("/v1/devices")))?.send())
    }

    pub fn revoke(&self, device: Uuid) -> Result<()> {
        let resp = self
            .authed(self.http.delete(self.url(&format!("/v1/devices/{device}"))))?
            .send();
        checked(resp).map(|_| ())
    }

    /// Asks the server to erase these clients' documents everywhere.
    pub fn erase(&self, docs: &[Uuid]) -> Result<Erased> {
        let req = Erase {
            docs: docs.to_vec(),
        };
        json(
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
        let bytes = checked(Ok(resp))?.bytes().map_err(net)?;
        wire::decode(&bytes).map_err(|e| Error::Protocol(e.to_string()))
    }

    fn post_sync(&self, body: Vec<u8>, zstd: bool, wait: Option<Duration>) -> Result<Response> {
        let rb = match wait {
            Some(w) => self
                .http
                .post(self.url(&format!("/v1/sync?wait={}", w.as_secs())))
                .timeout(TIMEOUT + w),
            None => self.http.post(self.url("/v1/sync")),
        };
        let mut rb = self
            .authed(rb)?
            .header(CONTENT_TYPE, HeaderValue::from_static(wire::MEDIA_TYPE));
        if zstd {
            rb = rb.header(CONTENT_ENCODING, HeaderValue::from_static("zstd"));
        }
        rb.body(body).send().map_err(net)
    }
}

fn net(e: reqwest::Error) -> Error {
    // reqwest's text names the URL, never a body: no personal data.
    Error::Network {
        detail: e.to_string(),
    }
}

fn checked(resp: reqwest::Result<Response>) -> Result<Response> {
    let resp = resp.map_err(net)?;
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

fn json<T: serde::de::DeserializeOwned>(resp: reqwest::Result<Response>) -> Result<T> {
    checked(resp)?
        .json()
        .map_err(|e| Error::Protocol(e.to_string()))
}
