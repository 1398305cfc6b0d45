//! The server writing into documents as its own automerge actor: delivery statuses and the
//! message log (the notifications issue uses it), pushed through the same path as a device's
//! changes, with no origin device, so every device pulls them.
//!
//! Each process has its own random actor, and this process's edits are serialised: an actor
//! must never make two different changes with the same sequence number, which two concurrent
//! edits from one stale copy would. Edits from different processes are different actors and
//! merge like any concurrent edits.

use automerge::{ActorId, Automerge};
use kartka_core::sync::wire::Chunk;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::storage::{Storage, StorageError};

pub struct ServerWriter {
    actor: ActorId,
    lock: Mutex<()>,
}

impl Default for ServerWriter {
    fn default() -> Self {
        ServerWriter {
            actor: ActorId::random(),
            lock: Mutex::new(()),
        }
    }
}

impl ServerWriter {
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// Applies `edit` to document `doc` of `business` and stores the change. `Ok(None)` when the
    /// business has no such document.
    pub async fn edit<S: Storage, T>(
        &self,
        storage: &S,
        business: Uuid,
        doc: Uuid,
        edit: impl FnOnce(&mut Automerge) -> kartka_core::Result<T>,
    ) -> Result<Option<T>, StorageError> {
        let _one_at_a_time = self.lock.lock().await;
        let Some(bytes) = storage.read_doc(business, doc).await? else {
            return Ok(None);
        };
        let rejected = |e: &dyn std::fmt::Display| StorageError::Rejected {
            doc,
            reason: e.to_string(),
        };
        let mut d = Automerge::load(&bytes)
            .map_err(|e| rejected(&e))?
            .with_actor(self.actor.clone());
        let heads = d.get_heads();
        let out = edit(&mut d).map_err(|e| rejected(&e))?;
        let changes = d.save_after(&heads);
        if !changes.is_empty() {
            storage
                .push(business, None, vec![Chunk { doc, data: changes }])
                .await?;
        }
        Ok(Some(out))
    }
}
