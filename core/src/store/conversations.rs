//! Conversations: what clients write and how the business answers. A client's messages and the
//! replies form one thread on the card; the conversation's status (unanswered, open, postponed
//! until a time, closed) and who has it are fields of the client's document, so every staff
//! member's inbox agrees. Staff notes ("Olena took it", "closed: booked for Friday") are kept
//! beside the thread and never sent.
//!
//! A reply goes out through the server's gateways: the device writes it into the history as
//! `queued`, and the server sends it once it has synced (at most once: the history entry's id is
//! the outbox message's id). Consent is checked here and again by the server when it sends.
//! WhatsApp allows free text only within 24 hours of the client's last message; outside that
//! window only a template the business has approved with WhatsApp goes.
//!
//! Someone who writes without being a client becomes a *lead*: a card the server makes, kept out
//! of the book until a master attaches it to a client or takes it in as a new one.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{TransactionBehavior, params};
use serde::Serialize;
use uuid::Uuid;

use super::{Page, Store, clients::with_client, docs, projection};
use crate::crdt::client::{self as client_doc, Card};
use crate::error::{Error, Result};
use crate::model::{
    Channel, Conversation, ConversationStatus, MessageKind, MessageRecord, MessageStatus, Note,
};

/// How long after a client's last WhatsApp message free text may be sent (Meta's rule).
pub const WHATSAPP_WINDOW_HOURS: i64 = 24;

/// One line of the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxEntry {
    pub client_id: Uuid,
    pub name: String,
    /// An unknown sender, not yet a client.
    pub lead: bool,
    /// As it reads now: a postponement that ran out reads as unanswered.
    pub status: ConversationStatus,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub staff_id: Option<Uuid>,
    /// The thread's latest message.
    pub last_channel: Option<Channel>,
    pub last_kind: Option<MessageKind>,
    pub last_body: Option<String>,
    pub last_at: Option<DateTime<Utc>>,
}

/// A change of a conversation by a master.
#[derive(Debug, Clone, Default)]
pub struct ConversationChange {
    pub status: Option<ConversationStatus>,
    /// With `Postponed`: when it comes back.
    pub until: Option<DateTime<Utc>>,
    /// `Some(None)`: nobody has it any more.
    pub assign: Option<Option<Uuid>>,
}

/// What a reply says.
#[derive(Debug, Clone)]
pub enum ReplyText {
    Text(String),
    /// A business template, rendered for the client; the only kind of message WhatsApp delivers
    /// outside its 24-hour window, when the template names its approved WhatsApp counterpart.
    Template(Uuid),
}

fn ms(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t).unwrap_or_default()
}

impl Store {
    /// When free text on WhatsApp stops being allowed for this client (24 h after their last
    /// WhatsApp message), or `None` when the window is closed.
    pub fn whatsapp_window(&self, client: Uuid) -> Result<Option<DateTime<Utc>>> {
        let rid = self.rid(client)?;
        let last: Option<i64> = self.conn.query_row(
            "SELECT max(at) FROM messages
             WHERE client_rid = ?1 AND channel = 'whatsapp' AND kind = 'inbound'",
            params![rid],
            |r| r.get(0),
        )?;
        Ok(last
            .map(|t| ms(t) + Duration::hours(WHATSAPP_WINDOW_HOURS))
            .filter(|until| *until > self.now()))
    }

    /// Queues a reply for the server to send through its gateway on `channel`. Refused without
    /// consent on the channel, without an address for it, on WhatsApp outside the 24-hour window
    /// unless the text is an approved template, and on channels the server has no gateway for.
    /// The conversation becomes open, and this device's staff member takes it if nobody has.
    pub fn reply(
        &mut self,
        client: Uuid,
        channel: Channel,
        text: ReplyText,
    ) -> Result<MessageRecord> {
        channel.check_sendable()?;
        if channel == Channel::Viber {
            return Err(Error::validation(
                "channel",
                "the server cannot send Viber messages: use the card's Viber button",
            ));
        }
        let c = self.get_client(client)?;
        let (body, template) = match text {
            ReplyText::Text(t) => (t.trim().to_string(), None),
            ReplyText::Template(id) => (self.render_template(id, &c, None)?, Some(id)),
        };
        if body.is_empty() {
            return Err(Error::validation("text", "a message needs some text"));
        }
        if channel == Channel::Whatsapp && self.whatsapp_window(client)?.is_none() {
            let approved = template.is_some_and(|id| {
                self.business()
                    .ok()
                    .and_then(|b| b.templates.into_iter().find(|t| t.id == id))
                    .is_some_and(|t| t.whatsapp.is_some())
            });
            if !approved {
                return Err(Error::WhatsAppWindowClosed);
            }
        }
        let now = self.now();
        let record = MessageRecord {
            id: Uuid::now_v7(),
            client_id: client,
            channel,
            kind: MessageKind::Reply,
            body,
            at: now,
            staff_id: self.staff_id,
            device_id: Some(self.device_id),
            visit_id: None,
            template_id: template,
            rule_id: None,
            status: MessageStatus::Queued,
            status_at: now,
            detail: None,
        };
        let staff = self.staff_id;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, client, |doc, rec| {
            if !rec.consent.granted(channel) {
                return Err(Error::NoConsent { channel });
            }
            let has_address = match channel {
                Channel::Email => rec.card.email.is_some(),
                Channel::Telegram => client_doc::telegram_chat(doc).is_some(),
                _ => rec.card.phones.iter().any(|p| p.e164.is_some()),
            };
            if !has_address {
                return Err(Error::NoAddress {
                    what: match channel {
                        Channel::Email => "email address",
                        Channel::Telegram => "Telegram chat (the client has not started the bot)",
                        _ => "phone number",
                    },
                });
            }
            client_doc::put_message(doc, &record)?;
            let conv = rec.conversation.clone();
            if conv
                .as_ref()
                .is_none_or(|c| c.status != ConversationStatus::Open)
            {
                client_doc::set_conversation(
                    doc,
                    &Conversation {
                        status: ConversationStatus::Open,
                        since: now,
                        until: None,
                        staff_id: conv.and_then(|c| c.staff_id).or(staff),
                    },
                )?;
            }
            Ok(())
        })?;
        self.checkpointer.commit(tx)?;
        Ok(record)
    }

    /// Changes a conversation's status or who has it, with a note saying who did what (staff
    /// see it on every device; the client never does).
    pub fn change_conversation(&mut self, client: Uuid, change: ConversationChange) -> Result<()> {
        if change.status == Some(ConversationStatus::Postponed)
            && change.until.is_none_or(|t| t <= self.now())
        {
            return Err(Error::validation(
                "until",
                "a postponed conversation needs a time in the future to come back",
            ));
        }
        let business = self.business()?;
        let name = |id: Option<Uuid>| match id {
            Some(id) => business
                .staff
                .iter()
                .find(|s| s.id == id)
                .map_or_else(|| "a staff member".to_string(), |s| s.name.clone()),
            None => "a master".to_string(),
        };
        let me = name(self.staff_id);
        let zone = self.zone()?;
        let now = self.now();
        let (staff, device) = (self.staff_id, self.device_id);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, client, |doc, rec| {
            let old = rec.conversation.clone();
            let status = change
                .status
                .or(old.as_ref().map(|c| c.status))
                .unwrap_or(ConversationStatus::Open);
            let assigned = match change.assign {
                Some(a) => a,
                None => old.as_ref().and_then(|c| c.staff_id),
            };
            let until = (status == ConversationStatus::Postponed)
                .then(|| change.until.or(old.as_ref().and_then(|c| c.until)))
                .flatten();
            let mut said = Vec::new();
            if change.assign.is_some() && old.as_ref().and_then(|c| c.staff_id) != assigned {
                said.push(match assigned {
                    Some(a) if Some(a) == staff => format!("{me} took the conversation"),
                    Some(a) => format!("{me} gave the conversation to {}", name(Some(a))),
                    None => format!("{me} let the conversation go"),
                });
            }
            if change.status.is_some() && old.as_ref().map(|c| c.status) != Some(status) {
                said.push(match status {
                    ConversationStatus::Closed => format!("{me} closed the conversation"),
                    ConversationStatus::Postponed => format!(
                        "{me} postponed the conversation until {}",
                        until
                            .map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_default()
                    ),
                    ConversationStatus::Open => format!("{me} opened the conversation"),
                    ConversationStatus::Unanswered => {
                        format!("{me} marked the conversation unanswered")
                    }
                });
            }
            client_doc::set_conversation(
                doc,
                &Conversation {
                    status,
                    since: now,
                    until,
                    staff_id: assigned,
                },
            )?;
            for body in said {
                client_doc::put_note(
                    doc,
                    &Note {
                        id: Uuid::now_v7(),
                        client_id: client,
                        body,
                        at: now,
                        staff_id: staff,
                        device_id: Some(device),
                    },
                )?;
            }
            Ok(())
        })?;
        self.checkpointer.commit(tx)
    }

    /// A staff note on the client's conversation: never sent to the client.
    pub fn add_note(&mut self, client: Uuid, text: &str) -> Result<Note> {
        let body = text.trim();
        if body.is_empty() {
            return Err(Error::validation("text", "a note needs some text"));
        }
        let note = Note {
            id: Uuid::now_v7(),
            client_id: client,
            body: body.to_string(),
            at: self.now(),
            staff_id: self.staff_id,
            device_id: Some(self.device_id),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, client, |doc, _| {
            client_doc::put_note(doc, &note)
        })?;
        self.checkpointer.commit(tx)?;
        Ok(note)
    }

    /// The staff notes on a client, oldest first.
    pub fn notes(&self, client: Uuid) -> Result<Vec<Note>> {
        let rid = self.rid(client)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, body, at, staff_id, device_id FROM notes WHERE client_rid = ?1
             ORDER BY at, id",
        )?;
        let rows = stmt.query_map(params![rid], |r| {
            Ok(Note {
                id: r.get(0)?,
                client_id: client,
                body: r.get(1)?,
                at: ms(r.get(2)?),
                staff_id: r.get(3)?,
                device_id: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The conversations, latest change first; with `status`, only those reading so now.
    pub fn inbox(&self, status: Option<ConversationStatus>, page: Page) -> Result<Vec<InboxEntry>> {
        let now = self.now();
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, c.name, c.lead, c.conv_status, c.conv_at, c.conv_until, c.conv_staff,
                    m.channel, m.kind, m.body, m.at
             FROM clients c
             LEFT JOIN messages m ON m.id = (SELECT id FROM messages WHERE client_rid = c.rid
                                             ORDER BY at DESC, id DESC LIMIT 1)
             WHERE c.conv_status IS NOT NULL
             ORDER BY c.conv_at DESC, c.id",
        )?;
        let rows = stmt.query_map([], |r| {
            let status: String = r.get(3)?;
            let channel: Option<String> = r.get(7)?;
            let kind: Option<String> = r.get(8)?;
            Ok((
                Conversation {
                    status: status.parse().unwrap_or(ConversationStatus::Unanswered),
                    since: ms(r.get(4)?),
                    until: r.get::<_, Option<i64>>(5)?.map(ms),
                    staff_id: r.get(6)?,
                },
                InboxEntry {
                    client_id: r.get(0)?,
                    name: r.get(1)?,
                    lead: r.get(2)?,
                    status: ConversationStatus::Unanswered,
                    since: DateTime::default(),
                    until: None,
                    staff_id: None,
                    last_channel: channel.and_then(|c| c.parse().ok()),
                    last_kind: kind.and_then(|k| k.parse().ok()),
                    last_body: r.get(9)?,
                    last_at: r.get::<_, Option<i64>>(10)?.map(ms),
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (conv, entry) = row?;
            let now_status = conv.status_at(now);
            if status.is_some_and(|s| s != now_status) {
                continue;
            }
            out.push(InboxEntry {
                status: now_status,
                since: conv.since,
                until: conv.until,
                staff_id: conv.staff_id,
                ..entry
            });
        }
        Ok(out
            .into_iter()
            .skip(page.offset as usize)
            .take(page.limit as usize)
            .collect())
    }

    /// Attaches an unknown sender's conversation to an existing client: the number (or
    /// Telegram chat) it came from, its messages, notes and status move to the client, and the
    /// lead is left as a pointer to it. Consent is not copied: writing to a business is not
    /// consent to be written to.
    pub fn attach_lead(&mut self, lead: Uuid, client: Uuid) -> Result<()> {
        if lead == client {
            return Err(Error::validation(
                "client",
                "a lead cannot be attached to itself",
            ));
        }
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (lead_rec, chat, froms) = {
            let doc = docs::load(&tx, lead, &self.actor)?.ok_or(Error::NotFound {
                kind: "client",
                id: lead,
            })?;
            let rec = client_doc::read(&doc, lead)?;
            // Where each message came from: a reply goes back there.
            let froms: Vec<(Uuid, String)> = rec
                .messages
                .iter()
                .filter_map(|m| Some((m.id, client_doc::message_from(&doc, m.id)?)))
                .collect();
            (rec, client_doc::telegram_chat(&doc), froms)
        };
        if !lead_rec.lead || lead_rec.merged_into.is_some() {
            return Err(Error::validation("lead", "not an unattached lead"));
        }
        // The lead first becomes a pointer, so its messages leave the projection before the
        // client takes them in under the same ids.
        {
            let mut doc = docs::load(&tx, lead, &self.actor)?.ok_or(Error::NotFound {
                kind: "client",
                id: lead,
            })?;
            client_doc::mark_merged(&mut doc, client, now)?;
            docs::save(&tx, lead, docs::Kind::Client, &doc)?;
            projection::project_client(&tx, &client_doc::read(&doc, lead)?, false)?;
        }
        with_client(&tx, &self.actor, client, |doc, rec| {
            if rec.lead || rec.deleted {
                return Err(Error::validation(
                    "client",
                    "attach a lead to a client in the book",
                ));
            }
            let mut card: Card = rec.card.clone();
            for p in &lead_rec.card.phones {
                if !card.phones.iter().any(|q| q.key() == p.key()) {
                    card.phones.push(crate::model::Phone {
                        primary: card.phones.is_empty(),
                        ..p.clone()
                    });
                }
            }
            if card != rec.card {
                client_doc::edit_card(doc, &rec.card, &card, now)?;
            }
            if let Some(chat) = &chat
                && client_doc::telegram_chat(doc).is_none()
            {
                client_doc::bind_telegram(doc, chat, now)?;
            }
            for m in &lead_rec.messages {
                client_doc::put_message(
                    doc,
                    &MessageRecord {
                        client_id: client,
                        ..m.clone()
                    },
                )?;
            }
            for (id, from) in &froms {
                client_doc::set_message_from(doc, *id, from, now)?;
            }
            if let Some(at) = lead_rec
                .messages
                .iter()
                .filter(|m| m.channel == Channel::Whatsapp && m.kind == MessageKind::Inbound)
                .map(|m| m.at)
                .max()
            {
                client_doc::set_whatsapp_last_inbound(doc, at)?;
            }
            for n in &lead_rec.notes {
                client_doc::put_note(
                    doc,
                    &Note {
                        client_id: client,
                        ..n.clone()
                    },
                )?;
            }
            if let Some(c) = &lead_rec.conversation
                && rec
                    .conversation
                    .as_ref()
                    .is_none_or(|old| old.since < c.since)
            {
                client_doc::set_conversation(doc, c)?;
            }
            Ok(())
        })?;
        self.checkpointer.commit(tx)
    }

    /// Takes an unknown sender into the book as a new client, named `name` if given.
    pub fn accept_lead(&mut self, lead: Uuid, name: Option<&str>) -> Result<()> {
        let now = self.now();
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, lead, |doc, rec| {
            if !rec.lead || rec.deleted {
                return Err(Error::validation("lead", "not an unattached lead"));
            }
            if let Some(name) = name {
                let card = Card {
                    name: name.to_string(),
                    ..rec.card.clone()
                };
                client_doc::edit_card(doc, &rec.card, &card, now)?;
            }
            client_doc::set_lead(doc, false, now)
        })?;
        self.checkpointer.commit(tx)
    }

    /// A client's local row number, or `NotFound`.
    pub(super) fn rid(&self, client: Uuid) -> Result<i64> {
        projection::rid_of(&self.conn, client)?.ok_or(Error::NotFound {
            kind: "client",
            id: client,
        })
    }
}
