//! Who a mass mailing would reach, before anything is sent: the clients a filter picks (class,
//! tag, last visit before/after, birthday month), of whom only those with `marketing` consent
//! *and* consent on the mailing's channel *and* a number or address for it get the message.
//! The preview says how many, how many are left out and why, and what the SMS costs in
//! segments, so the master decides with the numbers in front of them.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

use super::{ClientFilter, Page, Store};
use crate::crdt::business::SettingsEdit;
use crate::error::{Error, Result};
use crate::messaging::segments;
use crate::messaging::template::Template;
use crate::model::{Audience, Channel, Client, Mailing};

/// What sending would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailingPreview {
    /// Clients the audience picks.
    pub matched: u32,
    /// Those who would get the message, in name order.
    pub recipients: Vec<Uuid>,
    /// Left out: no `marketing` consent (checked first).
    pub no_marketing_consent: u32,
    /// Left out: marketing yes, but no consent on this channel.
    pub no_channel_consent: u32,
    /// Left out: consent, but no number (or email address) to send to.
    pub no_address: u32,
    /// Segments of one SMS (SMS mailings only) …
    pub sms_segments: Option<u32>,
    /// … and for every recipient together.
    pub sms_segments_total: Option<u32>,
}

fn has_address(c: &Client, channel: Channel) -> bool {
    match channel {
        Channel::Email => c.email.is_some(),
        _ => c.phones.iter().any(|p| p.e164.is_some()),
    }
}

/// How far a mailing has got: the outcomes the server wrote on the recipients' cards (the
/// mailing's id is their rule), and, while it runs, the clients who would still get it and
/// have no outcome yet. Every device that has synced counts the same figures, without the
/// server writing anything more than the outcomes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MailingProgress {
    /// Outcomes plus what is still waiting.
    pub total: u32,
    /// Still waiting: for working hours, the start time, or the gateway's rate.
    pub pending: u32,
    pub sent: u32,
    pub delivered: u32,
    pub failed: u32,
    /// Consent withdrawn (an unsubscribe, a STOP) before their turn came.
    pub skipped: u32,
    pub cancelled: u32,
}

impl MailingProgress {
    /// Every message has an outcome (or the mailing was stopped).
    pub fn finished(&self) -> bool {
        self.pending == 0 && self.total > 0
    }
}

/// A mailing as a master starts it.
#[derive(Debug, Clone)]
pub struct NewMailing {
    pub name: String,
    pub channel: Channel,
    pub text: String,
    pub audience: Audience,
    /// Not before this moment; now when `None`.
    pub start: Option<DateTime<Utc>>,
}

/// What a mailing must be before anyone is counted or anything is sent.
fn check(audience: &Audience, channel: Channel, text: &str) -> Result<()> {
    channel.check_sendable()?;
    if text.trim().is_empty() {
        return Err(Error::validation("text", "a mailing needs some text"));
    }
    if audience
        .birthday_month
        .is_some_and(|m| !(1..=12).contains(&m))
    {
        return Err(Error::validation("birthday_month", "expected 1 to 12"));
    }
    Ok(())
}

impl Store {
    /// Starts a mailing: the server sends it (in working hours, at each gateway's rate) to
    /// those who consent to marketing and to the channel when their turn comes. Checked the
    /// same way as the preview; the text's placeholders must be valid.
    pub fn start_mailing(&mut self, new: NewMailing) -> Result<Mailing> {
        check(&new.audience, new.channel, &new.text)?;
        Template::parse(&new.text).map_err(|e| Error::validation("text", e.to_string()))?;
        let now = self.now();
        let name = new.name.trim();
        let mailing = Mailing {
            id: Uuid::now_v7(),
            name: if name.is_empty() {
                new.text.chars().take(40).collect()
            } else {
                name.to_string()
            },
            channel: new.channel,
            text: new.text,
            audience: new.audience,
            start: new.start.unwrap_or(now).max(now),
            created_at: now,
            staff_id: self.staff_id,
            cancelled: false,
        };
        self.edit_business(SettingsEdit::PutMailing(mailing.clone()))?;
        Ok(mailing)
    }

    /// Stops a mailing: messages not yet sent are not sent.
    pub fn cancel_mailing(&mut self, id: Uuid) -> Result<()> {
        if !self.business()?.mailings.iter().any(|m| m.id == id) {
            return Err(Error::NotFound {
                kind: "mailing",
                id,
            });
        }
        self.edit_business(SettingsEdit::CancelMailing(id))?;
        Ok(())
    }

    /// Every mailing with its progress, newest first.
    pub fn mailings(&self) -> Result<Vec<(Mailing, MailingProgress)>> {
        let mut out = Vec::new();
        for m in self.business()?.mailings.into_iter().rev() {
            let p = self.progress_of(&m)?;
            out.push((m, p));
        }
        Ok(out)
    }

    /// A mailing's progress: the outcomes recorded on the recipients' cards, and, while it
    /// runs, the recipients (consenting, in the audience, in the book when it started) who have
    /// none yet.
    pub fn mailing_progress(&self, id: Uuid) -> Result<MailingProgress> {
        let mailing = self
            .business()?
            .mailings
            .into_iter()
            .find(|m| m.id == id)
            .ok_or(Error::NotFound {
                kind: "mailing",
                id,
            })?;
        self.progress_of(&mailing)
    }

    fn progress_of(&self, mailing: &Mailing) -> Result<MailingProgress> {
        let id = mailing.id;
        let mut p = self.recorded_progress(id)?;
        let running = !mailing.cancelled
            && self.now() <= mailing.start + Duration::days(crate::notify::plan::MAILING_DAYS);
        if running {
            let done: HashSet<Uuid> = self
                .conn
                .prepare_cached(
                    "SELECT DISTINCT c.id FROM messages m JOIN clients c ON c.rid = m.client_rid
                     WHERE m.rule_id = ?1",
                )?
                .query_map(params![id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let preview =
                self.mailing_preview(&mailing.audience, mailing.channel, &mailing.text)?;
            let joined_later: HashSet<Uuid> = self
                .conn
                .prepare_cached("SELECT id FROM clients WHERE created_at > ?1")?
                .query_map(params![mailing.created_at.timestamp_millis()], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let waiting = preview
                .recipients
                .iter()
                .filter(|c| !done.contains(c) && !joined_later.contains(c))
                .count() as u32;
            p.pending += waiting;
            p.total += waiting;
        }
        Ok(p)
    }

    fn recorded_progress(&self, id: Uuid) -> Result<MailingProgress> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT status, count(*) FROM messages WHERE rule_id = ?1 GROUP BY status",
        )?;
        let mut p = MailingProgress::default();
        let rows = stmt.query_map(params![id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?))
        })?;
        for row in rows {
            let (status, n) = row?;
            p.total += n;
            match status.as_str() {
                "scheduled" | "sending" | "queued" => p.pending += n,
                "sent" | "uncertain" => p.sent += n,
                "delivered" | "read" => p.delivered += n,
                "failed" => p.failed += n,
                "skipped_no_consent" => p.skipped += n,
                _ => p.cancelled += n,
            }
        }
        Ok(p)
    }

    /// Who a mailing of `text` on `channel` would reach; changes nothing.
    pub fn mailing_preview(
        &self,
        audience: &Audience,
        channel: Channel,
        text: &str,
    ) -> Result<MailingPreview> {
        check(audience, channel, text)?;
        let filter = ClientFilter {
            class: audience.class.clone(),
            tag: audience.tag.clone(),
            include_deleted: false,
        };
        let all = self.list_clients(
            &filter,
            Page {
                offset: 0,
                limit: u32::MAX,
            },
        )?;
        let mut p = MailingPreview {
            matched: 0,
            recipients: Vec::new(),
            no_marketing_consent: 0,
            no_channel_consent: 0,
            no_address: 0,
            sms_segments: None,
            sms_segments_total: None,
        };
        let consented =
            |c: &Client, ch: Channel| c.consent.get(ch.as_str()).copied().unwrap_or(false);
        for c in all.iter().filter(|c| {
            audience.matches(&c.class, &c.tags, c.stats.last_visit, c.birthday.as_ref())
        }) {
            p.matched += 1;
            if !consented(c, Channel::Marketing) {
                p.no_marketing_consent += 1;
            } else if !consented(c, channel) {
                p.no_channel_consent += 1;
            } else if !has_address(c, channel) {
                p.no_address += 1;
            } else {
                p.recipients.push(c.id);
            }
        }
        if channel == Channel::Sms {
            let per = segments::analyze(text).segments;
            p.sms_segments = Some(per);
            p.sms_segments_total = Some(per * p.recipients.len() as u32);
        }
        Ok(p)
    }
}
