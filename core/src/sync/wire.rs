//! The sync protocol's wire format, shared by the device's sync client and the server.
//!
//! One `POST /v1/sync` per round trip, with a binary body: a version byte, then a postcard
//! encoding of [`SyncRequest`] (answer: [`SyncResponse`]). Postcard writes integers as varints
//! and byte strings raw, so an idle reconnect is a few bytes and a document is not inflated by
//! base64. Decoding is strict: a wrong version, a truncated body or trailing bytes are errors.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `Content-Type` of sync bodies.
pub const MEDIA_TYPE: &str = "application/x-kartka-sync";

/// Sync bodies (either way) of at least this many bytes travel zstd-compressed
/// (`Content-Encoding: zstd`); below it a frame costs more than it saves (an idle round trip is a
/// few dozen bytes).
pub const COMPRESS_FROM: u16 = 1024;

/// zstd's default level: most of the gain at a few hundred MB/s on a phone core, and close to the
/// best ratio for pages of small documents.
pub const ZSTD_LEVEL: i32 = 3;

/// The version byte every body starts with.
pub const VERSION: u8 = 1;

/// Where a device is in its business's stream of changes. Opaque to the device, which only
/// stores it and sends it back.
///
/// A fresh device first pages through every document whole (`Full`: the last document change
/// sequence number it holds everything up to, in the server's document order), then follows the
/// change feed (`Feed`: the last feed sequence number applied). Paging whole documents rather
/// than replaying the feed makes a fresh sync cost the documents' saved size, not their history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Cursor {
    #[default]
    Start,
    Full(u64),
    Feed(u64),
}

impl Cursor {
    /// The textual form a device keeps in its book.
    pub fn to_text(self) -> String {
        match self {
            Cursor::Start => "start".into(),
            Cursor::Full(n) => format!("full:{n}"),
            Cursor::Feed(n) => format!("feed:{n}"),
        }
    }

    pub fn from_text(s: &str) -> Option<Cursor> {
        if s == "start" {
            return Some(Cursor::Start);
        }
        let (mode, n) = s.split_once(':')?;
        let n = n.parse().ok()?;
        match mode {
            "full" => Some(Cursor::Full(n)),
            "feed" => Some(Cursor::Feed(n)),
            _ => None,
        }
    }
}

/// Changes of one document: a saved document or a run of changes (automerge bytes). In a pull,
/// an empty `data` says the document was erased (the right to erasure): the device drops its
/// copy. A push never carries an empty chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub doc: Uuid,
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SyncRequest {
    pub cursor: Cursor,
    /// Changes the device has that the server may lack.
    pub push: Vec<Chunk>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SyncResponse {
    pub cursor: Cursor,
    /// More is waiting: ask again at once with the new cursor.
    pub more: bool,
    /// Changes the device lacks (never the device's own changes sent back).
    pub pull: Vec<Chunk>,
    /// How many pushed chunks brought the server something new.
    pub accepted: u32,
    /// On a fresh device's first page: how many client cards the business holds, for
    /// "receiving 12,000 of 50,000 clients". Carried in the [`TOTAL_HEADER`] header, not the body, so that servers
    /// and devices of either age read each other's bodies unchanged.
    #[serde(skip)]
    pub total_docs: Option<u64>,
}

/// The header of a sync answer that carries [`SyncResponse::total_docs`].
pub const TOTAL_HEADER: &str = "kartka-total-docs";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("empty body")]
    Empty,
    #[error("unsupported protocol version {0} (this side speaks {VERSION})")]
    Version(u8),
    #[error("malformed body: {0}")]
    Malformed(String),
    #[error("{0} unexpected bytes after the body")]
    Trailing(usize),
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![VERSION];
    // Serializing these plain structs into a Vec cannot fail.
    out.extend(postcard::to_stdvec(value).expect("postcard into a Vec"));
    out
}

pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, WireError> {
    let (&version, body) = bytes.split_first().ok_or(WireError::Empty)?;
    if version != VERSION {
        return Err(WireError::Version(version));
    }
    let (value, rest) =
        postcard::take_from_bytes(body).map_err(|e| WireError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WireError::Trailing(rest.len()));
    }
    Ok(value)
}

/// The JSON body of every error the server answers with: a stable code an app can act on and a
/// detail for people. Never personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub detail: String,
    /// The document a `document_rejected` error is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<Uuid>,
}

// The pairing endpoints speak JSON: they are called a handful of times per device.

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateBusiness {
    /// The id of the business document the first device already made.
    pub business_id: Uuid,
    pub name: String,
    pub device_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinBusiness {
    pub code: String,
    pub device_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paired {
    pub business_id: Uuid,
    pub device_id: Uuid,
    /// The device's secret: 32 random bytes, hex. The server keeps only its hash.
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub code: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /v1/confirm-links`: the signed confirmation link of a visit, for the master to send
/// by hand (the server holds the key that signs it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmLinkRequest {
    pub client: Uuid,
    pub visit: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmLink {
    pub link: String,
    /// The link stops working when the visit starts.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /v1/telegram-links`: the signed start link with which a client (or a staff member)
/// binds their Telegram chat to the business's bot. Exactly one of the two is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramLinkRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramLink {
    /// `https://t.me/<bot>?start=<token>`.
    pub link: String,
    /// The link binds nothing after this (a staff link also binds only once).
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /v1/erasures`: clients forgotten on a device (the right to erasure), for the server to
/// erase everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erase {
    pub docs: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erased {
    /// How many were erased by this request (the rest were already).
    pub erased: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub id: Uuid,
    pub name: String,
    pub owner: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_seen: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_request_is_a_few_bytes_and_round_trips() {
        let req = SyncRequest {
            cursor: Cursor::Feed(123_456),
            push: vec![],
        };
        let bytes = encode(&req);
        assert!(bytes.len() <= 8, "{} bytes", bytes.len());
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), req);
    }

    #[test]
    fn bad_bodies_are_typed_errors() {
        let req = SyncRequest {
            cursor: Cursor::Start,
            push: vec![Chunk {
                doc: Uuid::nil(),
                data: vec![1, 2, 3],
            }],
        };
        let bytes = encode(&req);
        assert_eq!(decode::<SyncRequest>(&[]), Err(WireError::Empty));
        assert_eq!(decode::<SyncRequest>(&[9, 0]), Err(WireError::Version(9)));
        assert!(matches!(
            decode::<SyncRequest>(&bytes[..bytes.len() - 1]),
            Err(WireError::Malformed(_))
        ));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode::<SyncRequest>(&longer), Err(WireError::Trailing(1)));
    }

    #[test]
    fn cursors_round_trip_as_text() {
        for c in [Cursor::Start, Cursor::Full(7), Cursor::Feed(u64::MAX)] {
            assert_eq!(Cursor::from_text(&c.to_text()), Some(c));
        }
        assert_eq!(Cursor::from_text("feed:x"), None);
    }
}
