//! What the server does with a message a client wrote, whichever provider carried it: the
//! message goes into the history of every card with that number (or Telegram chat), so every
//! device shows it; a short answer ("так", "nie", "2") confirms or cancels the client's next
//! visit (`kartka_core::notify::answer`); an opt-out withdraws consent for the channel, in the
//! same edit.
//!
//! Providers deliver a webhook again when they are unsure it arrived, and the server may die
//! half-way: every step is idempotent. The history entry's id is derived from the provider's
//! own message id, and a card that already holds it is left alone, so a redelivery confirms
//! nothing twice and cancels no second visit.

use kartka_core::crdt::client as client_doc;
use kartka_core::messaging::reply::{ReplyIntent, parse_reply};
use kartka_core::model::{
    Channel, ConsentEvent, ConsentSource, ConsentSubject, MessageKind, MessageRecord,
    MessageStatus, VisitStatus,
};
use kartka_core::notify::answer::answered_visit;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Notifier;
use crate::storage::{Storage, StorageError};

/// The longest inbound text kept in a history (a longer one is cut, and says so).
const MAX_BODY: usize = 4000;

/// One message from a client.
pub struct Inbound<'a> {
    /// The provider's id of the message, unique per provider (`twilio:SM…`, `wa:wamid…`).
    pub provider_id: String,
    /// `phone` (E.164) or `telegram` (chat id): how the sender is matched to cards.
    pub contact_kind: &'static str,
    pub from: &'a str,
    pub channel: Channel,
    pub text: &'a str,
}

/// What receiving did, for the webhook's log and tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Cards the message was recorded on.
    pub cards: usize,
    /// Visits whose status the reply changed, with the new status.
    pub answered: Vec<(Uuid, VisitStatus)>,
    pub opted_out: bool,
}

fn history_id(provider_id: &str, client: Uuid) -> Uuid {
    let h = Sha256::digest(format!("{provider_id}\n{client}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    uuid::Builder::from_custom_bytes(b).into_uuid()
}

fn body(text: &str) -> String {
    let t = text.trim();
    if t.chars().count() <= MAX_BODY {
        return t.to_string();
    }
    let mut cut: String = t.chars().take(MAX_BODY).collect();
    cut.push_str(" […]");
    cut
}

pub async fn receive<S: Storage>(
    n: &Notifier<S>,
    msg: Inbound<'_>,
) -> Result<Received, StorageError> {
    let intent = parse_reply(msg.text);
    let at = n.now();
    let mut out = Received::default();
    let cards = n
        .storage
        .clients_by_contact(msg.contact_kind, msg.from.to_string())
        .await?;
    if cards.is_empty() {
        // An unknown sender: kept by the provider's console for now; conversations with
        // strangers are their own piece of work.
        tracing::info!(channel = %msg.channel, "inbound message from no known client");
    }
    for (business, client) in cards {
        let id = history_id(&msg.provider_id, client);
        let answered = n
            .writer
            .edit(&n.storage, business, client, |d| {
                let rec = client_doc::read(d, client)?;
                if rec.messages.iter().any(|m| m.id == id) {
                    return Ok(None); // delivered before
                }
                let answered = intent
                    .and_then(|i| answered_visit(&rec, i, at))
                    .map(|(v, to)| (v.clone(), to));
                let entry = MessageRecord {
                    id,
                    client_id: client,
                    channel: msg.channel,
                    kind: MessageKind::Inbound,
                    body: body(msg.text),
                    at,
                    staff_id: None,
                    device_id: None,
                    visit_id: answered.as_ref().map(|(v, _)| v.id),
                    template_id: None,
                    rule_id: None,
                    status: MessageStatus::Received,
                    status_at: at,
                    detail: answered.as_ref().map(|(_, to)| match to {
                        VisitStatus::Confirmed => "confirmed the visit".to_string(),
                        _ => "cancelled the visit".to_string(),
                    }),
                };
                client_doc::put_message(d, &entry)?;
                if msg.channel == Channel::Whatsapp {
                    // The client wrote: WhatsApp's 24 h window for free text opens.
                    client_doc::set_whatsapp_last_inbound(d, at)?;
                }
                if intent == Some(ReplyIntent::Stop) {
                    // In the same edit as the history entry: recorded once, never lost
                    // between the two.
                    client_doc::record_consent(
                        d,
                        &ConsentEvent {
                            id: history_id(&format!("{}:stop", msg.provider_id), client),
                            subject: ConsentSubject::Channel(msg.channel),
                            granted: false,
                            at,
                            staff_id: None,
                            // The nil device: the server itself recorded it.
                            device_id: Uuid::nil(),
                            source: ConsentSource::ClientReply,
                            note: format!("replied \"{}\" on {}", msg.text.trim(), msg.channel)
                                .chars()
                                .take(200)
                                .collect(),
                        },
                    )?;
                }
                if let Some((old, to)) = &answered {
                    let mut new = old.clone();
                    new.status = *to;
                    new.updated_at = at;
                    client_doc::put_visit(d, client, Some(old), &new, at)?;
                }
                Ok(answered.map(|(v, to)| (v.id, to)))
            })
            .await?;
        out.cards += 1;
        if let Some(Some(a)) = answered {
            tracing::info!(visit = %a.0, status = %a.1, "a client answered by message");
            out.answered.push(a);
        }
    }
    out.opted_out = intent == Some(ReplyIntent::Stop);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_ids_are_stable_per_message_and_card() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(history_id("twilio:SM1", a), history_id("twilio:SM1", a));
        assert_ne!(history_id("twilio:SM1", a), history_id("twilio:SM1", b));
        assert_ne!(history_id("twilio:SM1", a), history_id("twilio:SM2", a));
    }

    #[test]
    fn long_bodies_are_cut_and_say_so() {
        let long = "я".repeat(MAX_BODY + 10);
        let b = body(&long);
        assert!(b.ends_with(" […]"));
        assert_eq!(b.chars().count(), MAX_BODY + 4);
        assert_eq!(body("  Так  "), "Так");
    }
}
