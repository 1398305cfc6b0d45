//! The confirmation link: `{confirm_link}` in a template becomes a link to a tiny page this
//! server serves, where the client sees the visit and presses Confirm or Cancel. No login: the
//! link itself is the authority, so it is signed (HMAC-SHA256 with the server's link key over
//! business, client and visit) and stops working once the visit has started. The answer
//! changes the visit's status in the client's document, with an entry in the history, and so
//! reaches every device with its next sync.
//!
//! The key is `notify.link_secret` when configured (every process of a PostgreSQL deployment
//! needs the same one), else a random key kept in `link.key` beside the log gateway's outbox.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use kartka_core::crdt::business as business_doc;
use kartka_core::crdt::client as client_doc;
use kartka_core::messaging::template::{self, Locale};
use kartka_core::model::{
    Business, Channel, MessageKind, MessageRecord, MessageStatus, Visit, VisitStatus,
};
use kartka_core::sync::wire::{ConfirmLink, ConfirmLinkRequest};
use sha2::Sha256;
use uuid::Uuid;

use super::Notifier;
use crate::api::{ApiError, Authed};
use crate::storage::Storage;

/// Bytes of the MAC kept in a link: 80 bits, far beyond guessing over HTTP.
const MAC_LEN: usize = 10;

/// What a link points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkTarget {
    pub business: Uuid,
    pub client: Uuid,
    pub visit: Uuid,
}

fn mac(key: &[u8], payload: &[u8]) -> [u8; MAC_LEN] {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(b"kartka-confirm-v1\n");
    m.update(payload);
    let full = m.finalize().into_bytes();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

/// The token of a link: the three ids and their MAC, base64url (78 characters).
pub fn token(key: &[u8], t: LinkTarget) -> String {
    let mut bytes = Vec::with_capacity(48 + MAC_LEN);
    bytes.extend_from_slice(t.business.as_bytes());
    bytes.extend_from_slice(t.client.as_bytes());
    bytes.extend_from_slice(t.visit.as_bytes());
    let m = mac(key, &bytes);
    bytes.extend_from_slice(&m);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The target of a genuine token; `None` for anything else (forged, cut, altered).
pub fn verify(key: &[u8], token: &str) -> Option<LinkTarget> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    if bytes.len() != 48 + MAC_LEN {
        return None;
    }
    let (payload, given) = bytes.split_at(48);
    let want = mac(key, payload);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&want[..], given)) {
        return None;
    }
    let id = |i: usize| Uuid::from_slice(&payload[i * 16..(i + 1) * 16]).ok();
    Some(LinkTarget {
        business: id(0)?,
        client: id(1)?,
        visit: id(2)?,
    })
}

/// The full link for a message, when the server has a public address.
pub fn link(public_url: &str, key: &[u8], t: LinkTarget) -> String {
    format!("{}/c/{}", public_url.trim_end_matches('/'), token(key, t))
}

/// The configured secret, or the key file's (created on first use).
pub fn load_key(secret: Option<&str>, dir: &Path) -> Vec<u8> {
    if let Some(s) = secret.filter(|s| !s.is_empty()) {
        return s.as_bytes().to_vec();
    }
    let path = dir.join("link.key");
    if let Ok(hex_key) = std::fs::read_to_string(&path)
        && let Ok(k) = hex::decode(hex_key.trim())
        && k.len() >= 32
    {
        return k;
    }
    let k: [u8; 32] = rand::random();
    let written = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, hex::encode(k)));
    if let Err(e) = written {
        // Links still work until this process stops; after a restart, old ones say "invalid".
        tracing::error!(error = %e, path = %path.display(), "cannot keep the confirmation link key");
    }
    k.to_vec()
}

pub fn routes<S: Storage>(n: Arc<Notifier<S>>) -> Router {
    Router::new()
        .route("/c/{token}", get(show::<S>).post(answer::<S>))
        .route("/v1/confirm-links", post(issue::<S>))
        // Checked against `Content-Length` before the body is read (see `guard.rs`).
        .layer(tower_http::limit::RequestBodyLimitLayer::new(1024))
        .with_state(n)
}

/// A device asks for the link of one of its business's visits, to send by hand from the
/// visit (the device cannot sign: the key is the server's).
async fn issue<S: Storage>(
    State(n): State<Arc<Notifier<S>>>,
    headers: axum::http::HeaderMap,
    axum::Json(req): axum::Json<ConfirmLinkRequest>,
) -> Result<axum::Json<ConfirmLink>, ApiError> {
    let who = Authed::from_headers(&n.storage, &headers).await?;
    let Some(public) = n.config.public_url.as_deref() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_public_url",
            "the server has no notify.public_url, so clients could not open a link",
        ));
    };
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such visit");
    let bytes = n
        .storage
        .read_doc(who.business, req.client)
        .await?
        .ok_or_else(not_found)?;
    let visit = visit_in(&bytes, req.client, req.visit).ok_or_else(not_found)?;
    if !matches!(standing(Some(&visit), n.now()), Standing::Open(_)) {
        return Err(ApiError::new(
            StatusCode::GONE,
            "visit_closed",
            "the visit has started, or was cancelled",
        ));
    }
    let target = LinkTarget {
        business: who.business,
        client: req.client,
        visit: req.visit,
    };
    Ok(axum::Json(ConfirmLink {
        link: link(public, &n.link_key, target),
        expires_at: visit.start,
    }))
}

/// What the page can say about a visit.
enum Standing<'a> {
    Open(&'a Visit),
    /// Started or over: the link has expired.
    Past,
    /// Cancelled, deleted, or no longer on the card (merged, forgotten).
    Gone,
}

fn standing(v: Option<&Visit>, now: DateTime<Utc>) -> Standing<'_> {
    match v {
        None => Standing::Gone,
        Some(v) if v.deleted || v.status == VisitStatus::Cancelled => Standing::Gone,
        Some(v) if v.start <= now => Standing::Past,
        Some(v) => Standing::Open(v),
    }
}

/// The words of the page in the business's language.
struct Words {
    title: &'static str,
    confirm: &'static str,
    cancel: &'static str,
    confirmed: &'static str,
    cancelled: &'static str,
    past: &'static str,
    gone: &'static str,
    invalid: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::Uk => Words {
            title: "Ваш запис",
            confirm: "Підтвердити",
            cancel: "Скасувати",
            confirmed: "Запис підтверджено. Чекаємо на вас!",
            cancelled: "Запис скасовано.",
            past: "Цей запис уже минув.",
            gone: "Цього запису більше немає. Зателефонуйте нам, будь ласка.",
            invalid: "Посилання недійсне.",
        },
        Locale::Ru => Words {
            title: "Ваша запись",
            confirm: "Подтвердить",
            cancel: "Отменить",
            confirmed: "Запись подтверждена. Ждём вас!",
            cancelled: "Запись отменена.",
            past: "Эта запись уже прошла.",
            gone: "Этой записи больше нет. Позвоните нам, пожалуйста.",
            invalid: "Ссылка недействительна.",
        },
        Locale::Pl => Words {
            title: "Twoja wizyta",
            confirm: "Potwierdzam",
            cancel: "Odwołuję",
            confirmed: "Wizyta potwierdzona. Do zobaczenia!",
            cancelled: "Wizyta odwołana.",
            past: "Ta wizyta już się odbyła.",
            gone: "Tej wizyty już nie ma. Prosimy o telefon.",
            invalid: "Link jest nieważny.",
        },
        Locale::En => Words {
            title: "Your visit",
            confirm: "Confirm",
            cancel: "Cancel",
            confirmed: "Your visit is confirmed. See you!",
            cancelled: "Your visit is cancelled.",
            past: "This visit is over.",
            gone: "This visit no longer exists. Please call us.",
            invalid: "This link is not valid.",
        },
    }
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The page's one style, allowed by its hash: nothing else may style, script or frame it.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;\
                     padding:0 1rem}button{font-size:1.2rem;padding:.8rem 1.4rem;\
                     margin:.4rem .4rem .4rem 0}";

/// The page's policy: its style, its own form, never framed (a framed page could trick a
/// client into pressing Cancel).
static CSP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
});

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{t}</title>\
         <style>{STYLE}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    // Never cached: the page shows the visit's current state, and its URL is a capability.
    (
        status,
        [
            (axum::http::header::CACHE_CONTROL, "no-store"),
            (axum::http::header::CONTENT_SECURITY_POLICY, CSP.as_str()),
        ],
        Html(html),
    )
        .into_response()
}

fn describe(b: &Business, v: &Visit) -> String {
    let locale = b.locale.parse().unwrap_or(Locale::En);
    let tz = b.zone.parse().unwrap_or(chrono_tz::UTC);
    let when = template::when(v.start, tz, locale);
    let services = v
        .services
        .iter()
        .map(|s| escape(&s.name))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "<p><strong>{}</strong></p><p id=\"when\">{}</p><p>{}</p>",
        escape(&b.name),
        escape(&when),
        services
    )
}

fn storage_failed(e: crate::storage::StorageError) -> Response {
    tracing::warn!(error = %e, "confirmation page: storage failed");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "…",
        "<p>Please try again in a minute.</p>",
    )
}

/// The business a link names (its language, name and zone), or the "invalid link" page.
async fn load_business<S: Storage>(n: &Notifier<S>, t: LinkTarget) -> Result<Business, Response> {
    let Some(bdoc) = n
        .storage
        .read_doc(t.business, t.business)
        .await
        .map_err(storage_failed)?
    else {
        return Err(invalid());
    };
    automerge::Automerge::load(&bdoc)
        .ok()
        .and_then(|d| business_doc::read(&d, t.business).ok())
        .ok_or_else(invalid)
}

/// The visit as the stored client document holds it.
fn visit_in(client_doc_bytes: &[u8], client: Uuid, visit: Uuid) -> Option<Visit> {
    automerge::Automerge::load(client_doc_bytes)
        .ok()
        .and_then(|d| client_doc::read(&d, client).ok())
        .and_then(|c| c.visits.into_iter().find(|v| v.id == visit))
}

fn invalid() -> Response {
    // The business is unknown, so all four languages.
    let text = [Locale::Uk, Locale::Ru, Locale::Pl, Locale::En]
        .map(|l| words(l).invalid)
        .join(" · ");
    page(StatusCode::NOT_FOUND, "Kartka", &format!("<p>{text}</p>"))
}

async fn show<S: Storage>(
    State(n): State<Arc<Notifier<S>>>,
    UrlPath(token): UrlPath<String>,
) -> Response {
    let Some(t) = verify(&n.link_key, &token) else {
        return invalid();
    };
    let b = match load_business(&n, t).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let visit = match n.storage.read_doc(t.business, t.client).await {
        Ok(bytes) => bytes.and_then(|b| visit_in(&b, t.client, t.visit)),
        Err(e) => return storage_failed(e),
    };
    let w = words(b.locale.parse().unwrap_or(Locale::En));
    match standing(visit.as_ref(), n.now()) {
        Standing::Open(v) => {
            let state = match v.status {
                VisitStatus::Confirmed => format!("<p id=\"state\">{}</p>", w.confirmed),
                _ => String::new(),
            };
            let confirm = if v.status == VisitStatus::Confirmed {
                String::new()
            } else {
                format!(
                    "<button name=\"answer\" value=\"confirm\" id=\"confirm\">{}</button>",
                    w.confirm
                )
            };
            page(
                StatusCode::OK,
                w.title,
                &format!(
                    "{}{state}<form method=\"post\">{confirm}\
                     <button name=\"answer\" value=\"cancel\" id=\"cancel\">{}</button></form>",
                    describe(&b, v),
                    w.cancel
                ),
            )
        }
        Standing::Past => page(
            StatusCode::GONE,
            w.title,
            &format!("<p id=\"state\">{}</p>", w.past),
        ),
        Standing::Gone => page(
            StatusCode::GONE,
            w.title,
            &format!("<p id=\"state\">{}</p>", w.gone),
        ),
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    answer: String,
}

async fn answer<S: Storage>(
    State(n): State<Arc<Notifier<S>>>,
    UrlPath(token): UrlPath<String>,
    Form(a): Form<Answer>,
) -> Response {
    let Some(t) = verify(&n.link_key, &token) else {
        return invalid();
    };
    let to = match a.answer.as_str() {
        "confirm" => VisitStatus::Confirmed,
        "cancel" => VisitStatus::Cancelled,
        _ => return page(StatusCode::BAD_REQUEST, "Kartka", "<p>?</p>"),
    };
    let now = n.now();
    let b = match load_business(&n, t).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let w = words(b.locale.parse().unwrap_or(Locale::En));
    // Decided on the document as the writer holds it, so an edit from a device a moment
    // earlier (a cancellation by the master) is seen.
    let outcome = n
        .writer
        .edit(&n.storage, t.business, t.client, |d| {
            let rec = client_doc::read(d, t.client)?;
            let v = match standing(rec.visits.iter().find(|v| v.id == t.visit), now) {
                Standing::Open(v) => v,
                Standing::Past => return Ok(Err(w.past)),
                Standing::Gone => return Ok(Err(w.gone)),
            };
            if v.status != to {
                let mut new = v.clone();
                new.status = to;
                new.updated_at = now;
                let entry = MessageRecord {
                    id: Uuid::now_v7(),
                    client_id: t.client,
                    channel: Channel::Sms,
                    kind: MessageKind::Inbound,
                    body: match to {
                        VisitStatus::Confirmed => w.confirm.to_string(),
                        _ => w.cancel.to_string(),
                    },
                    at: now,
                    staff_id: None,
                    device_id: None,
                    visit_id: Some(v.id),
                    template_id: None,
                    rule_id: None,
                    status: MessageStatus::Received,
                    status_at: now,
                    detail: Some(match to {
                        VisitStatus::Confirmed => "confirmed the visit through the link".into(),
                        _ => "cancelled the visit through the link".into(),
                    }),
                };
                client_doc::put_visit(d, t.client, Some(v), &new, now)?;
                client_doc::put_message(d, &entry)?;
            }
            Ok(Ok(()))
        })
        .await;
    match outcome {
        Ok(Some(Ok(()))) => {
            let text = match to {
                VisitStatus::Confirmed => w.confirmed,
                _ => w.cancelled,
            };
            page(
                StatusCode::OK,
                w.title,
                &format!("<p id=\"state\">{text}</p>"),
            )
        }
        Ok(Some(Err(text))) => page(
            StatusCode::GONE,
            w.title,
            &format!("<p id=\"state\">{text}</p>"),
        ),
        Ok(None) => page(
            StatusCode::GONE,
            w.title,
            &format!("<p id=\"state\">{}</p>", w.gone),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "confirmation: storage failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                w.title,
                "<p>Please try again in a minute.</p>",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_the_key_and_unaltered() {
        let t = LinkTarget {
            business: Uuid::now_v7(),
            client: Uuid::now_v7(),
            visit: Uuid::now_v7(),
        };
        let key = b"k".repeat(32);
        let tok = token(&key, t);
        assert_eq!(tok.len(), 78);
        assert_eq!(verify(&key, &tok), Some(t));
        assert_eq!(verify(b"another key", &tok), None);
        let mut bytes = URL_SAFE_NO_PAD.decode(&tok).unwrap();
        bytes[40] ^= 1; // another visit
        assert_eq!(verify(&key, &URL_SAFE_NO_PAD.encode(&bytes)), None);
        assert_eq!(verify(&key, &tok[..70]), None);
        assert_eq!(verify(&key, "not base64 !"), None);
        assert_eq!(
            link("https://k.example/", &key, t),
            format!("https://k.example/c/{tok}")
        );
    }

    #[test]
    fn the_page_escapes_what_masters_typed() {
        assert_eq!(
            escape("<b>Anna & \"Co\"</b>"),
            "&lt;b&gt;Anna &amp; &quot;Co&quot;&lt;/b&gt;"
        );
    }
}
