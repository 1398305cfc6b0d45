//! What the server does with a message a client wrote, whichever provider carried it: the
//! message goes into the history of every card with that number (or Telegram chat), so every
//! device shows it; a short answer ("так", "nie", "2") confirms or cancels the client's next
//! visit (`kartka_core::notify::answer`); an opt-out withdraws consent for the channel, in the
//! same edit.
//!
//! Every message also makes the client's conversation unanswered (unless it was a short answer
//! the server acted on), so it shows in every staff member's inbox. Someone who writes without
//! being a client of the business becomes a *lead*: a card made here, outside the book, with the
//! number or chat and the message, for a master to attach to a client or take in.
//!
//! Providers deliver a webhook again when they are unsure it arrived, and the server may die
//! half-way: every step is idempotent. The history entry's id is derived from the provider's
//! own message id, and a card that already holds it is left alone, so a redelivery confirms
//! nothing twice and cancels no second visit.

use chrono::{DateTime, Utc};
use kartka_core::crdt::client::{self as client_doc, Card, ClientRecord};
use kartka_core::messaging::reply::{ReplyIntent, parse_reply};
use kartka_core::model::{
    Channel, ClientClass, ClientSource, ConsentEvent, ConsentSource, ConsentSubject, Conversation,
    ConversationStatus, MessageKind, MessageRecord, MessageStatus, Phone, Visit, VisitStatus,
};
use kartka_core::notify::answer::answered_visit;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Notifier;
use crate::storage::outbox::{Unattributed, Writer};
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
    /// What it was sent to, where the provider says (Twilio's `To`, WhatsApp's
    /// `phone_number_id`): a business's own sender names that business.
    pub to: Option<&'a str>,
    /// The name the sender goes by at the provider (a WhatsApp profile, a Telegram name).
    pub name: Option<&'a str>,
}

/// What receiving did, for the webhook's log and tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Cards the message was recorded on.
    pub cards: usize,
    /// The lead made (or found) for an unknown sender.
    pub lead: Option<Uuid>,
    /// Visits whose status the reply changed, with the new status.
    pub answered: Vec<(Uuid, VisitStatus)>,
    pub opted_out: bool,
    /// The business it was attributed to; `None`: kept for no business.
    pub business: Option<Uuid>,
}

/// Which visits a short answer may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// The next visit of any card with that number: a message to the business's own number,
    /// or to the only business here, when it asked nothing recently.
    Any,
    /// Only this client's: the visit it asked about, or (a message about no visit) their next.
    Client(Uuid, Option<Uuid>),
    /// None: a message kept for no business and taken later answers nothing it was not asked.
    Nothing,
}

impl From<&Writer> for Asked {
    fn from(w: &Writer) -> Asked {
        Asked::Client(w.client, w.visit)
    }
}

enum Route {
    To { business: Uuid, asked: Asked },
    Nobody,
}

pub(crate) fn history_id(provider_id: &str, client: Uuid) -> Uuid {
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
    let writers = n.storage.writers(msg.from.to_string()).await?;
    let mut out = match route(n, &msg, &writers).await? {
        Route::To { business, asked } => deliver(n, &msg, business, asked, intent).await?,
        Route::Nobody => {
            let kept = n
                .storage
                .keep_unattributed(Unattributed {
                    provider_id: msg.provider_id.clone(),
                    address: msg.from.to_string(),
                    channel: msg.channel.to_string(),
                    contact_kind: msg.contact_kind.to_string(),
                    body: body(msg.text),
                    name: msg.name.map(|s| s.chars().take(100).collect()),
                    at_ms: n.now().timestamp_millis(),
                })
                .await?;
            if kept {
                tracing::info!(channel = %msg.channel, "a message for no single business: kept");
            }
            Received::default()
        }
    };
    if intent == Some(ReplyIntent::Stop) {
        // Every other business that wrote to this number hears the opt-out too (the consent
        // only: the words stay with the business they were written to).
        let mut told: Vec<Uuid> = out.business.into_iter().collect();
        let evidence = format!("replied \"{}\" on {}", msg.text.trim(), msg.channel);
        for w in &writers {
            if told.contains(&w.business) {
                continue;
            }
            told.push(w.business);
            let cards = n
                .storage
                .clients_by_contact(msg.contact_kind, msg.from.to_string())
                .await?;
            for (_, client) in cards.into_iter().filter(|(b, _)| *b == w.business) {
                n.withdraw(w.business, client, msg.channel, &evidence).await;
                n.withdraw(w.business, client, Channel::Marketing, &evidence)
                    .await;
            }
        }
        out.opted_out = true;
    }
    Ok(out)
}

/// Whose message it is (the order is in the module's documentation).
async fn route<S: Storage>(
    n: &Notifier<S>,
    msg: &Inbound<'_>,
    writers: &[Writer],
) -> Result<Route, StorageError> {
    let since = n.now().timestamp_millis() - n.config.reply_window_hours as i64 * 3_600_000;
    // A send is answered on the number it went from: a business with a number of its own is
    // not answered on the shared one.
    let answers = |w: &&Writer| {
        w.channel == msg.channel.as_str()
            && w.at_ms >= since
            && n.config
                .sender_of(w.business, msg.channel)
                .is_none_or(|own| msg.to == Some(own))
    };
    if let Some(business) = msg.to.and_then(|to| n.config.owner_of(msg.channel, to)) {
        let asked = writers
            .iter()
            .filter(answers)
            .find(|w| w.business == business)
            .map_or(Asked::Any, Asked::from);
        return Ok(Route::To { business, asked });
    }
    if let Some(w) = writers.iter().find(answers) {
        return Ok(Route::To {
            business: w.business,
            asked: Asked::from(w),
        });
    }
    let hosted = n.storage.sched_businesses().await?;
    if let [(only, _, _)] = hosted[..] {
        return Ok(Route::To {
            business: only,
            asked: Asked::Any,
        });
    }
    if msg.contact_kind == "telegram" {
        // A chat is bound to a card only through a business's signed start link (or as the
        // lead of a message it was given): the chat chose that business.
        let mut bound: Vec<Uuid> = n
            .storage
            .clients_by_contact(msg.contact_kind, msg.from.to_string())
            .await?
            .into_iter()
            .map(|(b, _)| b)
            .collect();
        bound.sort();
        bound.dedup();
        if let [only] = bound[..] {
            return Ok(Route::To {
                business: only,
                asked: Asked::Any,
            });
        }
    }
    Ok(Route::Nobody)
}

/// A business is writing to `address` on `channel`: the messages kept for no business from
/// there become its own. They answer nothing: it had not asked yet.
pub async fn adopt<S: Storage>(
    n: &Notifier<S>,
    business: Uuid,
    channel: Channel,
    address: &str,
) -> Result<usize, StorageError> {
    let kept = n
        .storage
        .take_unattributed(address.to_string(), channel.to_string())
        .await?;
    let count = kept.len();
    let mut rest = kept.into_iter();
    while let Some(u) = rest.next() {
        let msg = Inbound {
            provider_id: u.provider_id.clone(),
            contact_kind: if u.contact_kind == "telegram" {
                "telegram"
            } else {
                "phone"
            },
            from: &u.address,
            channel,
            text: &u.body,
            to: None,
            name: u.name.as_deref(),
        };
        let intent = parse_reply(&u.body);
        if let Err(e) = deliver(n, &msg, business, Asked::Nothing, intent).await {
            // Not lost: kept for no business again, this one and those after it.
            for back in std::iter::once(u).chain(rest) {
                n.storage.keep_unattributed(back).await?;
            }
            return Err(e);
        }
    }
    if count > 0 {
        tracing::info!(%business, %channel, count, "kept messages taken by the business that wrote");
    }
    Ok(count)
}

/// Which visit a short answer changes on `rec`, if `asked` lets it change one.
fn answer(
    rec: &ClientRecord,
    asked: Asked,
    intent: ReplyIntent,
    at: DateTime<Utc>,
) -> Option<(&Visit, VisitStatus)> {
    match asked {
        Asked::Any => answered_visit(rec, intent, at),
        Asked::Client(c, _) if c != rec.id => None,
        Asked::Client(_, None) => answered_visit(rec, intent, at),
        Asked::Client(_, Some(visit)) => {
            // The visit it asked about, even when another comes sooner.
            let mut only = rec.clone();
            only.visits.retain(|v| v.id == visit);
            let to = answered_visit(&only, intent, at)?.1;
            rec.visits.iter().find(|v| v.id == visit).map(|v| (v, to))
        }
        Asked::Nothing => None,
    }
}

/// Records the message on the business's cards with that number or chat (or on a lead),
/// answering only what was asked.
async fn deliver<S: Storage>(
    n: &Notifier<S>,
    msg: &Inbound<'_>,
    business: Uuid,
    asked: Asked,
    intent: Option<ReplyIntent>,
) -> Result<Received, StorageError> {
    let at = n.now();
    let mut out = Received {
        business: Some(business),
        ..Received::default()
    };
    let mut cards: Vec<Uuid> = n
        .storage
        .clients_by_contact(msg.contact_kind, msg.from.to_string())
        .await?
        .into_iter()
        .filter(|(b, _)| *b == business)
        .map(|(_, c)| c)
        .collect();
    if cards.is_empty() {
        match lead(n, msg, business).await? {
            Some(card) => {
                out.lead = Some(card);
                cards.push(card);
            }
            None => return Ok(out),
        }
    }
    for client in cards {
        let id = history_id(&msg.provider_id, client);
        let answered = n
            .writer
            .edit(&n.storage, business, client, |d| {
                let rec = client_doc::read(d, client)?;
                if rec.messages.iter().any(|m| m.id == id) {
                    return Ok(None); // delivered before
                }
                let answered = intent
                    .and_then(|i| answer(&rec, asked, i, at))
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
                client_doc::set_message_from(d, id, msg.from, at)?;
                if msg.channel == Channel::Whatsapp {
                    // The client wrote: WhatsApp's 24 h window for free text opens.
                    client_doc::set_whatsapp_last_inbound(d, at)?;
                }
                if intent == Some(ReplyIntent::Stop) {
                    // In the same edit as the history entry: recorded once, never lost
                    // between the two. An opt-out ends mailings too, on every channel: someone
                    // who says "stop" or "unsubscribe" wants no more offers, however sent.
                    for (subject, tag) in [
                        (ConsentSubject::Channel(msg.channel), "stop"),
                        (
                            ConsentSubject::Channel(Channel::Marketing),
                            "stop-marketing",
                        ),
                    ] {
                        client_doc::record_consent(
                            d,
                            &ConsentEvent {
                                id: history_id(&format!("{}:{tag}", msg.provider_id), client),
                                subject,
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
                }
                if let Some((old, to)) = &answered {
                    let mut new = old.clone();
                    new.status = *to;
                    new.updated_at = at;
                    client_doc::put_visit(d, client, Some(old), &new, at)?;
                } else {
                    // Something for a person to read: the conversation waits for an answer,
                    // with whoever had it.
                    client_doc::set_conversation(
                        d,
                        &Conversation {
                            status: ConversationStatus::Unanswered,
                            since: at,
                            until: None,
                            staff_id: rec.conversation.as_ref().and_then(|c| c.staff_id),
                        },
                    )?;
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

/// The lead card for an unknown sender: one per business and number (or chat), so a second
/// message before the scheduler has indexed the first finds the same card. Consent starts off,
/// as for every new card: writing to a business is not consent to be written to.
async fn lead<S: Storage>(
    n: &Notifier<S>,
    msg: &Inbound<'_>,
    business: Uuid,
) -> Result<Option<Uuid>, StorageError> {
    let from = format!("lead:{}:{}", msg.contact_kind, msg.from);
    let mut id = history_id(&from, business);
    if let Some(bytes) = n.storage.read_doc(business, id).await? {
        let live = automerge::Automerge::load(&bytes)
            .ok()
            .and_then(|d| client_doc::read(&d, id).ok())
            .is_some_and(|r| !r.deleted && r.merged_into.is_none());
        if live {
            return Ok(Some(id));
        }
        // That lead was attached or dismissed, and the number has since left the card: a
        // new lead, keyed by this message so a redelivery finds it.
        id = history_id(&format!("{from}:{}", msg.provider_id), business);
        if n.storage.read_doc(business, id).await?.is_some() {
            return Ok(Some(id));
        }
    }
    if n.lead_limit.check_key(&business).is_err() {
        // A flood of strangers (spam): past the hourly allowance nothing more is made.
        tracing::warn!(%business, "too many new leads this hour: a stranger's message dropped");
        return Ok(None);
    }
    let at = n.now();
    let phones = match msg.contact_kind {
        "phone" => vec![Phone {
            raw: msg.from.to_string(),
            e164: Some(msg.from.to_string()),
            label: "mobile".into(),
            primary: true,
        }],
        _ => Vec::new(),
    };
    let name = msg
        .name
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(msg.from)
        .chars()
        .take(100)
        .collect();
    let card = Card {
        name,
        given_name: None,
        family_name: None,
        phones,
        email: None,
        birthday: None,
        comment: None,
        class: ClientClass::Regular,
        tags: Vec::new(),
        loyalty_card: None,
        discount_percent: 0,
        source: ClientSource::Message,
    };
    let telegram = (msg.contact_kind == "telegram").then_some(msg.from);
    n.writer
        .create(&n.storage, business, id, |actor| {
            let mut d = client_doc::create(actor, id, &card, at)?;
            client_doc::set_lead(&mut d, true, at)?;
            if let Some(chat) = telegram {
                client_doc::bind_telegram(&mut d, chat, at)?;
            }
            Ok(d)
        })
        .await?;
    tracing::info!(channel = %msg.channel, lead = %id, "an unknown sender became a lead");
    Ok(Some(id))
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
