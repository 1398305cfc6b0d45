//! Writes every outcome into the client's history document as the server's own automerge
//! actor, so every device shows it in the client card after its next sync.
//!
//! A message's `recorded` column says which of its states the document already holds. The
//! recorder writes, then marks; a crash in between writes the same entry again, which leaves
//! the same history.

use std::sync::Arc;

use kartka_core::crdt::client as client_doc;
use kartka_core::model::{Channel, MessageKind, MessageRecord, MessageStatus};
use kartka_core::notify::plan::PlannedKind;

use super::Notifier;
use super::dispatch::at_ms;
use crate::storage::outbox::Message;
use crate::storage::{Storage, StorageError};

/// The history entry of a message as it stands.
pub fn entry(m: &Message) -> Option<MessageRecord> {
    let at = at_ms(m.updated_ms);
    Some(MessageRecord {
        id: m.id,
        client_id: m.client,
        channel: m.channel.parse::<Channel>().ok()?,
        kind: PlannedKind::parse(&m.kind).map_or(MessageKind::Automatic, |k| k.history_kind()),
        body: m.body.clone().unwrap_or_default(),
        at,
        staff_id: None,
        device_id: None,
        visit_id: m.visit,
        template_id: None,
        rule_id: (!m.rule.is_nil()).then_some(m.rule),
        status: m
            .state
            .parse::<MessageStatus>()
            .unwrap_or(MessageStatus::Uncertain),
        status_at: at,
        detail: m.detail.clone(),
    })
}

/// Records one batch. Returns how many messages it recorded.
pub async fn run_once<S: Storage>(n: &Arc<Notifier<S>>) -> Result<usize, StorageError> {
    let pending = n.storage.unrecorded(512).await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let mut by_business: std::collections::BTreeMap<uuid::Uuid, Vec<Message>> =
        std::collections::BTreeMap::new();
    for m in pending {
        by_business.entry(m.business).or_default().push(m);
    }
    let mut done = Vec::new();
    for (business, messages) in by_business {
        let edits: Vec<_> = messages
            .iter()
            .filter_map(|m| Some((m.client, entry(m)?)))
            .collect();
        n.writer
            .edit_many(&n.storage, business, edits, |doc, e| {
                client_doc::record_message(doc, e)
            })
            .await?;
        done.extend(messages.into_iter().map(|m| (m.id, m.state)));
    }
    let count = done.len();
    n.storage.mark_recorded(done).await?;
    Ok(count)
}
