//! The HTTP API: pairing (JSON), sync (binary), health and metrics.
//!
//! Every authenticated route is scoped to the business of the presented token: handlers never
//! take a business id from the request, only from the token.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::convert::Infallible;

use axum::BoxError;
use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::BytesRejection;
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequestParts, MatchedPath, Path, Query, Request, State,
};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kartka_core::sync::wire::{
    self, CreateBusiness, Cursor, DeviceInfo, Erase, Erased, ErrorBody, Invite, JoinBusiness,
    Paired, SyncRequest, SyncResponse,
};
use serde::Deserialize;
use tokio::sync::{broadcast, watch};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use uuid::Uuid;

use crate::auth;
use crate::config::Limits;
use crate::metrics::{Metrics, RequestLabels};
use crate::storage::{NewDevice, Storage, StorageError};

/// How long an invite code is valid.
pub const INVITE_TTL: Duration = Duration::from_secs(15 * 60);

pub struct App<S> {
    pub storage: S,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    pairing_limit: DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// Proxies whose `X-Forwarded-For` names the client (the pairing limit counts clients,
    /// not the proxy).
    trusted_proxies: Vec<ipnet::IpNet>,
    sync_limit: DefaultKeyedRateLimiter<Uuid>,
    touched: Mutex<HashMap<Uuid, Instant>>,
    shutdown: watch::Receiver<bool>,
}

impl<S: Storage> App<S> {
    pub fn new(
        storage: S,
        limits: Limits,
        trusted_proxies: Vec<ipnet::IpNet>,
        metrics: Arc<Metrics>,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<App<S>> {
        let per_min = NonZeroU32::new(limits.pairing_per_minute.max(1)).expect("non-zero");
        let per_sec = NonZeroU32::new(limits.sync_per_second.max(1)).expect("non-zero");
        let burst = NonZeroU32::new(limits.sync_per_second.max(1) * 2).expect("non-zero");
        Arc::new(App {
            storage,
            metrics,
            pairing_limit: RateLimiter::keyed(Quota::per_minute(per_min)),
            trusted_proxies,
            sync_limit: RateLimiter::keyed(Quota::per_second(per_sec).allow_burst(burst)),
            limits,
            touched: Mutex::new(HashMap::new()),
            shutdown,
        })
    }
}

pub fn router<S: Storage>(app: Arc<App<S>>) -> Router {
    // Checked against `Content-Length` before the body is read (see `guard.rs`).
    let json_limit = RequestBodyLimitLayer::new(app.limits.max_json_body);
    Router::new()
        .route("/healthz", get(healthz::<S>))
        .route("/v1/openapi.yaml", get(openapi))
        .route(
            "/v1/businesses",
            post(create_business::<S>).layer(json_limit),
        )
        .route("/v1/join", post(join::<S>).layer(json_limit))
        .route("/v1/invites", post(create_invite::<S>))
        .route("/v1/devices", get(list_devices::<S>))
        .route("/v1/devices/{id}", delete(revoke_device::<S>))
        .route("/v1/erasures", post(erase::<S>).layer(json_limit))
        .route(
            "/v1/sync",
            post(sync::<S>)
                // The limit counts inflated bytes: a small zstd bomb is refused like a big body.
                .layer::<_, Infallible>(DefaultBodyLimit::max(app.limits.max_sync_body))
                // `Content-Encoding: zstd` bodies are inflated; any other encoding gets 415.
                .layer::<_, BoxError>(RequestDecompressionLayer::new())
                // Its service may fail only where the handler does, which it never does.
                .layer::<_, Infallible>(HandleErrorLayer::new(decompression_failed))
                // Answers go out zstd-compressed to devices that accept it, small ones as they are.
                .layer::<_, Infallible>(
                    CompressionLayer::new()
                        .quality(CompressionLevel::Precise(wire::ZSTD_LEVEL))
                        .compress_when(
                            DefaultPredicate::new().and(SizeAbove::new(wire::COMPRESS_FROM)),
                        ),
                )
                // The declared (compressed) length, refused before a byte is read.
                .layer::<_, Infallible>(RequestBodyLimitLayer::new(app.limits.max_sync_body)),
        )
        .layer(middleware::from_fn_with_state(app.clone(), observe::<S>))
        .with_state(app)
}

/// The operator's router, on `[admin] bind` only: `/metrics` (request counts per route) is
/// nobody else's business.
pub fn admin_router<S: Storage>(app: Arc<App<S>>) -> Router {
    Router::new()
        .route("/healthz", get(healthz::<S>))
        .route("/metrics", get(metrics::<S>))
        .with_state(app)
}

async fn decompression_failed(e: BoxError) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.to_string())
}

/// Counts every request by route and status (the headers every answer carries are
/// `guard.rs`'s, over the whole router).
async fn observe<S: Storage>(State(app): State<Arc<App<S>>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    app.metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}

/// An error answer: a status and the JSON body every client parses.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                error: code.into(),
                detail: detail.into(),
                doc: None,
            },
            retry_after: None,
        }
    }

    fn limited(retry: Duration) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "slow down");
        e.retry_after = Some(retry.as_secs().max(1));
        e
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> ApiError {
        match e {
            StorageError::BusinessExists => {
                ApiError::new(StatusCode::CONFLICT, "business_exists", e.to_string())
            }
            StorageError::InviteInvalid => {
                ApiError::new(StatusCode::NOT_FOUND, "invite_invalid", e.to_string())
            }
            StorageError::ForeignDocument { doc } => {
                let mut err =
                    ApiError::new(StatusCode::FORBIDDEN, "foreign_document", e.to_string());
                err.body.doc = Some(doc);
                err
            }
            StorageError::Rejected { doc, ref reason } => {
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "document_rejected",
                    format!("a pushed document was refused: {reason}"),
                );
                err.body.doc = Some(doc);
                err
            }
            StorageError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "not found")
            }
            StorageError::Backend(detail) => {
                // The detail may name tables or values: it goes to the log, not to the client.
                tracing::error!(%detail, "storage failure");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "the server's database failed; try again",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

/// The device behind the request's bearer token, refused if unknown or revoked.
pub struct Authed {
    pub device: Uuid,
    pub business: Uuid,
    pub owner: bool,
}

impl<S: Storage> FromRequestParts<Arc<App<S>>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App<S>>) -> Result<Self, ApiError> {
        Authed::from_headers(&app.storage, &parts.headers).await
    }
}

impl Authed {
    /// The device behind `Authorization: Bearer <token>`, for routes outside this router
    /// (the confirmation links') as for those in it.
    pub async fn from_headers<S: Storage>(
        storage: &S,
        headers: &HeaderMap,
    ) -> Result<Self, ApiError> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid device token is required",
            )
        };
        let token = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|t| auth::plausible_token(t))
            .ok_or_else(unauthorized)?;
        let device = storage
            .device_by_token(auth::hash(token))
            .await?
            .ok_or_else(unauthorized)?;
        if device.revoked {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "device_revoked",
                "this device was removed from the business",
            ));
        }
        Ok(Authed {
            device: device.id,
            business: device.business_id,
            owner: device.owner,
        })
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The address of the client: the peer's, unless the peer is a trusted proxy; then the last
/// address in `X-Forwarded-For` that is not a trusted proxy (proxies append the address they
/// saw, so entries further left were written by whoever sent the request and prove nothing).
fn client_ip(
    trusted: &[ipnet::IpNet],
    ci: &ConnectInfo<SocketAddr>,
    headers: &HeaderMap,
) -> std::net::IpAddr {
    let peer = ci.0.ip();
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // Garbage from the client's side of the chain: the last good address stands.
            Err(_) => return client,
        }
    }
    client
}

/// A 429 telling when the bucket has room again.
fn limited(n: governor::NotUntil<governor::clock::QuantaInstant>) -> ApiError {
    ApiError::limited(n.wait_time_from(DefaultClock::default().now()))
}

fn check_pairing<S: Storage>(app: &App<S>, ip: std::net::IpAddr) -> Result<(), ApiError> {
    app.pairing_limit.check_key(&ip).map_err(limited)
}

fn device_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_device_name",
            "a device name of 1 to 100 characters is required",
        ));
    }
    Ok(name.to_string())
}

fn new_device(name: String) -> (NewDevice, String) {
    let token = auth::new_token();
    (
        NewDevice {
            id: Uuid::now_v7(),
            name,
            token_hash: auth::hash(&token),
            at_ms: now_ms(),
        },
        token,
    )
}

/// The HTTP API's description (`sync-server/openapi.yaml`), kept in step with the routes by
/// `tests/openapi.rs`.
pub const OPENAPI: &str = include_str!("../openapi.yaml");

async fn openapi() -> Response {
    ([(CONTENT_TYPE, "application/yaml")], OPENAPI).into_response()
}

async fn healthz<S: Storage>(State(app): State<Arc<App<S>>>) -> Result<&'static str, ApiError> {
    app.storage.ping().await?;
    Ok("ok\n")
}

async fn metrics<S: Storage>(State(app): State<Arc<App<S>>>) -> Response {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

async fn create_business<S: Storage>(
    State(app): State<Arc<App<S>>>,
    ci: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(req): Json<CreateBusiness>,
) -> Result<(StatusCode, Json<Paired>), ApiError> {
    check_pairing(&app, client_ip(&app.trusted_proxies, &ci, &headers))?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_name",
            "a business name of 1 to 200 characters is required",
        ));
    }
    let (device, token) = new_device(device_name(&req.device_name)?);
    let device_id = device.id;
    app.storage
        .create_business(req.business_id, name, device)
        .await?;
    tracing::info!(business = %req.business_id, device = %device_id, "business created");
    Ok((
        StatusCode::CREATED,
        Json(Paired {
            business_id: req.business_id,
            device_id,
            token,
        }),
    ))
}

async fn create_invite<S: Storage>(
    State(app): State<Arc<App<S>>>,
    who: Authed,
) -> Result<(StatusCode, Json<Invite>), ApiError> {
    if !who.owner {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "owner_only",
            "only the owner's device can invite",
        ));
    }
    let code = auth::new_invite_code();
    let expires_at = chrono::Utc::now() + INVITE_TTL;
    app.storage
        .create_invite(
            who.business,
            who.device,
            auth::hash(&code),
            expires_at.timestamp_millis(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Invite { code, expires_at })))
}

async fn join<S: Storage>(
    State(app): State<Arc<App<S>>>,
    ci: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(req): Json<JoinBusiness>,
) -> Result<(StatusCode, Json<Paired>), ApiError> {
    check_pairing(&app, client_ip(&app.trusted_proxies, &ci, &headers))?;
    let (device, token) = new_device(device_name(&req.device_name)?);
    let device_id = device.id;
    let code = auth::normalize_code(&req.code);
    let business = app.storage.redeem_invite(auth::hash(&code), device).await?;
    tracing::info!(%business, device = %device_id, "device joined");
    Ok((
        StatusCode::CREATED,
        Json(Paired {
            business_id: business,
            device_id,
            token,
        }),
    ))
}

async fn list_devices<S: Storage>(
    State(app): State<Arc<App<S>>>,
    who: Authed,
) -> Result<Json<Vec<DeviceInfo>>, ApiError> {
    Ok(Json(app.storage.list_devices(who.business).await?))
}

async fn revoke_device<S: Storage>(
    State(app): State<Arc<App<S>>>,
    who: Authed,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    if !who.owner {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "owner_only",
            "only the owner's device can remove devices",
        ));
    }
    if id == who.device {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot_revoke_self",
            "the owner's device cannot remove itself",
        ));
    }
    app.storage
        .revoke_device(who.business, id, now_ms())
        .await?;
    tracing::info!(business = %who.business, device = %id, "device revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// At most this many clients per erasure request (a device sends what it has in batches).
const MAX_ERASE: usize = 256;

/// The right to erasure: any device of the business may ask (as any may delete a client); the
/// erasure is recorded with the device, never with anything of the person.
async fn erase<S: Storage>(
    State(app): State<Arc<App<S>>>,
    who: Authed,
    Json(req): Json<Erase>,
) -> Result<Json<Erased>, ApiError> {
    if req.docs.len() > MAX_ERASE {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many",
            "at most 256 clients per request",
        ));
    }
    let n = req.docs.len();
    let erased = app
        .storage
        .erase(who.business, who.device, req.docs, now_ms())
        .await?;
    tracing::info!(business = %who.business, device = %who.device, asked = n, erased, "clients erased");
    Ok(Json(Erased { erased }))
}

#[derive(Debug, Deserialize)]
struct SyncQuery {
    /// Long-poll: hold an empty answer up to this many seconds.
    #[serde(default)]
    wait: u64,
}

async fn sync<S: Storage>(
    State(app): State<Arc<App<S>>>,
    who: Authed,
    Query(q): Query<SyncQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    app.sync_limit.check_key(&who.device).map_err(limited)?;
    // Too large (after inflating), or a body that does not inflate: a JSON error like any other.
    let body = body.map_err(|e| {
        let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "bad_body"
        };
        ApiError::new(e.status(), code, e.body_text())
    })?;
    app.metrics.sync_bytes_in.inc_by(body.len() as u64);
    let req: SyncRequest = wire::decode(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.to_string()))?;
    let pushed = !req.push.is_empty();
    let accepted = if pushed {
        app.storage
            .push(who.business, Some(who.device), req.push)
            .await?
            .accepted
    } else {
        0
    };
    app.metrics.docs_accepted.inc_by(accepted as u64);
    let wait = Duration::from_secs(q.wait.min(app.limits.max_wait_secs));
    // Subscribe before reading, so a change committed between the read and the wait is seen.
    let mut feed = (!pushed && !wait.is_zero()).then(|| app.storage.subscribe());
    let mut pull = pull_for(&app, &who, req.cursor).await?;
    if let Some(feed) = feed.as_mut()
        && pull.chunks.is_empty()
        && !pull.more
        && pull.cursor == req.cursor
    {
        let deadline = tokio::time::Instant::now() + wait;
        let mut shutdown = app.shutdown.clone();
        loop {
            let woke = tokio::select! {
                r = feed.recv() => match r {
                    Ok(b) => b == who.business,
                    Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = tokio::time::sleep_until(deadline) => break,
                _ = shutdown.changed() => break,
            };
            if woke {
                pull = pull_for(&app, &who, req.cursor).await?;
                if !pull.chunks.is_empty() || pull.more || pull.cursor != req.cursor {
                    break;
                }
            }
        }
    }
    app.metrics.docs_sent.inc_by(pull.chunks.len() as u64);
    // A fresh device's first page says how much is coming; the device keeps the figure.
    let total = if req.cursor == Cursor::Start && pull.more {
        Some(app.storage.doc_count(who.business).await?)
    } else {
        None
    };
    let resp = SyncResponse {
        cursor: pull.cursor,
        more: pull.more,
        pull: pull.chunks,
        accepted,
        total_docs: None,
    };
    let bytes = wire::encode(&resp);
    app.metrics.sync_bytes_out.inc_by(bytes.len() as u64);
    touch(&app, who.device).await;
    let mut response = ([(CONTENT_TYPE, wire::MEDIA_TYPE)], bytes).into_response();
    if let Some(n) = total {
        response.headers_mut().insert(wire::TOTAL_HEADER, n.into());
    }
    Ok(response)
}

/// What the device lacks from `cursor`: one page, never its own changes.
async fn pull_for<S: Storage>(
    app: &App<S>,
    who: &Authed,
    cursor: Cursor,
) -> Result<crate::storage::Pull, StorageError> {
    app.storage
        .pull(
            who.business,
            cursor,
            Some(who.device),
            app.limits.pull_budget,
        )
        .await
}

/// Records "last seen" at most once a minute per device per process, off the hot path.
async fn touch<S: Storage>(app: &App<S>, device: Uuid) {
    let due = {
        let mut t = app.touched.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match t.get(&device) {
            Some(at) if now.duration_since(*at) < Duration::from_secs(60) => false,
            _ => {
                t.insert(device, now);
                true
            }
        }
    };
    if due && let Err(e) = app.storage.touch_device(device, now_ms()).await {
        tracing::warn!(error = %e, "could not record last seen");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().unwrap()
    }

    fn from(peer: &str, xff: &[&str], trusted: &[&str]) -> std::net::IpAddr {
        let trusted: Vec<ipnet::IpNet> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        let mut headers = HeaderMap::new();
        for v in xff {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        client_ip(
            &trusted,
            &ConnectInfo(SocketAddr::new(ip(peer), 4000)),
            &headers,
        )
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        // No proxy configured: the header is anyone's to forge.
        assert_eq!(
            from("203.0.113.9", &["198.51.100.1"], &[]),
            ip("203.0.113.9")
        );
        // From a trusted proxy: the address it saw.
        assert_eq!(
            from("127.0.0.1", &["198.51.100.1"], &["127.0.0.1/32"]),
            ip("198.51.100.1")
        );
        // A client cannot pick its address by prepending one: the rightmost untrusted wins.
        assert_eq!(
            from(
                "10.0.0.2",
                &["1.2.3.4, 198.51.100.1, 10.0.0.7"],
                &["10.0.0.0/8"]
            ),
            ip("198.51.100.1")
        );
        // Several headers read as one list, in order.
        assert_eq!(
            from("10.0.0.2", &["1.2.3.4", "198.51.100.7"], &["10.0.0.0/8"]),
            ip("198.51.100.7")
        );
        // Garbage where the client's address should be: the last proxy's stands.
        assert_eq!(
            from("10.0.0.2", &["junk, 10.0.0.5"], &["10.0.0.0/8"]),
            ip("10.0.0.5")
        );
        // A trusted proxy with no header: itself.
        assert_eq!(from("10.0.0.2", &[], &["10.0.0.0/8"]), ip("10.0.0.2"));
        // IPv6.
        assert_eq!(
            from("::1", &["2001:db8::5"], &["::1/128"]),
            ip("2001:db8::5")
        );
    }
}
