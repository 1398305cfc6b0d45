//! Edits made on two devices at once, at the FFI edge: a card's conflicts, shaped for the card
//! to render as they are (a field key to word, each value's line and who made it, which one is
//! shown), and settling one.

use kartka_core::store::{Conflict, ConflictField, ConflictValue, FieldValue, Keep};

use crate::error::bad;
use crate::{ApiError, ClientBook, ClientRec, id};

/// One of the values devices wrote to a field while apart.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ConflictValueRec {
    /// The value as one line: the text, the birthday (`1990-05-17`, `--05-17`), the numbers
    /// as typed joined by ", ", or a visit's time (RFC 3339; `time` has it for formatting).
    pub display: String,
    /// A phone list's numbers as typed, primary first (empty for other fields).
    pub phones: Vec<String>,
    /// A visit's start, RFC 3339 (visit times only).
    pub time: Option<String>,
    /// The device that wrote it.
    pub device_id: Option<String>,
    /// This device wrote it (word it "this phone").
    pub by_this_device: bool,
    /// The staff member working on that device, else the name it was paired under; `None`:
    /// the book knows no name for it.
    pub by_name: Option<String>,
}

/// A field of a card two or more devices changed apart.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ConflictRec {
    /// `name`, `phones`, `comment`, `birthday` or `visit-time:<visit id>`: give it back to
    /// `settle_conflict`.
    pub field: String,
    /// `name`, `phones`, `comment`, `birthday` or `visit_time`: the word to show.
    pub kind: String,
    /// The visit whose time it is.
    pub visit_id: Option<String>,
    /// In the same order on every device; `settle_conflict` keeps one by its index.
    pub values: Vec<ConflictValueRec>,
    /// The index of the value the card shows now (automerge's pick, the same on every
    /// device); `None` for phones, where the card shows every number of every list.
    pub current: Option<u32>,
    /// `settle_conflict` can keep every value (phone lists: keep both numbers).
    pub can_keep_all: bool,
}

impl From<ConflictValue> for ConflictValueRec {
    fn from(v: ConflictValue) -> Self {
        ConflictValueRec {
            display: v.value.display(),
            phones: match &v.value {
                FieldValue::Phones(list) => list.iter().map(|p| p.raw.clone()).collect(),
                _ => Vec::new(),
            },
            time: match &v.value {
                FieldValue::Time(t) => Some(t.to_rfc3339()),
                _ => None,
            },
            device_id: v.author.device.map(|d| d.to_string()),
            by_this_device: v.author.this_device,
            by_name: v.author.name,
        }
    }
}

impl From<Conflict> for ConflictRec {
    fn from(c: Conflict) -> Self {
        let (kind, visit_id) = match &c.field {
            ConflictField::VisitTime { visit } => {
                ("visit_time".to_string(), Some(visit.to_string()))
            }
            other => (other.key(), None),
        };
        ConflictRec {
            field: c.field.key(),
            kind,
            visit_id,
            can_keep_all: c.field == ConflictField::Phones,
            current: c.current.map(|i| i as u32),
            values: c.values.into_iter().map(Into::into).collect(),
        }
    }
}

#[uniffi::export]
impl ClientBook {
    /// The fields of a client's card that devices changed apart and nobody has settled yet.
    pub fn client_conflicts(&self, client_id: String) -> Result<Vec<ConflictRec>, ApiError> {
        let conflicts = self.store()?.conflicts(id(&client_id)?)?;
        Ok(conflicts.into_iter().map(Into::into).collect())
    }

    /// Settles a conflict: keeps the value at `keep` (an index into `values`), or with `None`
    /// every number of every list (phones only). An ordinary edit: it clears the conflict on
    /// every device once synced. `ApiError.NoConflict` when it was settled meanwhile.
    pub fn settle_conflict(
        &self,
        client_id: String,
        field: String,
        keep: Option<u32>,
    ) -> Result<ClientRec, ApiError> {
        let client = id(&client_id)?;
        let field = ConflictField::parse(&field).ok_or_else(|| {
            bad(
                "field",
                "name, phones, comment, birthday or visit-time:<visit id>",
            )
        })?;
        let keep = keep.map_or(Keep::All, |i| Keep::Value(i as usize));
        let c = self.store()?.settle(client, &field, keep)?;
        self.notify(vec![client]);
        Ok(c.into())
    }
}
