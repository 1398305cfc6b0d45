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
    conn.prepare_cached(
        "INSERT INTO docs (id, kind, data, heads, dirty) VALUES (?1, ?2, ?3, ?4, 1)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, heads = excluded.heads, dirty = 1",
    )?
    .execute(params![
        id,
        kind.as_str(),
        doc.save(),
        crdt::encode_heads(&doc.get_heads())
    ])?;
    Ok(())
}

pub(crate) fn ids(conn: &Connection) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare("SELECT id FROM docs ORDER BY id")?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<Uuid>>>()?;
    Ok(ids)
}

/// Merges `bytes` (a saved document or a run of changes) into document `id`. Returns the kind of
/// the document when something new arrived, `None` when nothing did. On any error nothing has
/// been written: the caller's transaction is dropped.
pub(crate) fn merge(
    conn: &Connection,
    actor: &ActorId,
    id: Uuid,
    bytes: &[u8],
) -> Result<Option<Kind>> {
    let existing_kind: Option<Kind> = conn
        .query_row("SELECT kind FROM docs WHERE id = ?1", params![id], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|k| Kind::parse(&k));
    // The received bytes are appended to what is stored and the whole is loaded strictly:
    // automerge's own `load_incremental` silently skips a truncated or damaged tail, and a sync
    // payload that is not whole must be refused, not half-applied.
    let stored = raw(conn, id)?;
    let before = match &stored {
        Some(b) => load_strict(id, b)?.get_heads(),
        None => Vec::new(),
    };
    let mut combined = stored.unwrap_or_default();
    combined.extend_from_slice(bytes);
    let doc = load_strict(id, &combined)?.with_actor(actor.clone());
    if doc.get_heads() == before {
        return Ok(None);
    }
    let corrupt = |reason: &str| Error::CorruptDocument {
        id,
        reason: reason.into(),
    };
    let (kind, _schema) = crdt::doc_kind(&doc).ok_or_else(|| corrupt("no kind"))?;
    let kind = Kind::parse(&kind).ok_or_else(|| corrupt("unknown kind"))?;
    if existing_kind.is_some_and(|k| k != kind) {
        return Err(corrupt("kind changed"));
    }
    match kind {
        Kind::Client => {
            let record = crdt::client::read(&doc, id)?;
            save(conn, id, kind, &doc)?;
            projection::project_client(conn, &record, existing_kind.is_none())?;
        }
        Kind::Business => {
            crdt::business::read(&doc, id)?;
            match meta_get(conn, "business_id")? {
                Some(b) if b != id.to_string() => {
                    return Err(corrupt("settings of another business"));
                }
                Some(_) => {}
                None => meta_set(conn, "business_id", &id.to_string())?,
            }
            save(conn, id, kind, &doc)?;
        }
    }
    Ok(Some(kind))
}
