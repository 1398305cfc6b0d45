//! Webhooks from the providers: delivery reports, opt-out replies, the Telegram bot.
//!
//! Every body is checked before it is believed: Twilio's `X-Twilio-Signature` (over the URL it
//! called and the form), Meta's `X-Hub-Signature-256` (over the raw body), Telegram's secret
//! token header. A delivery seen before (by the provider's own id) is acknowledged and ignored,
//! so a replayed callback changes nothing.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kartka_core::crdt::business::{self as business_doc, SettingsEdit};
use kartka_core::crdt::client as client_doc;
use kartka_core::model::{Channel, ConsentEvent, ConsentSource, ConsentSubject};
use serde_json::json;
use uuid::Uuid;

use super::Notifier;
use super::gateway::{Gateway, telegram, twilio, whatsapp};
use super::inbound::{self, Inbound};
use crate::storage::{Storage, StorageError};

pub fn routes<S: Storage>(n: Arc<Notifier<S>>) -> Router {
    Router::new()
        .route("/v1/hooks/twilio/status", post(twilio_status::<S>))
        .route("/v1/hooks/twilio/inbound", post(twilio_inbound::<S>))
        .route(
            "/v1/hooks/whatsapp",
            post(whatsapp_events::<S>).get(whatsapp_handshake::<S>),
        )
        .route("/v1/hooks/telegram", post(telegram_update::<S>))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .with_state(n)
}

fn refuse(status: StatusCode, code: &str, detail: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({ "error": code, "detail": detail.into() })),
    )
        .into_response()
}

fn ok() -> Response {
    (StatusCode::OK, axum::Json(json!({ "ok": true }))).into_response()
}

fn storage_failed(e: StorageError) -> Response {
    tracing::warn!(error = %e, "webhook: storage failed");
    // 5xx: the provider delivers it again later.
    refuse(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Twilio's form, and whether its signature holds.
fn twilio_form<S: Storage>(
    n: &Notifier<S>,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, Box<Response>> {
    let Some(Gateway::Twilio(gw)) = n.gateways.find("twilio") else {
        return Err(Box::new(refuse(
            StatusCode::NOT_FOUND,
            "not_configured",
            "no twilio gateway",
        )));
    };
    let Some(public) = &n.config.public_url else {
        return Err(Box::new(refuse(
            StatusCode::NOT_FOUND,
            "not_configured",
            "notify.public_url is not set",
        )));
    };
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| Box::new(refuse(StatusCode::BAD_REQUEST, "bad_body", e.to_string())))?;
    let url = match query {
        Some(q) => format!("{}{path}?{q}", public.trim_end_matches('/')),
        None => format!("{}{path}", public.trim_end_matches('/')),
    };
    let sig = header(headers, "x-twilio-signature").unwrap_or_default();
    if !twilio::signature_valid(gw.auth_token(), &url, &params, sig) {
        return Err(Box::new(refuse(
            StatusCode::FORBIDDEN,
            "bad_signature",
            "X-Twilio-Signature does not match",
        )));
    }
    Ok(params)
}

fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[derive(serde::Deserialize)]
struct StatusQuery {
    m: Option<Uuid>,
}

async fn report<S: Storage>(
    n: &Notifier<S>,
    delivery: String,
    message: Option<Uuid>,
    by_ref: Option<(&str, &str)>,
    state: &'static str,
    detail: Option<String>,
) -> Response {
    let found = match (message, by_ref) {
        (Some(id), _) => n.storage.message(id).await,
        (None, Some((gw, r))) => n.storage.message_by_ref(gw.into(), r.into()).await,
        _ => Ok(None),
    };
    let m = match found {
        Ok(Some(m)) => m,
        Ok(None) => return ok(), // not ours (or long gone): nothing to do
        Err(e) => return storage_failed(e),
    };
    if m.state == crate::storage::outbox::state::SENDING {
        // The report overtook our own record of the send: ask for it again.
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "not_yet", "try again");
    }
    match n
        .storage
        .first_sight(delivery, n.now().timestamp_millis())
        .await
    {
        Ok(false) => return ok(), // a replay
        Ok(true) => {}
        Err(e) => return storage_failed(e),
    }
    match n
        .storage
        .report(m.id, state, detail, n.now().timestamp_millis())
        .await
    {
        Ok(_) => ok(),
        Err(e) => storage_failed(e),
    }
}

async fn twilio_status<S: Storage>(
    State(n): State<Arc<Notifier<S>>>,
    RawQuery(raw): RawQuery,
    Query(q): Query<StatusQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match twilio_form(
        &n,
        "/v1/hooks/twilio/status",
        raw.as_deref(),
        &headers,
        &body,
    ) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (Some(sid), Some(status)) = (
        param(&params, "MessageSid"),
        param(&params, "MessageStatus"),
    ) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_body",
            "MessageSid and MessageStatus are required",
        );
    };
    let Some(state) = twilio::status_of(status) else {
        return ok(); // queued, sending, accepted: nothing to record
    };
    let detail = param(&params, "ErrorCode").map(|c| format!("twilio {c}"));
    report(
        &n,
        format!("twilio:{sid}:{status}"),
        q.m,
        Some(("twilio", sid)),
        state,
        detail,
    )
    .await
}

async fn twilio_inbound<S: Storage>(
    State(n): State<Arc<Notifier<S>>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match twilio_form(
        &n,
        "/v1/hooks/twilio/inbound",
        raw.as_deref(),
        &headers,
        &body,
    ) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let (Some(sid), Some(from), Some(text)) = (
        param(&params, "MessageSid"),
        param(&params, "From"),
        param(&params, "Body"),
    ) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_body",
            "MessageSid, From and Body are required",
        );
    };
    received(
        &n,
        Inbound {
            provider_id: format!("twilio:{sid}"),
            contact_kind: "phone",
            from,
            channel: Channel::Sms,
            text,
            to: param(&params, "To"),
            name: None,
        },
    )
    .await
}

/// Hands an inbound message to [`inbound::receive`]: idempotent, so a provider's redelivery
/// after a crash is simply received again.
async fn received<S: Storage>(n: &Notifier<S>, msg: Inbound<'_>) -> Response {
    match inbound::receive(n, msg).await {
        Ok(_) => ok(),
        Err(e) => storage_failed(e),
    }
}

async fn opt_out<S: Storage>(
    n: &Notifier<S>,
    kind: &'static str,
    value: &str,
    channel: Channel,
    evidence: &str,
) -> Response {
    let clients = match n.storage.clients_by_contact(kind, value.to_string()).await {
        Ok(c) => c,
        Err(e) => return storage_failed(e),
    };
    for (business, client) in clients {
        n.withdraw(business, client, channel, evidence).await;
    }
    ok()
}

#[derive(serde::Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn whatsapp_handshake<S: Storage>(
    State(n): State<Arc<Notifier<S>>>,
    Query(h): Query<Handshake>,
) -> Response {
    let Some(Gateway::WhatsappCloud(gw)) = n.gateways.find("whatsapp_cloud") else {
        return refuse(
            StatusCode::NOT_FOUND,
            "not_configured",
            "no whatsapp gateway",
        );
    };
    let token_ok = h.token.as_deref().is_some_and(|t| {
        subtle::ConstantTimeEq::ct_eq(t.as_bytes(), gw.verify_token().as_bytes()).into()
    });
    match (h.mode.as_deref(), token_ok, h.challenge) {
        (Some("subscribe"), true, Some(challenge)) => (StatusCode::OK, challenge).into_response(),
        _ => refuse(
            StatusCode::FORBIDDEN,
            "bad_token",
            "hub.verify_token does not match",
        ),
    }
}

async fn whatsapp_events<S: Storage>(
    State(n): State<Arc<Notifier<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(Gateway::WhatsappCloud(gw)) = n.gateways.find("whatsapp_cloud") else {
        return refuse(
            StatusCode::NOT_FOUND,
            "not_configured",
            "no whatsapp gateway",
        );
    };
    let sig = header(&headers, "x-hub-signature-256").unwrap_or_default();
    if !whatsapp::signature_valid(gw.app_secret(), &body, sig) {
        return refuse(
            StatusCode::FORBIDDEN,
            "bad_signature",
            "X-Hub-Signature-256 does not match",
        );
    }
    let events = match whatsapp::events(&body) {
        Ok(e) => e,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "bad_body", e.to_string()),
    };
    for e in events {
        let r = match e {
            whatsapp::Event::Status { id, status, detail } => {
                let Some(state) = whatsapp::status_of(&status) else {
                    continue;
                };
                report(
                    &n,
                    format!("wa:{id}:{status}"),
                    None,
                    Some(("whatsapp_cloud", &id)),
                    state,
                    detail,
                )
                .await
            }
            whatsapp::Event::Inbound {
                id,
                from,
                text,
                name,
                to,
            } => {
                received(
                    &n,
                    Inbound {
                        provider_id: format!("wa:{id}"),
                        contact_kind: "phone",
                        from: &from,
                        channel: Channel::Whatsapp,
                        text: &text,
                        to: to.as_deref(),
                        name: name.as_deref(),
                    },
                )
                .await
            }
        };
        if !r.status().is_success() {
            return r;
        }
    }
    ok()
}

async fn telegram_update<S: Storage>(
    State(n): State<Arc<Notifier<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(Gateway::Telegram(gw)) = n.gateways.find("telegram") else {
        return refuse(
            StatusCode::NOT_FOUND,
            "not_configured",
            "no telegram gateway",
        );
    };
    let secret = header(&headers, "x-telegram-bot-api-secret-token").unwrap_or_default();
    if !gw.secret_valid(secret) {
        return refuse(
            StatusCode::FORBIDDEN,
            "bad_secret",
            "X-Telegram-Bot-Api-Secret-Token does not match",
        );
    }
    let update = match telegram::parse_update(&body) {
        Ok(u) => u,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "bad_body", e.to_string()),
    };
    let id = match &update {
        telegram::Update::Start { update_id, .. }
        | telegram::Update::Stop { update_id, .. }
        | telegram::Update::Message { update_id, .. }
        | telegram::Update::Other { update_id } => *update_id,
    };
    match n
        .storage
        .first_sight(format!("tg:{id}"), n.now().timestamp_millis())
        .await
    {
        Ok(false) => return ok(),
        Ok(true) => {}
        Err(e) => return storage_failed(e),
    }
    match update {
        telegram::Update::Start {
            chat, token, text, ..
        } => {
            let Some((business, client)) = telegram::parse_start_token(&token) else {
                return ok(); // a stranger's /start: nothing to bind
            };
            let chat = chat.to_string();
            let at = n.now();
            // A staff member's link: their chat gets the business's staff alerts.
            let staff = match super::schedule::business(&n.storage, business).await {
                Ok(b) => b.and_then(|b| b.staff.into_iter().find(|s| s.id == client)),
                Err(e) => return storage_failed(e),
            };
            if let Some(mut member) = staff {
                member.telegram = Some(chat);
                let r = n
                    .writer
                    .edit(&n.storage, business, business, |d| {
                        business_doc::edit(d, business, &SettingsEdit::PutStaff(member), at)
                    })
                    .await;
                return match r {
                    Ok(_) => ok(),
                    Err(e) => storage_failed(e),
                };
            }
            let ev = ConsentEvent {
                id: Uuid::now_v7(),
                subject: ConsentSubject::Channel(Channel::Telegram),
                granted: true,
                at,
                staff_id: None,
                device_id: Uuid::nil(),
                source: ConsentSource::ClientReply,
                note: format!(
                    "started the Telegram bot ({})",
                    text.chars().take(80).collect::<String>()
                ),
            };
            let r = n
                .writer
                .edit(&n.storage, business, client, |d| {
                    client_doc::bind_telegram(d, &chat, at)?;
                    client_doc::record_consent(d, &ev)
                })
                .await;
            match r {
                Ok(_) => ok(),
                Err(e) => storage_failed(e),
            }
        }
        telegram::Update::Stop { chat, text, .. } => {
            opt_out(
                &n,
                "telegram",
                &chat.to_string(),
                Channel::Telegram,
                &format!("Telegram: {text}"),
            )
            .await
        }
        telegram::Update::Message {
            chat, text, name, ..
        } => {
            let chat = chat.to_string();
            received(
                &n,
                Inbound {
                    provider_id: format!("tg:{id}"),
                    contact_kind: "telegram",
                    from: &chat,
                    channel: Channel::Telegram,
                    text: &text,
                    to: None,
                    name: name.as_deref(),
                },
            )
            .await
        }
        telegram::Update::Other { .. } => ok(),
    }
}
