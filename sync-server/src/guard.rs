//! What every answer carries and every request meets, over the whole router (the API, the
//! webhooks, the confirmation page and any route added later), so no route can forget them.
//!
//! - Headers: `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'` unless a
//!   page sets its own (the confirmation page allows its one style and its own form, and is
//!   still never framed), `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`,
//!   `Referrer-Policy: no-referrer` (a page's URL can be its capability), and
//!   `Cache-Control: no-store` unless a route says otherwise.
//! - Limits before the body: a declared `Content-Length` over the route's limit is answered
//!   413 at once, before a byte of the body is read (`RequestBodyLimitLayer` checks the header
//!   first); every route sits under the largest limit, and each route with a body under its
//!   own. A body that trickles is cut by a timeout between its frames, and every request by a
//!   timeout of its own (longer than the longest long-poll). The header read timeout is
//!   hyper's, set where the server is built (`lib.rs`).

use std::time::Duration;

use axum::Router;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::config::Limits;

/// The policy of everything that is not a page: nothing may load, nothing may frame it.
pub const CSP_NONE: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
                            form-action 'none'";

/// Wraps the whole router.
pub fn wrap(router: Router, limits: &Limits) -> Router {
    let largest = limits
        .max_sync_body
        .max(limits.max_json_body)
        .max(crate::notify::webhooks::MAX_BODY);
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP_NONE),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(RequestBodyTimeoutLayer::new(body_timeout(limits)))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout(limits),
        ))
        .layer(RequestBodyLimitLayer::new(largest))
}

/// The longest a request may take: the configured one, but never shorter than a long-poll.
pub fn request_timeout(limits: &Limits) -> Duration {
    Duration::from_secs(
        limits
            .request_timeout_secs
            .max(limits.max_wait_secs + 15)
            .max(1),
    )
}

fn body_timeout(limits: &Limits) -> Duration {
    Duration::from_secs(limits.body_read_timeout_secs.max(1))
}

/// hyper's timeout for a request's headers (a connection that trickles them is closed).
pub fn header_timeout(limits: &Limits) -> Duration {
    Duration::from_secs(limits.header_read_timeout_secs.max(1))
}
