//! Who a mass mailing would reach, before anything is sent: the clients a filter picks (class,
//! tag, last visit before/after, birthday month), of whom only those with `marketing` consent
//! *and* consent on the mailing's channel *and* a number or address for it get the message.
//! The preview says how many, how many are left out and why, and what the SMS costs in
//! segments, so the master decides with the numbers in front of them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{ClientFilter, Page, Store};
use crate::error::{Error, Result};
use crate::messaging::segments;
use crate::model::{Channel, Client, ClientClass};

/// The clients a mailing is for; every field narrows it.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub class: Option<ClientClass>,
    pub tag: Option<String>,
    /// Last visit strictly before (clients who have not come back).
    pub last_visit_before: Option<DateTime<Utc>>,
    /// Last visit on or after (recent clients).
    pub last_visit_after: Option<DateTime<Utc>>,
    /// 1–12: clients whose birthday is in this month.
    pub birthday_month: Option<u32>,
}

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

fn in_audience(c: &Client, a: &Audience) -> bool {
    let last = c.stats.last_visit;
    a.last_visit_before
        .is_none_or(|t| last.is_some_and(|l| l < t))
        && a.last_visit_after
            .is_none_or(|t| last.is_some_and(|l| l >= t))
        && a.birthday_month
            .is_none_or(|m| c.birthday.as_ref().is_some_and(|b| b.month_day().0 == m))
}

fn has_address(c: &Client, channel: Channel) -> bool {
    match channel {
        Channel::Email => c.email.is_some(),
        _ => c.phones.iter().any(|p| p.e164.is_some()),
    }
}

impl Store {
    /// Who a mailing of `text` on `channel` would reach; changes nothing.
    pub fn mailing_preview(
        &self,
        audience: &Audience,
        channel: Channel,
        text: &str,
    ) -> Result<MailingPreview> {
        if channel == Channel::Marketing {
            return Err(Error::validation(
                "channel",
                "marketing is a consent, not a channel",
            ));
        }
        if text.trim().is_empty() {
            return Err(Error::validation("text", "a mailing needs some text"));
        }
        if audience
            .birthday_month
            .is_some_and(|m| !(1..=12).contains(&m))
        {
            return Err(Error::validation("birthday_month", "expected 1 to 12"));
        }
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
        for c in all.iter().filter(|c| in_audience(c, audience)) {
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
