//! Edits two devices made to one field of a card while apart: reading them from a client
//! document, and the writes that settle them.
//!
//! Automerge keeps every concurrent value of a map key (`get_all`) and shows one of them, the
//! same on every device. For the name, the comment, the birthday and a visit's time that one
//! is the merged value, and the others would be lost from view; here they are read back with
//! the device that wrote each (the actor of its operation: a device's actor is its id).
//!
//! The phone list is not one key: each number is its own `phone:<key>` entry, so two devices
//! that each replace the list end with the union, and no single key shows a conflict. Every
//! edit of the list therefore also writes the list as it was meant, `phones_set` (the typed
//! numbers and labels, primary first, as JSON); two replacements made apart leave that register
//! with one value per device, which is what is shown. The merged list stays the union.
//!
//! Settling is an ordinary put of the kept value: its operation succeeds every concurrent one,
//! so the field has one value again on every device once the change has synced.
//!
//! Who made a value: the actor of its operation is a device id, and the name that device was
//! paired under travels in the same document, `by:<device id>` → name, written with the first
//! edit of a field that can conflict. The name then arrives wherever the value does, with no
//! document of its own to sync (a business-wide list would be one more change to push for
//! every device that joins, before it has done anything).

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ROOT, ReadDoc, ScalarValue, Value};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{change, put_time};
use crate::error::Result;

/// The register that holds the phone list as last meant by each device.
pub(crate) const PHONES_SET: &str = "phones_set";
const BY: &str = "by:";

/// A field of a card that two devices can change apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConflictField {
    Name,
    Phones,
    Comment,
    Birthday,
    /// The start of one visit.
    VisitTime {
        visit: Uuid,
    },
}

impl ConflictField {
    /// The stable key of the field: `name`, `phones`, `comment`, `birthday`,
    /// `visit-time:<visit id>` (what the CLI takes and the apps map to their words).
    pub fn key(&self) -> String {
        match self {
            ConflictField::Name => "name".into(),
            ConflictField::Phones => "phones".into(),
            ConflictField::Comment => "comment".into(),
            ConflictField::Birthday => "birthday".into(),
            ConflictField::VisitTime { visit } => format!("visit-time:{visit}"),
        }
    }

    /// The inverse of [`ConflictField::key`].
    pub fn parse(s: &str) -> Option<ConflictField> {
        Some(match s.trim() {
            "name" => ConflictField::Name,
            "phones" | "phone" => ConflictField::Phones,
            "comment" => ConflictField::Comment,
            "birthday" => ConflictField::Birthday,
            other => ConflictField::VisitTime {
                visit: Uuid::parse_str(other.strip_prefix("visit-time:")?).ok()?,
            },
        })
    }
}

impl std::fmt::Display for ConflictField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// One number of a phone list as a device meant it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedPhone {
    pub raw: String,
    pub label: String,
}

/// One of the concurrent values of a field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// The name or the comment.
    Text(String),
    /// A birthday as stored (`1990-05-17` or `--05-17`).
    Birthday(String),
    /// A phone list, primary first.
    Phones(Vec<ListedPhone>),
    Time(DateTime<Utc>),
}

impl FieldValue {
    /// The value as one line: what the CLI prints and the apps show as they are.
    pub fn display(&self) -> String {
        match self {
            FieldValue::Text(s) | FieldValue::Birthday(s) => s.clone(),
            FieldValue::Phones(list) => list
                .iter()
                .map(|p| p.raw.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            FieldValue::Time(t) => t.to_rfc3339(),
        }
    }
}

/// A value and the actor that wrote it (a device id; the server's actors name no device).
#[derive(Debug, Clone, PartialEq)]
pub struct ConcurrentValue {
    pub actor: Option<Uuid>,
    pub value: FieldValue,
}

/// A field with more than one distinct concurrent value.
#[derive(Debug, Clone, PartialEq)]
pub struct RawConflict {
    pub field: ConflictField,
    /// In automerge's order of operations: the same on every device.
    pub values: Vec<ConcurrentValue>,
    /// The value the card shows now; `None` for the phone list, which shows the union.
    pub current: Option<usize>,
}

fn actor_of(id: &ObjId) -> Option<Uuid> {
    match id {
        ObjId::Id(_, actor, _) => Uuid::from_slice(actor.to_bytes()).ok(),
        ObjId::Root => None,
    }
}

/// Every distinct value of `key` under `obj`, read by `read`, with the index of the one shown.
/// Values that read as nothing (a newer writer's type) are left out; equal values written by
/// two devices are one value, not a conflict.
fn concurrent(
    doc: &Automerge,
    obj: &ObjId,
    key: &str,
    read: impl Fn(&ScalarValue) -> Option<FieldValue>,
) -> Option<(Vec<ConcurrentValue>, Option<usize>)> {
    let all = doc.get_all(obj, key).ok()?;
    if all.len() < 2 {
        return None;
    }
    let winner = doc.get(obj, key).ok()?.map(|(_, id)| id);
    let mut values: Vec<ConcurrentValue> = Vec::new();
    let mut current = None;
    for (v, id) in all {
        let Value::Scalar(s) = v else { continue };
        let Some(value) = read(s.as_ref()) else {
            continue;
        };
        let at = match values.iter().position(|c| c.value == value) {
            Some(i) => i,
            None => {
                values.push(ConcurrentValue {
                    actor: actor_of(&id),
                    value,
                });
                values.len() - 1
            }
        };
        if winner.as_ref() == Some(&id) {
            current = Some(at);
        }
    }
    (values.len() > 1).then_some((values, current))
}

fn text(s: &ScalarValue) -> Option<String> {
    match s {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

/// The phone list a `phones_set` value holds.
pub(crate) fn parse_phone_list(s: &str) -> Option<Vec<ListedPhone>> {
    serde_json::from_str(s).ok()
}

pub(crate) fn phone_list_json(list: &[ListedPhone]) -> String {
    serde_json::to_string(list).expect("phone lists serialise")
}

/// Every conflict in a client document: the card's fields, then visits in key order.
pub fn read(doc: &Automerge) -> Vec<RawConflict> {
    let mut out = Vec::new();
    let mut push = |field, found: Option<(Vec<ConcurrentValue>, Option<usize>)>| {
        if let Some((values, current)) = found {
            out.push(RawConflict {
                field,
                values,
                current,
            });
        }
    };
    push(
        ConflictField::Name,
        concurrent(doc, &ROOT, "name", |s| text(s).map(FieldValue::Text)),
    );
    push(
        ConflictField::Phones,
        concurrent(doc, &ROOT, PHONES_SET, |s| {
            parse_phone_list(&text(s)?).map(FieldValue::Phones)
        })
        // The list shown is the union of every side's, not any one of them.
        .map(|(values, _)| (values, None)),
    );
    push(
        ConflictField::Comment,
        concurrent(doc, &ROOT, "comment", |s| text(s).map(FieldValue::Text)),
    );
    push(
        ConflictField::Birthday,
        concurrent(doc, &ROOT, "birthday", |s| {
            text(s).map(FieldValue::Birthday)
        }),
    );
    let visits: Vec<String> = doc
        .map_range(
            &ROOT,
            super::client::VISIT.to_string()..crate::fold::prefix_end(super::client::VISIT),
        )
        .map(|item| item.key.to_string())
        .collect();
    for key in visits {
        let Some(visit) = Uuid::parse_str(&key[super::client::VISIT.len()..]).ok() else {
            continue;
        };
        let Ok(Some((Value::Object(automerge::ObjType::Map), obj))) = doc.get(&ROOT, &key) else {
            continue;
        };
        // A deleted visit's time is nobody's concern any more.
        if let Ok(Some((Value::Scalar(s), _))) = doc.get(&obj, "deleted")
            && matches!(s.as_ref(), ScalarValue::Boolean(true))
        {
            continue;
        }
        push(
            ConflictField::VisitTime { visit },
            concurrent(doc, &obj, "start", |s| match s {
                ScalarValue::Timestamp(ms) | ScalarValue::Int(ms) => {
                    DateTime::from_timestamp_millis(*ms).map(FieldValue::Time)
                }
                _ => None,
            }),
        );
    }
    out
}

/// Records `name` as the name of `device` in this document, unless it is there already.
pub(crate) fn name_author(
    doc: &mut Automerge,
    device: Uuid,
    name: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    let key = format!("{BY}{device}");
    if super::MapReader::root(&*doc).str(&key).as_deref() == Some(name) {
        return Ok(());
    }
    change(doc, at, |tx| {
        tx.put(ROOT, key, name)?;
        Ok(())
    })
}

/// The devices this document names: the ones that edited it.
pub fn author_names(doc: &Automerge) -> Vec<(Uuid, String)> {
    let root = super::MapReader::root(doc);
    root.prefixed(BY)
        .into_iter()
        .filter_map(|(id, key)| Some((Uuid::parse_str(&id).ok()?, root.str(&key)?)))
        .collect()
}

/// Settles a scalar field by writing `value` again: the new operation overwrites every
/// concurrent one, including the value it repeats (automerge writes a put of the shown value
/// when the key has conflicts: it is a resolution, not a no-op).
pub(crate) fn settle_scalar(
    doc: &mut Automerge,
    field: &ConflictField,
    value: &FieldValue,
    at: DateTime<Utc>,
) -> Result<()> {
    change(doc, at, |tx| {
        match (field, value) {
            (ConflictField::Name, FieldValue::Text(s)) => tx.put(ROOT, "name", s.as_str())?,
            (ConflictField::Comment, FieldValue::Text(s)) => tx.put(ROOT, "comment", s.as_str())?,
            (ConflictField::Birthday, FieldValue::Birthday(s)) => {
                tx.put(ROOT, "birthday", s.as_str())?
            }
            (ConflictField::VisitTime { visit }, FieldValue::Time(t)) => {
                let key = format!("{}{visit}", super::client::VISIT);
                if let Some((Value::Object(automerge::ObjType::Map), obj)) = tx.get(ROOT, &key)? {
                    put_time(tx, &obj, "start", *t)?;
                    put_time(tx, &obj, "updated", at)?;
                }
            }
            // The phone list is settled by `client::settle_phones`; a value of another field's
            // type cannot come from `read`.
            _ => return Ok(()),
        }
        put_time(tx, &ROOT, "updated", at)
    })
}
