//! The message history of a client: recording what the master sent from the card, and reading
//! it back. Consent is checked here, at the moment of recording, whatever the caller checked
//! before: nothing goes into a channel the client has not agreed to.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior, params};
use uuid::Uuid;

use super::{Page, Store, clients::with_client};
use crate::crdt::client as client_doc;
use crate::error::{Error, Result};
use crate::model::{Channel, MessageKind, MessageRecord, MessageStatus};

impl Store {
    /// Records a quick message the master handed to the phone's own app (SMS, WhatsApp,
    /// Telegram, Viber, email). Refused without consent for that channel.
    pub fn record_message(
        &mut self,
        client: Uuid,
        channel: Channel,
        body: &str,
        visit: Option<Uuid>,
        template: Option<Uuid>,
    ) -> Result<MessageRecord> {
        channel.check_sendable()?;
        if body.trim().is_empty() {
            return Err(Error::validation("text", "a message needs some text"));
        }
        let now = self.now();
        let record = MessageRecord {
            id: Uuid::now_v7(),
            client_id: client,
            channel,
            kind: MessageKind::Manual,
            body: body.to_string(),
            at: now,
            staff_id: self.staff_id,
            device_id: Some(self.device_id),
            visit_id: visit,
            template_id: template,
            rule_id: None,
            status: MessageStatus::HandedToApp,
            status_at: now,
            detail: None,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        with_client(&tx, &self.actor, client, |doc, rec| {
            if !rec.consent.granted(channel) {
                return Err(Error::NoConsent { channel });
            }
            client_doc::put_message(doc, &record)
        })?;
        self.checkpointer.commit(tx)?;
        Ok(record)
    }

    /// A client's messages, oldest first.
    pub fn history(&self, client: Uuid) -> Result<Vec<MessageRecord>> {
        messages_of(&self.conn, self.rid(client)?, client)
    }
}

const MESSAGE_COLS: &str = "m.id, m.channel, m.kind, m.body, m.at, m.staff_id, m.device_id,
    m.visit_id, m.template_id, m.status, m.status_at, m.detail, m.rule_id";

fn message_from_row(r: &rusqlite::Row<'_>, client: Uuid) -> rusqlite::Result<MessageRecord> {
    let ms = |t: i64| chrono::DateTime::from_timestamp_millis(t).unwrap_or_default();
    let channel: String = r.get(1)?;
    let kind: String = r.get(2)?;
    let status: String = r.get(9)?;
    Ok(MessageRecord {
        id: r.get(0)?,
        client_id: client,
        channel: channel.parse().unwrap_or(Channel::Sms),
        kind: kind.parse().unwrap_or(MessageKind::Manual),
        body: r.get(3)?,
        at: ms(r.get(4)?),
        staff_id: r.get(5)?,
        device_id: r.get(6)?,
        visit_id: r.get(7)?,
        template_id: r.get(8)?,
        status: status.parse().unwrap_or(MessageStatus::Uncertain),
        status_at: ms(r.get(10)?),
        detail: r.get(11)?,
        rule_id: r.get(12)?,
    })
}

fn messages_of(conn: &Connection, rid: i64, client: Uuid) -> Result<Vec<MessageRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLS} FROM messages m WHERE m.client_rid = ?1 ORDER BY m.at, m.id"
    ))?;
    let rows = stmt.query_map(params![rid], |r| message_from_row(r, client))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What the business-wide message log shows; every field narrows it.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub client: Option<Uuid>,
    pub channel: Option<Channel>,
    pub status: Option<MessageStatus>,
    pub kind: Option<MessageKind>,
    pub rule: Option<Uuid>,
    /// From this instant on (inclusive) …
    pub from: Option<DateTime<Utc>>,
    /// … to this one (exclusive).
    pub to: Option<DateTime<Utc>>,
}

/// One line of the log: the message and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoggedMessage {
    pub client_name: String,
    #[serde(flatten)]
    pub message: MessageRecord,
}

impl Store {
    /// Every message of the business (automatic and manual, to and from clients), newest
    /// first, as the log screen and `kartka messages` show them.
    pub fn message_log(&self, f: &MessageFilter, page: Page) -> Result<Vec<LoggedMessage>> {
        let mut sql = format!(
            "SELECT {MESSAGE_COLS}, c.id, c.name FROM messages m
             JOIN clients c ON c.rid = m.client_rid WHERE c.deleted = 0"
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut add = |cond: &str, v: rusqlite::types::Value| {
            args.push(v);
            sql += &format!(" AND {cond} ?{}", args.len());
        };
        if let Some(c) = f.client {
            add(
                "c.id =",
                rusqlite::types::Value::Blob(c.as_bytes().to_vec()),
            );
        }
        if let Some(ch) = f.channel {
            add("m.channel =", ch.as_str().to_string().into());
        }
        if let Some(st) = f.status {
            add("m.status =", st.as_str().to_string().into());
        }
        if let Some(k) = f.kind {
            add("m.kind =", k.as_str().to_string().into());
        }
        if let Some(r) = f.rule {
            add(
                "m.rule_id =",
                rusqlite::types::Value::Blob(r.as_bytes().to_vec()),
            );
        }
        if let Some(t) = f.from {
            add("m.at >=", t.timestamp_millis().into());
        }
        if let Some(t) = f.to {
            add("m.at <", t.timestamp_millis().into());
        }
        args.push(i64::from(page.limit).into());
        args.push(i64::from(page.offset).into());
        sql += &format!(
            " ORDER BY m.at DESC, m.id DESC LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
            let client: Uuid = r.get(13)?;
            Ok(LoggedMessage {
                message: message_from_row(r, client)?,
                client_name: r.get(14)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
