//! Merging two cards of one person at the FFI edge: a preview of what the kept card will hold,
//! the merge, and its undo (until the merge is synced).

use std::collections::HashMap;

use kartka_core::store::{MergePreview, UndoableMerge};

use crate::{ApiError, ClientBook, PhoneRec, id};

#[derive(uniffi::Record)]
pub struct MergePreviewRec {
    pub kept_id: String,
    pub merged_id: String,
    pub name: String,
    pub phones: Vec<PhoneRec>,
    pub email: Option<String>,
    pub tags: Vec<String>,
    pub visits: u32,
    pub messages: u32,
    /// Channel → granted after the merge: the stricter of the two cards.
    pub consent: HashMap<String, bool>,
    /// Channels the kept card loses because the other card had no consent to them.
    pub withdrawn: Vec<String>,
}

impl From<MergePreview> for MergePreviewRec {
    fn from(p: MergePreview) -> Self {
        MergePreviewRec {
            kept_id: p.kept.to_string(),
            merged_id: p.merged.to_string(),
            name: p.name,
            phones: p.phones.into_iter().map(Into::into).collect(),
            email: p.email,
            tags: p.tags,
            visits: p.visits as u32,
            messages: p.messages as u32,
            consent: p
                .consent
                .into_iter()
                .map(|(c, g)| (c.as_str().to_string(), g))
                .collect(),
            withdrawn: p.withdrawn.iter().map(|c| c.as_str().to_string()).collect(),
        }
    }
}

#[derive(uniffi::Record)]
pub struct UndoableMergeRec {
    /// Give it to `undo_merge`.
    pub undo_id: String,
    pub kept_id: String,
    pub merged_id: String,
    /// RFC 3339.
    pub at: String,
}

impl From<UndoableMerge> for UndoableMergeRec {
    fn from(u: UndoableMerge) -> Self {
        UndoableMergeRec {
            undo_id: u.undo.to_string(),
            kept_id: u.kept.to_string(),
            merged_id: u.merged.to_string(),
            at: u.at.to_rfc3339(),
        }
    }
}

#[uniffi::export]
impl ClientBook {
    /// What merging `other_id` into `keep_id` would give, without changing anything.
    pub fn preview_merge(
        &self,
        keep_id: String,
        other_id: String,
    ) -> Result<MergePreviewRec, ApiError> {
        Ok(self
            .store()?
            .preview_merge(id(&keep_id)?, id(&other_id)?)?
            .into())
    }

    /// Merges `other_id` into `keep_id`; returns the id that undoes it until the next sync.
    pub fn merge_clients(&self, keep_id: String, other_id: String) -> Result<String, ApiError> {
        let (keep, other) = (id(&keep_id)?, id(&other_id)?);
        let undo = self.store()?.merge_clients(keep, other)?.undo;
        self.notify(vec![keep, other]);
        Ok(undo.to_string())
    }

    /// Puts both cards back as they were before the merge (refused once it was synced).
    pub fn undo_merge(&self, undo_id: String) -> Result<(), ApiError> {
        let undone = {
            let mut s = self.store()?;
            let u = id(&undo_id)?;
            let m = s
                .undoable_merges()?
                .into_iter()
                .find(|m| m.undo == u)
                .map(|m| vec![m.kept, m.merged]);
            s.undo_merge(u)?;
            m.unwrap_or_default()
        };
        self.notify(undone);
        Ok(())
    }

    /// Merges that can still be undone (not yet synced).
    pub fn undoable_merges(&self) -> Result<Vec<UndoableMergeRec>, ApiError> {
        Ok(self
            .store()?
            .undoable_merges()?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
