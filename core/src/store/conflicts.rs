//! The store's side of edits made on two devices at once: a card's conflicts with who made
//! each value, and settling one with an ordinary edit. Computed from the client's document on
//! demand (a card is opened one at a time; nothing is kept in the projection).

use rusqlite::TransactionBehavior;
use uuid::Uuid;

use super::clients::{resolve_phones, with_client};
use super::{Store, docs, meta_get, meta_set};
use crate::crdt::client as client_doc;
use crate::crdt::conflicts::{self, ConcurrentValue};
use crate::error::{Error, Result};
use crate::model::Client;

pub use crate::crdt::conflicts::{ConflictField, FieldValue, ListedPhone};

/// Who wrote one of a conflict's values, as far as this book knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The device (its automerge actor); `None` when the value names none.
    pub device: Option<Uuid>,
    /// This device wrote it.
    pub this_device: bool,
    /// The staff member working on that device, else the name it was paired under.
    pub name: Option<String>,
}

impl Author {
    /// One line in English for the CLI; the apps word "this device" themselves.
    pub fn display(&self) -> String {
        match (&self.name, self.this_device, self.device) {
            (Some(n), true, _) => format!("{n} (this device)"),
            (Some(n), false, _) => n.clone(),
            (None, true, _) => "this device".into(),
            (None, false, Some(d)) => format!("device {}", &d.to_string()[..8]),
            (None, false, None) => "unknown".into(),
        }
    }
}

/// One of the values two or more devices wrote to a field while apart.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictValue {
    pub author: Author,
    pub value: FieldValue,
}

/// A field of a card that devices changed apart, with every value.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub field: ConflictField,
    /// The same order on every device.
    pub values: Vec<ConflictValue>,
    /// The value the card shows until the master settles it: automerge's pick, the same on
    /// every device. `None` for the phone list, whose numbers are all kept (the union).
    pub current: Option<usize>,
}

/// What to keep when settling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// One of the conflict's values, by its index.
    Value(usize),
    /// Every number of every side's list (phones only): the card as it is shown.
    All,
}

const DEVICE_NAME: &str = "device_name";

impl Store {
    /// The fields of a client's card that devices changed apart and nobody has settled.
    pub fn conflicts(&self, client: Uuid) -> Result<Vec<Conflict>> {
        let doc = docs::load(&self.conn, client, &self.actor)?.ok_or(Error::NotFound {
            kind: "client",
            id: client,
        })?;
        let raw = conflicts::read(&doc);
        if raw.is_empty() {
            return Ok(Vec::new());
        }
        let mut names = self.staff_devices()?;
        names.extend(conflicts::author_names(&doc));
        Ok(raw
            .into_iter()
            .map(|c| Conflict {
                field: c.field,
                current: c.current,
                values: c
                    .values
                    .into_iter()
                    .map(|ConcurrentValue { actor, value }| ConflictValue {
                        author: Author {
                            device: actor,
                            this_device: actor == Some(self.device_id),
                            name: actor.and_then(|a| {
                                names.iter().find(|(d, _)| *d == a).map(|(_, n)| n.clone())
                            }),
                        },
                        value,
                    })
                    .collect(),
            })
            .collect())
    }

    /// Devices by the staff member working on each (the business's staff list their devices):
    /// preferred to the name a device was paired under.
    fn staff_devices(&self) -> Result<Vec<(Uuid, String)>> {
        let Ok(business) = self.business() else {
            return Ok(Vec::new());
        };
        Ok(business
            .staff
            .iter()
            .flat_map(|s| s.devices.iter().map(|d| (*d, s.name.clone())))
            .collect())
    }

    /// Settles a conflict: keeps one value (or, for the phone list, every number) with an
    /// ordinary edit that overwrites every concurrent value, so the conflict clears on every
    /// device once it has synced. Refused when the field has no conflict (it was settled
    /// elsewhere, or never had one) or `keep` names no value of it.
    pub fn settle(&mut self, client: Uuid, field: &ConflictField, keep: Keep) -> Result<Client> {
        let conflict = self
            .conflicts(client)?
            .into_iter()
            .find(|c| c.field == *field)
            .ok_or_else(|| Error::NoConflict { field: field.key() })?;
        let count = conflict.values.len();
        let kept = match keep {
            Keep::Value(i) => Some(
                conflict
                    .values
                    .get(i)
                    .ok_or(Error::NoSuchValue { index: i, count })?
                    .value
                    .clone(),
            ),
            Keep::All if *field == ConflictField::Phones => None,
            Keep::All => {
                return Err(Error::validation(
                    "keep",
                    "only a phone list can keep every value: name one by its number",
                ));
            }
        };
        let ctx = self.ctx()?.clone();
        let now = self.now();
        let author = self.author()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, client, |doc, rec| {
            name_author(doc, &author, now)?;
            match &kept {
                Some(FieldValue::Phones(list)) => {
                    let typed = list
                        .iter()
                        .map(|p| (p.raw.clone(), p.label.clone()))
                        .collect();
                    client_doc::settle_phones(doc, &rec.card, &resolve_phones(&ctx, typed), now)
                }
                // Every number stays: the register and the primary are written as shown.
                None => client_doc::settle_phones(doc, &rec.card, &rec.card.phones, now),
                Some(value) => conflicts::settle_scalar(doc, field, value, now),
            }
        })?;
        self.checkpointer.commit(tx)?;
        self.get_client(client)
    }

    /// Records the name this device was paired under: its edits of fields that can conflict
    /// carry it in the client's document, so every device can say whose value is whose.
    pub fn name_this_device(&mut self, name: &str) -> Result<()> {
        let name = name.trim();
        if !name.is_empty() {
            meta_set(&self.conn, DEVICE_NAME, name)?;
        }
        Ok(())
    }

    /// This device and the name it was paired under, if it was: what its edits of fields
    /// that can conflict write beside them ([`name_author`]).
    pub(crate) fn author(&self) -> Result<Option<(Uuid, String)>> {
        Ok(meta_get(&self.conn, DEVICE_NAME)?.map(|n| (self.device_id, n)))
    }
}

/// Names the device making an edit in the client's document, beside the values it writes.
pub(crate) fn name_author(
    doc: &mut automerge::Automerge,
    author: &Option<(Uuid, String)>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    match author {
        Some((device, name)) => conflicts::name_author(doc, *device, name, at),
        None => Ok(()),
    }
}
