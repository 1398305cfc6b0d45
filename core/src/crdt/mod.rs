//! The replicated documents: how clients and the business settings are laid out in automerge.
//!
//! One document per client holds the card, its consent (with evidence) and its visits; one
//! document per business holds the settings. ARCHITECTURE.md explains why this granularity.
//!
//! Two automerge habits every writer here keeps:
//! - every container (`phones`, `visits`, …) is created once, in the document's first change,
//!   by the device that creates the document; two devices each creating a root map would merge
//!   into one map with the other's contents hidden;
//! - every change carries a wall-clock commit time (automerge's default is 0); the time is for
//!   people reading history, never for ordering: merge order comes from the CRDT itself.

pub mod business;
pub mod client;
pub mod conflicts;

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The layout version written into every document. A reader meeting a newer version reads the
/// fields it knows and leaves the rest untouched, so an older device never breaks a newer
/// document (writes only touch the keys this code knows).
pub const SCHEMA_VERSION: i64 = 1;

/// Runs `f` as one automerge change stamped with `at`; on error the change is rolled back.
pub(crate) fn change<T>(
    doc: &mut Automerge,
    at: DateTime<Utc>,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let mut tx = doc.transaction();
    match f(&mut tx) {
        Ok(v) => {
            tx.commit_with(CommitOptions::default().with_time(at.timestamp_millis()));
            Ok(v)
        }
        Err(e) => {
            tx.rollback();
            Err(e)
        }
    }
}

/// Typed reads of one map object. Missing keys and values of an unexpected type read as `None`:
/// a document from a newer or buggy writer degrades to defaults instead of failing the read.
pub(crate) struct MapReader<'a, D: ReadDoc> {
    pub doc: &'a D,
    pub obj: ObjId,
    /// Every entry of the map, read in one pass by [`MapReader::snapshot`] and sorted by key;
    /// `None`: each read asks the document.
    entries: Option<Vec<Entry>>,
}

/// One entry of a map read in a pass: the key, the winning value, the object id if it is one.
type Entry = (String, Value<'static>, Option<ObjId>);

impl<'a, D: ReadDoc> MapReader<'a, D> {
    pub fn root(doc: &'a D) -> Self {
        MapReader {
            doc,
            obj: ROOT,
            entries: None,
        }
    }

    /// Reads every entry of the map at once. Automerge seeks from the start of the object for
    /// each key it is asked for, so reading a visit field by field cost a quarter of a fresh
    /// device's first sync; one pass over the map and a binary search per field does not.
    pub fn snapshot(mut self) -> Self {
        let mut entries: Vec<Entry> = self
            .doc
            .map_range(&self.obj, ..)
            .map(|item| {
                let id = matches!(item.value, automerge::ValueRef::Object(_)).then(|| item.id());
                let value = item.value.into_value();
                (item.key.into_owned(), value, id)
            })
            .collect();
        // map_range yields keys in order already; sorting keeps the binary search honest.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        self.entries = Some(entries);
        self
    }

    fn entry(&self, key: &str) -> Option<(Value<'static>, ObjId)> {
        match &self.entries {
            Some(entries) => {
                let i = entries.binary_search_by(|e| e.0.as_str().cmp(key)).ok()?;
                let (_, v, id) = &entries[i];
                Some((v.clone(), id.clone().unwrap_or(ROOT)))
            }
            None => {
                let (v, id) = self.doc.get(&self.obj, key).ok()??;
                Some((v.into_owned(), id))
            }
        }
    }

    pub fn scalar(&self, key: &str) -> Option<ScalarValue> {
        match self.entry(key)? {
            (Value::Scalar(s), _) => Some(s.into_owned()),
            _ => None,
        }
    }

    pub fn str(&self, key: &str) -> Option<String> {
        match self.scalar(key)? {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }

    pub fn i64(&self, key: &str) -> Option<i64> {
        match self.scalar(key)? {
            ScalarValue::Int(i) => Some(i),
            ScalarValue::Uint(u) => i64::try_from(u).ok(),
            ScalarValue::Timestamp(t) => Some(t),
            _ => None,
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.scalar(key)? {
            ScalarValue::Boolean(b) => Some(b),
            _ => None,
        }
    }

    pub fn time(&self, key: &str) -> Option<DateTime<Utc>> {
        Utc.timestamp_millis_opt(self.i64(key)?).single()
    }

    pub fn uuid(&self, key: &str) -> Option<Uuid> {
        self.str(key).and_then(|s| Uuid::parse_str(&s).ok())
    }

    pub fn map(&self, key: &str) -> Option<MapReader<'a, D>> {
        match self.entry(key)? {
            (Value::Object(ObjType::Map), id) => Some(MapReader {
                doc: self.doc,
                obj: id,
                entries: None,
            }),
            _ => None,
        }
    }

    pub fn keys(&self) -> Vec<String> {
        self.doc.keys(&self.obj).collect()
    }

    /// The keys starting with `prefix`, as (rest of the key, whole key), in key order.
    pub fn prefixed(&self, prefix: &str) -> Vec<(String, String)> {
        let end = crate::fold::prefix_end(prefix);
        self.doc
            .map_range(&self.obj, prefix.to_string()..end)
            .map(|item| {
                let key = item.key.to_string();
                (key[prefix.len()..].to_string(), key)
            })
            .collect()
    }

    /// Every concurrent value of `key` that is a string (more than one after a conflict).
    pub fn all_str(&self, key: &str) -> Vec<String> {
        self.doc
            .get_all(&self.obj, key)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(v, _)| match v {
                Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Str(s) => Some(s.to_string()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }
}

/// The map at `key` under `obj`, which the document's creator made. Its absence means the
/// document is not one of ours.
pub(crate) fn existing_map<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str, id: Uuid) -> Result<ObjId> {
    match doc.get(obj, key)? {
        Some((Value::Object(ObjType::Map), o)) => Ok(o),
        _ => Err(Error::CorruptDocument {
            id,
            reason: format!("missing map `{key}`"),
        }),
    }
}

pub(crate) fn put_opt_str(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    value: Option<&str>,
) -> Result<()> {
    match value {
        Some(v) => tx.put(obj, key, v)?,
        None => {
            if tx.get(obj, key)?.is_some() {
                tx.delete(obj, key)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn put_time(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.put(obj, key, ScalarValue::Timestamp(at.timestamp_millis()))?;
    Ok(())
}

/// Reads the `kind` and `schema` a document declares.
pub fn doc_kind(doc: &Automerge) -> Option<(String, i64)> {
    let r = MapReader::root(doc);
    Some((r.str("kind")?, r.i64("schema").unwrap_or(0)))
}

/// Heads as stored and sent: the 32-byte hashes, concatenated.
pub fn encode_heads(heads: &[automerge::ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// The inverse of [`encode_heads`]; `None` when the bytes are not whole hashes.
pub fn decode_heads(bytes: &[u8]) -> Option<Vec<automerge::ChangeHash>> {
    if !bytes.len().is_multiple_of(32) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(32)
            .map(|c| automerge::ChangeHash(c.try_into().expect("32-byte chunk")))
            .collect(),
    )
}

/// Loads bytes strictly: a truncated or damaged tail, or changes whose dependencies are missing,
/// are an error rather than silently skipped (automerge's lenient loaders skip them).
pub fn load_strict(id: Uuid, bytes: &[u8]) -> Result<Automerge> {
    use automerge::{LoadOptions, OnPartialLoad, VerificationMode};
    Automerge::load_with_options(
        bytes,
        LoadOptions::new()
            .on_partial_load(OnPartialLoad::Error)
            .verification_mode(VerificationMode::Check),
    )
    .map_err(|e| Error::CorruptDocument {
        id,
        reason: e.to_string(),
    })
}

/// The outcome of merging received bytes into a stored document.
pub struct Merged {
    /// The merged document, saved whole.
    pub data: Vec<u8>,
    /// Only the changes that were new to the stored document, as a change run.
    pub changes: Vec<u8>,
    pub heads: Vec<automerge::ChangeHash>,
    pub kind: String,
}

/// Merges `received` (a saved document or a run of changes) into `stored` (none: a new document).
/// `Ok(None)` when nothing in `received` was new. The result must still be a Kartka document (it
/// declares a kind, the same as before): garbage or a truncated payload is an error, and nothing
/// of it is kept. Used by the sync server, which must never store what it cannot read back.
pub fn merge_bytes(id: Uuid, stored: Option<&[u8]>, received: &[u8]) -> Result<Option<Merged>> {
    let corrupt = |reason: &str| Error::CorruptDocument {
        id,
        reason: reason.into(),
    };
    let (before, old_kind) = match stored {
        Some(b) => {
            let doc = load_strict(id, b)?;
            (doc.get_heads(), doc_kind(&doc).map(|k| k.0))
        }
        None => (Vec::new(), None),
    };
    let doc = match stored {
        Some(stored) => load_strict(id, &[stored, received].concat())?,
        None => load_strict(id, received)?,
    };
    let heads = doc.get_heads();
    if heads == before {
        return Ok(None);
    }
    let (kind, _) = doc_kind(&doc).ok_or_else(|| corrupt("no kind"))?;
    if old_kind.is_some_and(|k| k != kind) {
        return Err(corrupt("kind changed"));
    }
    // Kept uncompressed (automerge's `save_nocompress`): these bytes are what a fresh device
    // pulls, in pages that HTTP compresses whole with zstd, which finds the field names and actor
    // ids every document repeats; automerge's per-column deflate cannot, and its output no longer
    // compresses. 2.2x fewer bytes on the wire for a fresh device (BENCHMARKS.md), for about 2.7x
    // the stored size on the server; devices keep the compact form.
    let data = doc.save_nocompress();
    let changes = match stored {
        // A new document: all of it is the change.
        None => data.clone(),
        Some(_) => doc.save_after(&before),
    };
    Ok(Some(Merged {
        data,
        changes,
        heads,
        kind,
    }))
}
