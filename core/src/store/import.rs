//! Importing contacts: the preview that sorts each row into new / duplicate / merge candidate /
//! invalid, and the import of the rows the master picked, in one transaction.
//!
//! Duplicates are found by E.164 number or email, against the book and against earlier rows of
//! the same batch. Rows of one person that a phone book repeats (messaging apps add their own
//! rows for WhatsApp, Telegram, Viber) collapse into the first: their numbers and emails are
//! added to it, and they are marked duplicates of it. A row with the name of an existing client
//! but other numbers is a merge candidate: the master decides. Imported clients get no messaging
//! consent unless the master states it, with evidence, for the whole batch.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use uuid::Uuid;

use super::{BusinessContext, Store, docs, projection};
use crate::crdt::client::{self as client_doc, Card, ClientRecord};
use crate::error::{Error, Result};
use crate::fold::fold;
use crate::import::Contact;
use crate::model::{
    Birthday, Channel, ClientClass, ClientSource, ConsentEvent, ConsentSource, ConsentSubject,
    Phone,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    New,
    Duplicate,
    MergeCandidate,
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewPhone {
    /// `None`: not a valid number; it is kept as typed and flagged.
    pub e164: Option<String>,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewItem {
    /// Position of the contact in the input, from 0.
    pub row: usize,
    pub name: Option<String>,
    pub phones: Vec<PreviewPhone>,
    pub emails: Vec<String>,
    pub birthday: Option<Birthday>,
    pub status: ImportStatus,
    /// Why this status, in words a master understands; notes unparsed numbers too.
    pub reason: String,
    /// The existing client's id, or `row:N` for an earlier row of this batch.
    pub duplicate_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportPreview {
    pub new: usize,
    pub duplicate: usize,
    pub merge_candidate: usize,
    pub invalid: usize,
    pub items: Vec<PreviewItem>,
}

/// Consent the master states for a whole batch, with its evidence (e.g. every client of this
/// list signed the salon's form).
#[derive(Debug, Clone)]
pub struct BatchConsent {
    pub channels: Vec<Channel>,
    pub source: ConsentSource,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub created: Vec<Uuid>,
    /// Picked rows not imported: duplicates and invalid rows.
    pub skipped: usize,
}

/// One row, normalised, with what other rows collapsed into it.
struct Row {
    name: Option<String>,
    phones: Vec<Phone>,
    emails: Vec<String>,
    birthday: Option<Birthday>,
    note: Option<String>,
    given: Option<String>,
    family: Option<String>,
    status: ImportStatus,
    reason: String,
    duplicate_of: Option<String>,
}

fn normalise(ctx: &BusinessContext, c: &Contact) -> Row {
    let mut phones: Vec<Phone> = Vec::new();
    for p in &c.phones {
        let raw = p.raw.trim();
        if raw.is_empty() {
            continue;
        }
        let phone = Phone {
            e164: crate::phone::to_e164(raw, ctx.region),
            raw: raw.to_string(),
            label: if p.label.trim().is_empty() {
                "mobile".into()
            } else {
                p.label.trim().to_lowercase()
            },
            primary: phones.is_empty(),
        };
        if !phones.iter().any(|q| q.key() == phone.key()) {
            phones.push(phone);
        }
    }
    let mut emails: Vec<String> = Vec::new();
    for e in &c.emails {
        let e = e.trim().to_string();
        if !e.is_empty() && !emails.iter().any(|x| x.eq_ignore_ascii_case(&e)) {
            emails.push(e);
        }
    }
    let name = c.name().or_else(|| {
        phones
            .first()
            .map(|p| p.e164.clone().unwrap_or_else(|| p.raw.clone()))
    });
    Row {
        name,
        phones,
        emails,
        birthday: c.birthday,
        note: c.note.clone().filter(|n| !n.trim().is_empty()),
        given: c.given_name.clone(),
        family: c.family_name.clone(),
        status: ImportStatus::New,
        reason: String::new(),
        duplicate_of: None,
    }
}

fn client_by_phone(conn: &Connection, e164: &str) -> Result<Option<Uuid>> {
    Ok(conn
        .prepare_cached(
            "SELECT c.id FROM phone_keys k JOIN clients c ON c.rid = k.client_rid
             WHERE k.key = ?1 AND c.deleted = 0 LIMIT 1",
        )?
        .query_row(params![e164.trim_start_matches('+')], |r| r.get(0))
        .optional()?)
}

fn client_by_email(conn: &Connection, email: &str) -> Result<Option<Uuid>> {
    Ok(conn
        .prepare_cached("SELECT id FROM clients WHERE email_key = ?1 AND deleted = 0 LIMIT 1")?
        .query_row(params![fold(email)], |r| r.get(0))
        .optional()?)
}

fn client_by_name(conn: &Connection, name: &str) -> Result<Option<Uuid>> {
    Ok(conn
        .prepare_cached("SELECT id FROM clients WHERE sort_key = ?1 AND deleted = 0 LIMIT 1")?
        .query_row(params![fold(name)], |r| r.get(0))
        .optional()?)
}

/// Sorts every row; rows that repeat an earlier one are folded into it.
fn classify(conn: &Connection, ctx: &BusinessContext, contacts: &[Contact]) -> Result<Vec<Row>> {
    let mut rows: Vec<Row> = contacts.iter().map(|c| normalise(ctx, c)).collect();
    // First row of this batch holding each number / email / folded name.
    let mut by_phone: HashMap<String, usize> = HashMap::new();
    let mut by_email: HashMap<String, usize> = HashMap::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();

    for i in 0..rows.len() {
        let row = &rows[i];
        if row.name.is_none() && row.phones.is_empty() {
            rows[i].status = ImportStatus::Invalid;
            rows[i].reason = "no name and no number".into();
            continue;
        }
        let numbers: Vec<String> = row.phones.iter().filter_map(|p| p.e164.clone()).collect();
        let emails: Vec<String> = row.emails.iter().map(|e| fold(e)).collect();

        // A client already in the book?
        let mut existing = None;
        for n in &numbers {
            if let Some(id) = client_by_phone(conn, n)? {
                existing = Some((id, format!("number {n} is already in the book")));
                break;
            }
        }
        if existing.is_none() {
            for e in &emails {
                if let Some(id) = client_by_email(conn, e)? {
                    existing = Some((id, "email is already in the book".to_string()));
                    break;
                }
            }
        }
        if let Some((id, why)) = existing {
            rows[i].status = ImportStatus::Duplicate;
            rows[i].reason = why;
            rows[i].duplicate_of = Some(id.to_string());
            continue;
        }

        // An earlier row of this batch: the same person listed twice (or by a messaging app).
        let earlier = numbers
            .iter()
            .find_map(|n| by_phone.get(n).copied())
            .or_else(|| emails.iter().find_map(|e| by_email.get(e).copied()));
        if let Some(j) = earlier {
            let (phones, mails, birthday, note) = (
                rows[i].phones.clone(),
                rows[i].emails.clone(),
                rows[i].birthday,
                rows[i].note.clone(),
            );
            let first = &mut rows[j];
            for p in phones {
                if !first.phones.iter().any(|q| q.key() == p.key()) {
                    first.phones.push(Phone {
                        primary: false,
                        ..p
                    });
                }
            }
            for e in mails {
                if !first.emails.iter().any(|x| x.eq_ignore_ascii_case(&e)) {
                    first.emails.push(e);
                }
            }
            first.birthday = first.birthday.or(birthday);
            if first.note.is_none() {
                first.note = note;
            }
            rows[i].status = ImportStatus::Duplicate;
            rows[i].reason = match &contacts[i].account {
                Some(app) => format!("the same person as row {j} (a row added by {app})"),
                None => format!("the same person as row {j}"),
            };
            rows[i].duplicate_of = Some(format!("row:{j}"));
            continue;
        }

        let name_key = rows[i].name.as_deref().map(fold).unwrap_or_default();
        if let Some(id) = client_by_name(conn, &name_key)? {
            rows[i].status = ImportStatus::MergeCandidate;
            rows[i].reason = "a client with this name is in the book, with other numbers".into();
            rows[i].duplicate_of = Some(id.to_string());
        } else if let Some(&j) = by_name.get(&name_key) {
            rows[i].status = ImportStatus::MergeCandidate;
            rows[i].reason = format!("row {j} has this name, with other numbers");
            rows[i].duplicate_of = Some(format!("row:{j}"));
        } else {
            rows[i].status = ImportStatus::New;
        }
        for n in numbers {
            by_phone.entry(n).or_insert(i);
        }
        for e in emails {
            by_email.entry(e).or_insert(i);
        }
        by_name.entry(name_key).or_insert(i);
    }

    for r in rows
        .iter_mut()
        .filter(|r| r.status != ImportStatus::Invalid)
    {
        let unparsed: Vec<&str> = r
            .phones
            .iter()
            .filter(|p| p.e164.is_none())
            .map(|p| p.raw.as_str())
            .collect();
        if !unparsed.is_empty() {
            let note = format!("kept as typed, not a valid number: {}", unparsed.join(", "));
            r.reason = if r.reason.is_empty() {
                note
            } else {
                format!("{}; {note}", r.reason)
            };
        }
        if r.reason.is_empty() {
            r.reason = "not in the book".into();
        }
    }
    Ok(rows)
}

fn preview_of(rows: &[Row]) -> ImportPreview {
    let items: Vec<PreviewItem> = rows
        .iter()
        .enumerate()
        .map(|(row, r)| PreviewItem {
            row,
            name: r.name.clone(),
            phones: r
                .phones
                .iter()
                .map(|p| PreviewPhone {
                    e164: p.e164.clone(),
                    raw: p.raw.clone(),
                })
                .collect(),
            emails: r.emails.clone(),
            birthday: r.birthday,
            status: r.status,
            reason: r.reason.clone(),
            duplicate_of: r.duplicate_of.clone(),
        })
        .collect();
    let count = |s: ImportStatus| items.iter().filter(|i| i.status == s).count();
    ImportPreview {
        new: count(ImportStatus::New),
        duplicate: count(ImportStatus::Duplicate),
        merge_candidate: count(ImportStatus::MergeCandidate),
        invalid: count(ImportStatus::Invalid),
        items,
    }
}

impl Store {
    /// Sorts contacts into new / duplicate / merge candidate / invalid, changing nothing.
    pub fn preview_import(&self, contacts: &[Contact]) -> Result<ImportPreview> {
        Ok(preview_of(&classify(&self.conn, self.ctx()?, contacts)?))
    }

    /// Imports the picked rows (by default the `new` ones) as clients, in one transaction: all
    /// or nothing. Duplicates and invalid rows are never imported, so importing the same file
    /// twice adds nothing. `progress(done, total)` is called as rows are written.
    pub fn import_contacts(
        &mut self,
        contacts: &[Contact],
        picked: Option<&[usize]>,
        source: ClientSource,
        consent: Option<&BatchConsent>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportOutcome> {
        if consent.is_some_and(|c| c.channels.is_empty()) {
            return Err(Error::validation(
                "consent",
                "name the channels the batch agreed to",
            ));
        }
        if let Some(bad) = picked.and_then(|p| p.iter().find(|i| **i >= contacts.len())) {
            return Err(Error::validation(
                "row",
                format!("row {bad} is not in the input"),
            ));
        }
        let ctx = self.ctx()?.clone();
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows = classify(&tx, &ctx, contacts)?;
        let chosen: Vec<usize> = match picked {
            Some(p) => p.to_vec(),
            None => (0..rows.len())
                .filter(|i| rows[*i].status == ImportStatus::New)
                .collect(),
        };
        let mut created = Vec::new();
        let mut skipped = 0;
        for (done, i) in chosen.iter().enumerate() {
            let r = &rows[*i];
            if matches!(r.status, ImportStatus::Duplicate | ImportStatus::Invalid) {
                skipped += 1;
                continue;
            }
            let card = Card {
                name: r.name.clone().unwrap_or_default(),
                given_name: r.given.clone(),
                family_name: r.family.clone(),
                phones: r.phones.clone(),
                email: r.emails.first().cloned(),
                birthday: r.birthday,
                // A card holds one email; the others go into the comment rather than be lost.
                comment: match (&r.note, r.emails.get(1..).filter(|more| !more.is_empty())) {
                    (note, Some(more)) => Some(
                        [
                            note.clone(),
                            Some(format!("Other emails: {}", more.join(", "))),
                        ]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join("\n"),
                    ),
                    (note, None) => note.clone(),
                },
                class: ClientClass::Regular,
                tags: Vec::new(),
                loyalty_card: None,
                discount_percent: 0,
                source,
            };
            let id = Uuid::now_v7();
            let mut doc = client_doc::create(self.actor.clone(), id, &card, now)?;
            for channel in consent.map(|c| c.channels.as_slice()).unwrap_or_default() {
                let c = consent.expect("channels come from it");
                let ev = ConsentEvent {
                    id: Uuid::now_v7(),
                    subject: ConsentSubject::Channel(*channel),
                    granted: true,
                    at: now,
                    staff_id: self.staff_id,
                    device_id: self.device_id,
                    source: c.source,
                    note: c.note.clone(),
                };
                client_doc::record_consent(&mut doc, &ev)?;
            }
            docs::save(&tx, id, docs::Kind::Client, &doc)?;
            // Without consent events the record is known without reading the document back
            // (see `ClientRecord::of_new`): a third less work per imported contact.
            let record = match consent {
                None => ClientRecord::of_new(id, &card, now),
                Some(_) => client_doc::read(&doc, id)?,
            };
            projection::project_client(&tx, &record, true)?;
            created.push(id);
            progress(done + 1, chosen.len());
        }
        self.checkpointer.commit(tx)?;
        Ok(ImportOutcome { created, skipped })
    }
}
