//! Telegram start links: `https://t.me/<bot>?start=<token>`, which bind the chat that presses
//! Start to a client's card (and record the client's consent to Telegram) or to a staff
//! member's record (where their alerts go).
//!
//! The ids of a business, a client or a staff member are in every book that ever synced (a
//! revoked device's too), so a token made of ids alone would let anyone bind their own chat to
//! someone else's card or alerts. A token is therefore issued by the server only, to a device of
//! the business (`POST /v1/telegram-links`), and signed with the server's link key (HMAC-SHA256,
//! as confirmation links are), with an expiry inside the signature. A staff token binds once:
//! its first use is remembered (`webhook_seen`), so a link seen over a shoulder later is
//! worthless.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use kartka_core::sync::wire::{TelegramLink, TelegramLinkRequest};
use sha2::Sha256;
use uuid::Uuid;

use super::Notifier;
use super::gateway::Gateway;
use crate::api::{ApiError, Authed};
use crate::storage::Storage;

/// 64 bits of MAC: far beyond guessing through a bot (Telegram's 64 characters leave no room
/// for the confirmation links' 80).
const MAC_LEN: usize = 8;
/// kind, business, subject, expiry (Unix seconds, u32), a nonce (two links issued in one
/// second differ, so a new staff link is not the used one), MAC: 47 bytes, 63 characters of
/// base64url, within Telegram's 64 for a start parameter.
const LEN: usize = 1 + 16 + 16 + 4 + 2 + MAC_LEN;

/// A client has a fortnight to open the link they were sent.
pub const CLIENT_VALID: Duration = Duration::days(14);
/// A staff member opens theirs at once, on the device beside them.
pub const STAFF_VALID: Duration = Duration::hours(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Client(Uuid),
    Staff(Uuid),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    pub business: Uuid,
    pub subject: Subject,
    pub expires: DateTime<Utc>,
}

/// Why a start token binds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not a token this server signed")]
    Forged,
    #[error("the link has expired")]
    Expired,
}

fn mac(key: &[u8], payload: &[u8]) -> [u8; MAC_LEN] {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(b"kartka-telegram-start-v1\n");
    m.update(payload);
    let full = m.finalize().into_bytes();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}

pub fn token(key: &[u8], s: Start) -> String {
    let (kind, id) = match s.subject {
        Subject::Client(id) => (b'c', id),
        Subject::Staff(id) => (b's', id),
    };
    let mut bytes = Vec::with_capacity(LEN);
    bytes.push(kind);
    bytes.extend_from_slice(s.business.as_bytes());
    bytes.extend_from_slice(id.as_bytes());
    let secs = u32::try_from(s.expires.timestamp().max(0)).unwrap_or(u32::MAX);
    bytes.extend_from_slice(&secs.to_be_bytes());
    bytes.extend_from_slice(&rand::random::<[u8; 2]>());
    let m = mac(key, &bytes);
    bytes.extend_from_slice(&m);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What a genuine, unexpired token names.
pub fn verify(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<Start, Refused> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| Refused::Forged)?;
    if bytes.len() != LEN {
        return Err(Refused::Forged);
    }
    let (payload, given) = bytes.split_at(LEN - MAC_LEN);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&mac(key, payload)[..], given)) {
        return Err(Refused::Forged);
    }
    let id = |at: usize| Uuid::from_slice(&payload[at..at + 16]).map_err(|_| Refused::Forged);
    let (business, subject) = (id(1)?, id(17)?);
    let subject = match payload[0] {
        b'c' => Subject::Client(subject),
        b's' => Subject::Staff(subject),
        _ => return Err(Refused::Forged),
    };
    let secs = u32::from_be_bytes(payload[33..37].try_into().expect("4 bytes"));
    let expires = Utc
        .timestamp_opt(i64::from(secs), 0)
        .single()
        .ok_or(Refused::Forged)?;
    if expires <= now {
        return Err(Refused::Expired);
    }
    Ok(Start {
        business,
        subject,
        expires,
    })
}

/// `POST /v1/telegram-links`: a device asks for the start link of one of its business's
/// clients or staff members (the device cannot sign: the key is the server's).
pub async fn issue<S: Storage>(
    State(n): State<Arc<Notifier<S>>>,
    headers: axum::http::HeaderMap,
    axum::Json(req): axum::Json<TelegramLinkRequest>,
) -> Result<axum::Json<TelegramLink>, ApiError> {
    let who = Authed::from_headers(&n.storage, &headers).await?;
    let Some(Gateway::Telegram(bot)) = n.gateways.find("telegram") else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_telegram_bot",
            "the server has no Telegram gateway, so no bot would answer the link",
        ));
    };
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such client or staff",
        )
    };
    let (subject, valid) = match (req.client, req.staff) {
        (Some(client), None) => {
            let card = n
                .storage
                .read_doc(who.business, client)
                .await?
                .and_then(|b| automerge::Automerge::load(&b).ok())
                .and_then(|d| kartka_core::crdt::client::read(&d, client).ok())
                .filter(|c| !c.deleted && c.merged_into.is_none());
            card.ok_or_else(not_found)?;
            (Subject::Client(client), CLIENT_VALID)
        }
        (None, Some(staff)) => {
            let member = super::schedule::business(&n.storage, who.business)
                .await?
                .and_then(|b| b.staff.into_iter().find(|s| s.id == staff && s.active));
            member.ok_or_else(not_found)?;
            (Subject::Staff(staff), STAFF_VALID)
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "name exactly one of client and staff",
            ));
        }
    };
    // Whole seconds: the token carries no finer expiry.
    let expires = Utc
        .timestamp_opt((n.now() + valid).timestamp(), 0)
        .single()
        .unwrap_or_else(|| n.now() + valid);
    let start = Start {
        business: who.business,
        subject,
        expires,
    };
    Ok(axum::Json(TelegramLink {
        link: format!(
            "https://t.me/{}?start={}",
            bot.bot_username(),
            token(&n.link_key, start)
        ),
        expires_at: expires,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fit_telegram_and_only_the_key_makes_them() {
        let key = [7u8; 32];
        let now = Utc::now();
        let s = Start {
            business: Uuid::now_v7(),
            subject: Subject::Staff(Uuid::now_v7()),
            expires: Utc
                .timestamp_opt((now + STAFF_VALID).timestamp(), 0)
                .unwrap(),
        };
        let t = token(&key, s);
        assert!(t.len() <= 64, "{}", t.len());
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(verify(&key, &t, now), Ok(s));
        assert_eq!(verify(&[8u8; 32], &t, now), Err(Refused::Forged));
        assert_eq!(verify(&key, &t, s.expires), Err(Refused::Expired));
        // Every single changed character is refused.
        for i in 0..t.len() {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(b).unwrap();
            assert!(verify(&key, &changed, now).is_err(), "position {i}");
        }
        // The old unsigned form (business ‖ id) is nothing.
        let mut old = s.business.as_bytes().to_vec();
        old.extend_from_slice(Uuid::now_v7().as_bytes());
        assert_eq!(
            verify(&key, &URL_SAFE_NO_PAD.encode(old), now),
            Err(Refused::Forged)
        );
    }
}
