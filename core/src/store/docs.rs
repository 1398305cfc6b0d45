//! The `docs` table: each automerge document saved whole, beside the projection in one file.

use automerge::{ActorId, Automerge};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{meta_get, meta_set, projection};
use crate::crdt;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Business,
    Client,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Business => "business",
            Kind::Client => "client",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "business" => Some(Kind::Business),
            "client" => Some(Kind::Client),
            _ => None,
        }
    }
}

pub(crate) fn raw(conn: &Connection, id: Uuid) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT data FROM docs WHERE id = ?1")?
        .query_row(params![id], |r| r.get(0))
        .optional()?)
}

fn load_strict(id: Uuid, bytes: &[u8]) -> Result<Automerge> {
    crdt::load_strict(id, bytes)
}

/// Loads a document with this device as its actor, ready for local changes.
pub(crate) fn load(conn: &Connection, id: Uuid, actor: &ActorId) -> Result<Option<Automerge>> {
    let Some(bytes) = raw(conn, id)? else {
        return Ok(None);
    };
    let doc = Automerge::load(&bytes).map_err(|e| Error::CorruptDocument {
        id,
        reason: e.to_string(),
    })?;
    Ok(Some(doc.with_actor(actor.clone())))
}

/// Saves a document and marks it dirty: every save is a change the server may not hold yet.
pub(crate) fn save(conn: &Connection, id: Uuid, kind: Kind, doc: &Automerge) -> Result<()> {
    save_bytes(conn, id, kind, &doc.save(), &doc.get_heads())
}

/// Stores a document's saved bytes as they are, dirty: the server may not hold them.
fn save_bytes(
    conn: &Connection,
    id: Uuid,
    kind: Kind,
    data: &[u8],
    heads: &[automerge::ChangeHash],
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO docs (id, kind, data, heads, dirty) VALUES (?1, ?2, ?3, ?4, 1)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, heads = excluded.heads, dirty = 1",
    )?
    .execute(params![id, kind.as_str(), data, crdt::encode_heads(heads)])?;
    Ok(())
}

/// Stores a document that came from the server as it came, marked as held by the server (one
/// write rather than a write and an update of a row kilobytes long).
fn insert_synced(
    conn: &Connection,
    id: Uuid,
    kind: Kind,
    data: &[u8],
    heads: &[automerge::ChangeHash],
) -> Result<()> {
    let heads = crdt::encode_heads(heads);
    conn.prepare_cached(
        "INSERT INTO docs (id, kind, data, heads, synced, dirty) VALUES (?1, ?2, ?3, ?4, ?4, 0)",
    )?
    .execute(params![id, kind.as_str(), data, heads])?;
    Ok(())
}

pub(crate) fn ids(conn: &Connection) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare("SELECT id FROM docs ORDER BY id")?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<Uuid>>>()?;
    Ok(ids)
}

/// A received document, decoded and checked, before anything is written.
pub(crate) struct Decoded {
    doc: Automerge,
    kind: Kind,
    record: Option<crdt::client::ClientRecord>,
    /// For a document new to this device: its compact saved form, made where it was decoded
    /// (on a worker during a first sync). The server sends documents uncompressed, for HTTP to
    /// compress a page of them whole; the book keeps automerge's deflated form, at a third of
    /// the size.
    saved: Option<Vec<u8>>,
}

fn corrupt(id: Uuid, reason: &str) -> Error {
    Error::CorruptDocument {
        id,
        reason: reason.into(),
    }
}

fn decode(id: Uuid, doc: Automerge) -> Result<Decoded> {
    let (kind, _schema) = crdt::doc_kind(&doc).ok_or_else(|| corrupt(id, "no kind"))?;
    let kind = Kind::parse(&kind).ok_or_else(|| corrupt(id, "unknown kind"))?;
    let record = match kind {
        Kind::Client => Some(crdt::client::read(&doc, id)?),
        Kind::Business => {
            crdt::business::read(&doc, id)?;
            None
        }
    };
    Ok(Decoded {
        doc,
        kind,
        record,
        saved: None,
    })
}

/// Decodes the bytes of a document this device does not hold yet. Pure, so a page of a fresh
/// device's first sync is decoded on every core while the writer stores what is ready.
/// `Ok(None)`: the bytes hold no change at all.
pub(crate) fn decode_new(id: Uuid, bytes: &[u8]) -> Result<Option<Decoded>> {
    let doc = load_strict(id, bytes)?;
    if doc.get_heads().is_empty() {
        return Ok(None);
    }
    let saved = doc.save();
    let mut d = decode(id, doc)?;
    d.saved = Some(saved);
    Ok(Some(d))
}

/// Merges `bytes` (a saved document or a run of changes) into document `id`. Returns the kind of
/// the document when something new arrived, `None` when nothing did. On any error nothing has
/// been written: the caller's transaction is dropped.
pub(crate) fn merge(conn: &Connection, id: Uuid, bytes: &[u8]) -> Result<Option<Kind>> {
    let stored: Option<(Vec<u8>, String, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT data, kind, heads FROM docs WHERE id = ?1")?
        .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((stored, existing_kind, heads)) = stored else {
        return match decode_new(id, bytes)? {
            Some(d) => write_new(conn, id, d).map(Some),
            None => Ok(None),
        };
    };
    let existing_kind = Kind::parse(&existing_kind);
    // The heads saved with the document; a row from before schema 3 has none, and the stored
    // document is loaded for them.
    let before = match heads.as_deref().and_then(crdt::decode_heads) {
        Some(h) => h,
        None => load_strict(id, &stored)?.get_heads(),
    };
    // The received bytes are appended to what is stored and the whole is loaded strictly:
    // automerge's own `load_incremental` silently skips a truncated or damaged tail, and a sync
    // payload that is not whole must be refused, not half-applied.
    let mut combined = stored;
    combined.extend_from_slice(bytes);
    let doc = load_strict(id, &combined)?;
    if doc.get_heads() == before {
        return Ok(None);
    }
    let d = decode(id, doc)?;
    if existing_kind.is_some_and(|k| k != d.kind) {
        return Err(corrupt(id, "kind changed"));
    }
    write(conn, id, d, false)
}

/// Stores a document decoded by [`decode_new`] from the server's bytes (it must still be absent
/// from the book), already marked as held by the server.
pub(crate) fn write_new_synced(conn: &Connection, id: Uuid, d: Decoded) -> Result<Kind> {
    check_business(conn, id, &d)?;
    let saved = d.saved.as_deref().expect("decode_new saves");
    insert_synced(conn, id, d.kind, saved, &d.doc.get_heads())?;
    if let Some(record) = &d.record {
        projection::project_client(conn, record, true)?;
    }
    Ok(d.kind)
}

fn check_business(conn: &Connection, id: Uuid, d: &Decoded) -> Result<()> {
    if d.kind == Kind::Business {
        match meta_get(conn, "business_id")? {
            Some(b) if b != id.to_string() => {
                return Err(corrupt(id, "settings of another business"));
            }
            Some(_) => {}
            None => meta_set(conn, "business_id", &id.to_string())?,
        }
    }
    Ok(())
}

/// Stores a document decoded by [`decode_new`] (it must still be absent from the book).
fn write_new(conn: &Connection, id: Uuid, d: Decoded) -> Result<Kind> {
    write(conn, id, d, true).map(|k| k.expect("written"))
}

fn write(conn: &Connection, id: Uuid, d: Decoded, fresh: bool) -> Result<Option<Kind>> {
    check_business(conn, id, &d)?;
    store_merged(conn, id, d.kind, &d.doc, d.saved.as_deref())?;
    if let Some(record) = &d.record {
        projection::project_client(conn, record, fresh)?;
    }
    Ok(Some(d.kind))
}

/// Stores a merged document: a document new to this device in the form its decoder already
/// saved, otherwise saved anew.
fn store_merged(
    conn: &Connection,
    id: Uuid,
    kind: Kind,
    doc: &Automerge,
    saved: Option<&[u8]>,
) -> Result<()> {
    match saved {
        Some(bytes) => save_bytes(conn, id, kind, bytes, &doc.get_heads()),
        None => save(conn, id, kind, doc),
    }
}
