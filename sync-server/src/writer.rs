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

    /// Creates document `doc` of `business` as `make` builds it with the server's actor; a
    /// document that exists already (a concurrent or earlier create) is left as it is.
    pub async fn create<S: Storage>(
        &self,
        storage: &S,
        business: Uuid,
        doc: Uuid,
        make: impl FnOnce(ActorId) -> kartka_core::Result<Automerge>,
    ) -> Result<(), StorageError> {
        let _one_at_a_time = self.lock.lock().await;
        if storage.read_doc(business, doc).await?.is_some() {
            return Ok(());
        }
        let d = make(self.actor.clone()).map_err(|e| StorageError::Rejected {
            doc,
            reason: e.to_string(),
        })?;
        storage
            .push(
                business,
                None,
                vec![Chunk {
                    doc,
                    data: d.save(),
                }],
            )
            .await?;
        Ok(())
    }

    /// Applies `apply(doc, item)` for every item to its document and stores all the changes in
    /// one push (one transaction, one feed row per document). Documents the business does not
    /// have are skipped. If the push is refused as a whole, each document is pushed alone, so
    /// one bad document cannot hold up the others.
    pub async fn edit_many<S: Storage, T>(
        &self,
        storage: &S,
        business: Uuid,
        items: Vec<(Uuid, T)>,
        apply: impl Fn(&mut Automerge, &T) -> kartka_core::Result<()>,
    ) -> Result<(), StorageError> {
        let _one_at_a_time = self.lock.lock().await;
        let mut ids: Vec<Uuid> = items.iter().map(|(d, _)| *d).collect();
        ids.sort();
        ids.dedup();
        let stored = storage.read_docs(business, ids).await?;
        let mut chunks = Vec::new();
        for (id, kind, bytes) in stored {
            // An outcome arriving for a client erased meanwhile has nowhere to go.
            if kind == "erased" {
                continue;
            }
            let Ok(d) = Automerge::load(&bytes) else {
                tracing::warn!(doc = %id, "server writer: a stored document does not load");
                continue;
            };
            let mut d = d.with_actor(self.actor.clone());
            let heads = d.get_heads();
            for (_, item) in items.iter().filter(|(doc, _)| *doc == id) {
                if let Err(e) = apply(&mut d, item) {
                    tracing::warn!(doc = %id, error = %e, "server writer: an edit failed");
                }
            }
            let changes = d.save_after(&heads);
            if !changes.is_empty() {
                chunks.push(Chunk {
                    doc: id,
                    data: changes,
                });
            }
        }
        if chunks.is_empty() {
            return Ok(());
        }
        match storage.push(business, None, chunks.clone()).await {
            Err(StorageError::Rejected { .. } | StorageError::ForeignDocument { .. }) => {
                for chunk in chunks {
                    let doc = chunk.doc;
                    if let Err(e) = storage.push(business, None, vec![chunk]).await {
                        tracing::warn!(%doc, error = %e, "server writer: a document refused its edit");
                    }
                }
                Ok(())
            }
            other => other.map(|_| ()),
        }
    }
}
