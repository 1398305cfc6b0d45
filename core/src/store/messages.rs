//! The message history of a client: recording what the master sent from the card, and reading
//! it back. Consent is checked here, at the moment of recording, whatever the caller checked
//! before: nothing goes into a channel the client has not agreed to.

use rusqlite::{Connection, TransactionBehavior, params};
use uuid::Uuid;

use super::{Store, clients::with_client, projection};
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
        if channel == Channel::Marketing {
            return Err(Error::validation(
                "channel",
                "marketing is a consent, not a channel",
            ));
        }
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
        let rid = projection::rid_of(&self.conn, client)?.ok_or(Error::NotFound {
            kind: "client",
            id: client,
        })?;
        messages_of(&self.conn, rid, client)
    }
}

fn messages_of(conn: &Connection, rid: i64, client: Uuid) -> Result<Vec<MessageRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, channel, kind, body, at, staff_id, device_id, visit_id, template_id, status,
             status_at, detail
         FROM messages WHERE client_rid = ?1 ORDER BY at, id",
    )?;
    let ms = |t: i64| chrono::DateTime::from_timestamp_millis(t).unwrap_or_default();
    let rows = stmt.query_map(params![rid], |r| {
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
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
