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
use super::start_link;
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
        .route("/v1/telegram-links", post(start_link::issue::<S>))
        // Checked against `Content-Length` before the body is read (see `guard.rs`).
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .with_state(n)
}

/// The largest webhook body: a provider's batch of events is a few kilobytes.
pub const MAX_BODY: usize = 256 * 1024;

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

/// A staff member's signed link: their chat gets the business's staff alerts. Once only; the
/// chat it replaces is told, so a stolen link is noticed.
async fn bind_staff<S: Storage>(
    n: &Notifier<S>,
    business: Uuid,
    staff: Uuid,
    token: &str,
    chat: i64,
) -> Response {
    let member = match super::schedule::business(&n.storage, business).await {
        Ok(b) => b.and_then(|b| b.staff.into_iter().find(|s| s.id == staff && s.active)),
        Err(e) => return storage_failed(e),
    };
    let Some(mut member) = member else {
        return ok();
    };
    match n
        .storage
        .first_sight(format!("tg-start:{token}"), n.now().timestamp_millis())
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(%staff, "telegram: a staff link used before; nothing bound");
            return ok();
        }
        Err(e) => return storage_failed(e),
    }
    let chat = chat.to_string();
    let replaced = member
        .telegram
        .replace(chat.clone())
        .filter(|old| *old != chat);
    let at = n.now();
    let r = n
        .writer
        .edit(&n.storage, business, business, |d| {
            business_doc::edit(d, business, &SettingsEdit::PutStaff(member), at)
        })
        .await;
    if let Err(e) = r {
        return storage_failed(e);
    }
    if let Some(old) = replaced {
        tracing::warn!(%staff, "telegram: a staff member's alerts moved to another chat");
        announce_move(n, business, &old).await;
    }
    ok()
}

/// Tells the chat that had a staff member's alerts that they now go elsewhere.
async fn announce_move<S: Storage>(n: &Notifier<S>, business: Uuid, old_chat: &str) {
    let Some(entry) = n.gateways.get(Channel::Telegram) else {
        return;
    };
    let locale = super::schedule::business(&n.storage, business)
        .await
        .ok()
        .flatten()
        .map(|b| b.locale)
        .unwrap_or_default();
    let text = match locale.as_str() {
        "uk" => {
            "Сповіщення Kartka тепер надходять в інший чат Telegram. Якщо це були не ви, \
                 скажіть власнику бізнесу."
        }
        "ru" => {
            "Уведомления Kartka теперь приходят в другой чат Telegram. Если это были не вы, \
                 скажите владельцу бизнеса."
        }
        "pl" => {
            "Powiadomienia Kartka trafiają teraz na inny czat Telegram. Jeśli to nie Ty, \
                 powiedz właścicielowi firmy."
        }
        _ => {
            "Kartka alerts now go to another Telegram chat. If this was not you, tell the \
              business owner."
        }
    };
    let out = super::gateway::OutMessage {
        id: Uuid::now_v7(),
        business,
        channel: Channel::Telegram,
        to: old_chat.to_string(),
        from: None,
        text: text.to_string(),
        subject: String::new(),
        whatsapp: None,
        claimed_at: n.now(),
    };
    entry.limiter.until_ready().await;
    let outcome = entry.gateway.send(&out).await;
    tracing::info!(?outcome, "telegram: the replaced chat was told");
}

/// A client's signed link: the chat is bound to their card, and their consent to Telegram is
/// recorded with the link as its evidence.
async fn bind_client<S: Storage>(
    n: &Notifier<S>,
    start: start_link::Start,
    client: Uuid,
    chat: i64,
) -> Response {
    let at = n.now();
    let chat = chat.to_string();
    let ev = ConsentEvent {
        // One event per link and chat: a redelivered /start records nothing twice.
        id: inbound::history_id(
            &format!("tg-start:{}:{chat}", start.expires.timestamp()),
            client,
        ),
        subject: ConsentSubject::Channel(Channel::Telegram),
        granted: true,
        at,
        staff_id: None,
        device_id: Uuid::nil(),
        source: ConsentSource::ClientReply,
        note: format!(
            "pressed Start in Telegram chat {chat} through the business's signed link for this \
             client (valid until {})",
            start.expires.format("%Y-%m-%d %H:%M UTC")
        ),
    };
    let r = n
        .writer
        .edit(&n.storage, start.business, client, |d| {
            let rec = client_doc::read(d, client)?;
            if rec.deleted || rec.merged_into.is_some() {
                return Ok(());
            }
            client_doc::bind_telegram(d, &chat, at)?;
            client_doc::record_consent(d, &ev)
        })
        .await;
    match r {
        Ok(_) => ok(),
        // Not a client's card (a link naming another document): nothing to bind, and
        // Telegram asking again would not change that.
        Err(StorageError::Rejected { .. }) => ok(),
        Err(e) => storage_failed(e),
    }
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
        telegram::Update::Start { chat, token, .. } => {
            let start = match start_link::verify(&n.link_key, &token, n.now()) {
                Ok(s) => s,
                Err(why) => {
                    // A stranger's /start, a forged or an old link: nothing is bound.
                    tracing::info!(%why, "telegram: a start link refused");
                    return ok();
                }
            };
            match start.subject {
                start_link::Subject::Staff(staff) => {
                    bind_staff(&n, start.business, staff, &token, chat).await
                }
                start_link::Subject::Client(client) => bind_client(&n, start, client, chat).await,
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
