//! Where the server keeps businesses, devices, invites, documents and the change feed.
//!
//! One trait, two implementations: [`sqlite::SqliteStorage`] (embedded, the default, one
//! process) and [`postgres::PgStorage`] (several server processes on one database). Both pass
//! the same conformance suite ([`conformance`]). Everything that is about documents rather than
//! rows — merging pushed changes, refusing garbage — is the shared [`accept`] function, so the
//! two cannot drift apart.

pub mod conformance;
pub mod outbox;
pub mod postgres;
mod postgres_outbox;
pub mod sqlite;
mod sqlite_outbox;

use std::future::Future;

use kartka_core::crdt;
use kartka_core::sync::wire::{Chunk, Cursor, DeviceInfo};
use tokio::sync::broadcast;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("a business with this id already exists")]
    BusinessExists,
    #[error("the invite code is unknown, used or expired")]
    InviteInvalid,
    #[error("document {doc} belongs to another business")]
    ForeignDocument { doc: Uuid },
    #[error("document {doc} was refused: {reason}")]
    Rejected { doc: Uuid, reason: String },
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Backend(String),
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError::Backend(e.to_string())
    }
}

impl From<tokio_postgres::Error> for StorageError {
    fn from(e: tokio_postgres::Error) -> Self {
        StorageError::Backend(e.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for StorageError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StorageError::Backend(e.to_string())
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// A device as authentication sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub business_id: Uuid,
    pub owner: bool,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: Uuid,
    pub name: String,
    pub token_hash: [u8; 32],
    pub at_ms: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// Chunks that brought something new.
    pub accepted: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pull {
    pub chunks: Vec<Chunk>,
    pub cursor: Cursor,
    pub more: bool,
}

/// At most this many rows are read per page, whatever their size.
pub const PAGE_ROWS: i64 = 2048;

/// Everything the server keeps; [`outbox::Outbox`] is the scheduler's and dispatcher's part.
pub trait Storage: outbox::Outbox + Clone + Send + Sync + 'static {
    /// Creates a business with its first device, the owner.
    fn create_business(
        &self,
        id: Uuid,
        name: &str,
        owner: NewDevice,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The device holding this token hash, revoked or not.
    fn device_by_token(
        &self,
        token_hash: [u8; 32],
    ) -> impl Future<Output = Result<Option<Device>>> + Send;

    /// Records that a device was seen (cheap when done often: rows change once a minute).
    fn touch_device(&self, device: Uuid, at_ms: i64) -> impl Future<Output = Result<()>> + Send;

    fn create_invite(
        &self,
        business: Uuid,
        by: Uuid,
        code_hash: [u8; 32],
        expires_at_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Uses an invite code (once, before it expires) to add a device. Returns the business.
    fn redeem_invite(
        &self,
        code_hash: [u8; 32],
        device: NewDevice,
    ) -> impl Future<Output = Result<Uuid>> + Send;

    fn list_devices(&self, business: Uuid) -> impl Future<Output = Result<Vec<DeviceInfo>>> + Send;

    /// Revokes a device of `business`; `NotFound` for a device of another business.
    fn revoke_device(
        &self,
        business: Uuid,
        device: Uuid,
        at_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Merges pushed chunks into the business's documents, all or nothing, appending what was
    /// new to the change feed. `origin` is the pushing device (`None`: the server itself).
    fn push(
        &self,
        business: Uuid,
        origin: Option<Uuid>,
        chunks: Vec<Chunk>,
    ) -> impl Future<Output = Result<PushOutcome>> + Send;

    /// What a device at `cursor` lacks, up to about `budget` bytes; never `exclude`'s own
    /// changes (it has them).
    fn pull(
        &self,
        business: Uuid,
        cursor: Cursor,
        exclude: Option<Uuid>,
        budget: usize,
    ) -> impl Future<Output = Result<Pull>> + Send;

    /// How many client cards a fresh device receives of `business` (erased ones are not cards
    /// any more), for its "receiving 12,000 of 50,000 clients".
    fn doc_count(&self, business: Uuid) -> impl Future<Output = Result<u64>> + Send;

    /// A document whole, if it is this business's.
    fn read_doc(
        &self,
        business: Uuid,
        doc: Uuid,
    ) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;

    /// Erases client documents of `business` for good (the right to erasure): their data, their
    /// history in the feed and everything the notifier keeps of them go; what stays is an empty
    /// row that tells devices to erase their copies, and an anonymous record in `erasures`.
    /// Returns how many were erased now (an id erased before, or never pushed, is recorded
    /// all the same). The settings document cannot be erased.
    fn erase(
        &self,
        business: Uuid,
        by_device: Uuid,
        docs: Vec<Uuid>,
        at_ms: i64,
    ) -> impl Future<Output = Result<u32>> + Send;

    /// Businesses whose feed grew, as they commit (on every instance sharing the database).
    fn subscribe(&self) -> broadcast::Receiver<Uuid>;

    /// A cheap query proving the database answers.
    fn ping(&self) -> impl Future<Output = Result<()>> + Send;
}

/// What [`accept`] decided for one pushed chunk.
pub struct Accepted {
    pub data: Vec<u8>,
    pub changes: Vec<u8>,
    pub kind: String,
}

/// Merges one pushed chunk into the stored document (shared by both backends). `Ok(None)`: the
/// server already had all of it. A chunk that is not a whole, readable Kartka document (after
/// merging), that changes a document's kind, or that claims to be another business's settings
/// is refused.
pub fn accept(
    business: Uuid,
    doc: Uuid,
    stored: Option<&[u8]>,
    chunk: &[u8],
) -> Result<Option<Accepted>> {
    if chunk.is_empty() {
        return Err(StorageError::Rejected {
            doc,
            reason: "an empty chunk".into(),
        });
    }
    // An erased client (its row kept with empty data): whatever a device still had of it is
    // dropped, and the device learns of the erasure from its next pull.
    if stored.is_some_and(<[u8]>::is_empty) {
        return Ok(None);
    }
    let merged = crdt::merge_bytes(doc, stored, chunk).map_err(|e| StorageError::Rejected {
        doc,
        reason: e.to_string(),
    })?;
    let Some(m) = merged else {
        return Ok(None);
    };
    if m.kind == "business" && doc != business {
        return Err(StorageError::Rejected {
            doc,
            reason: "the settings document of another business".into(),
        });
    }
    Ok(Some(Accepted {
        data: m.data,
        changes: m.changes,
        kind: m.kind,
    }))
}

/// Whether a stored document may be erased for `business` (shared by both backends): `Ok(true)`
/// to erase it (a client, or nothing stored: the erasure is recorded all the same), `Ok(false)`
/// when it already was. Another business's document, or the settings, are refused.
pub fn erasable(business: Uuid, doc: Uuid, stored: Option<(Uuid, String)>) -> Result<bool> {
    match stored {
        Some((owner, _)) if owner != business => Err(StorageError::ForeignDocument { doc }),
        Some((_, kind)) if kind == "erased" => Ok(false),
        Some((_, kind)) if kind != "client" => Err(StorageError::Rejected {
            doc,
            reason: "only a client can be erased".into(),
        }),
        _ => Ok(true),
    }
}

/// Appends `data` to the page unless the page is full; consecutive chunks of one document are
/// joined (automerge reads concatenated chunks as one run).
///
/// An empty chunk says the document was erased, so it is never joined to another.
pub(crate) fn add_chunk(chunks: &mut Vec<Chunk>, size: &mut usize, doc: Uuid, data: Vec<u8>) {
    *size += data.len() + 20;
    match chunks.last_mut() {
        Some(last) if last.doc == doc && !last.data.is_empty() && !data.is_empty() => {
            last.data.extend_from_slice(&data)
        }
        _ => chunks.push(Chunk { doc, data }),
    }
}

/// Row of the documents table or of the feed, as a page reads it.
pub(crate) struct Row {
    pub seq: i64,
    pub doc: Uuid,
    pub origin: Option<Uuid>,
    pub data: Vec<u8>,
}

/// Builds a page from rows read in order (shared paging rules of both backends). `rows` holds up
/// to [`PAGE_ROWS`]; `full` says whether they are whole documents or feed rows.
pub(crate) fn page(
    rows: Vec<Row>,
    after: u64,
    full: bool,
    exclude: Option<Uuid>,
    budget: usize,
) -> Pull {
    let n = rows.len();
    let mut out = Pull::default();
    let mut size = 0;
    let mut last = after;
    let mut taken = 0;
    for row in rows {
        if size >= budget && !out.chunks.is_empty() {
            break;
        }
        taken += 1;
        last = row.seq as u64;
        if !full && exclude.is_some() && row.origin == exclude {
            continue;
        }
        add_chunk(&mut out.chunks, &mut size, row.doc, row.data);
    }
    out.more = taken < n || n as i64 == PAGE_ROWS;
    out.cursor = match (full, out.more) {
        (true, true) => Cursor::Full(last),
        // Every document changed after `after` was in this page: the device now holds every
        // change up to the last one's sequence number, and follows the feed from there.
        (true, false) => Cursor::Feed(last),
        (false, _) => Cursor::Feed(last),
    };
    out
}
