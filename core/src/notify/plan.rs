//! The messages one client's document calls for under the business's rules.
//!
//! Two kinds of rule:
//! - *derived* (reminder before a visit, review request, repeat-visit reminder, birthday): what
//!   should be scheduled is a function of the document as it stands. The scheduler compares
//!   [`Plan::derived`] with what it holds and creates, moves or cancels to match.
//! - *events* (visit created, status changed, rescheduled, cancelled): fired by a change the
//!   scheduler sees, found by comparing each visit with the state it last saw ([`Seen`]).
//!   Changes made offline in a row collapse into one: a visit booked, confirmed and cancelled
//!   before the device syncs sends only "cancelled".
//!
//! Every planned message has a key, unique together with its rule and channel, so the same
//! (visit, rule, channel, occurrence) can never be scheduled twice.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::Trigger;
use super::hours::{last_working_moment, local_instant, next_opening};
use crate::crdt::client::ClientRecord;
use crate::model::{
    Birthday, Business, Channel, Mailing, MessageKind, MessageStatus, NotificationKind,
    ReminderOverride, Rule, StaffMember, Visit, VisitStatus,
};

/// A visit as the scheduler last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub start: DateTime<Utc>,
    pub status: VisitStatus,
    pub deleted: bool,
}

impl From<&Visit> for Seen {
    fn from(v: &Visit) -> Self {
        Seen {
            start: v.start,
            status: v.status,
            deleted: v.deleted,
        }
    }
}

/// What a planned message is, stored as its string form with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedKind {
    /// A rule's message to the client: a type the client can opt out of.
    Notification(NotificationKind),
    /// A master's reply, queued on a device.
    Reply,
    /// One recipient's message of a mass mailing (needs `marketing` consent too).
    Mailing,
    /// An alert to a staff member about this client: never sent to the client.
    Staff,
}

impl PlannedKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            PlannedKind::Notification(k) => k.as_str(),
            PlannedKind::Reply => "reply",
            PlannedKind::Mailing => "mailing",
            PlannedKind::Staff => "staff",
        }
    }

    /// How the message shows in the client's history.
    pub fn history_kind(&self) -> MessageKind {
        match self {
            PlannedKind::Notification(_) => MessageKind::Automatic,
            PlannedKind::Reply => MessageKind::Reply,
            PlannedKind::Mailing => MessageKind::Mailing,
            PlannedKind::Staff => MessageKind::Staff,
        }
    }

    pub fn parse(s: &str) -> Option<PlannedKind> {
        Some(match s {
            "reply" => PlannedKind::Reply,
            "mailing" => PlannedKind::Mailing,
            "staff" => PlannedKind::Staff,
            other => PlannedKind::Notification(other.parse().ok()?),
        })
    }
}

/// How long a mailing keeps going: what has not gone out a week after its start is dropped
/// rather than sent as stale news.
pub const MAILING_DAYS: i64 = 7;

/// One message that should exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The message's id when it is fixed in advance: a reply's is its history entry's.
    pub id: Option<Uuid>,
    /// The rule; a mailing's id for its messages; nil for replies.
    pub rule: Uuid,
    pub channel: Channel,
    /// The occurrence: `reminder:<client>:<local date>`, `review:<visit>`, `repeat:<visit>`,
    /// `birthday:<client>:<year>`, `created:<visit>`, `status:<visit>:<status>:<start ms>`,
    /// `cancelled:<visit>`, `moved:<visit>:<start ms>`; `reply:<message>`, `mailing:<client>`;
    /// a staff alert is `staff:<staff member>:` followed by its event's key, or by
    /// `replied:<message>` or `failed:<message>`.
    pub key: String,
    pub kind: PlannedKind,
    pub visit: Option<Uuid>,
    /// When to send, moved into working hours where the rule asks for it.
    pub due: DateTime<Utc>,
    /// When the rule alone would send it: the scheduler does not create a message whose moment
    /// passed long ago (a rule added today does not greet last month's birthdays).
    pub base: DateTime<Utc>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub derived: Vec<Planned>,
    pub events: Vec<Planned>,
    /// Key prefixes whose unsent messages an event supersedes (a visit moved twice tells the
    /// client once, about the last time).
    pub superseded: Vec<(Uuid, Channel, String)>,
    /// Every visit as it is now: what the scheduler should remember.
    pub seen: Vec<(Uuid, Seen)>,
}

/// The rules that can run: enabled, with a trigger this version knows and at least one channel.
pub fn active_rules(business: &Business) -> Vec<(&Rule, Trigger)> {
    business
        .rules
        .iter()
        .filter(|r| r.enabled && !r.channels.is_empty())
        .filter_map(|r| Some((r, r.trigger.parse::<Trigger>().ok()?)))
        .collect()
}

fn applies(rule: &Rule, trigger: Trigger, status: VisitStatus) -> bool {
    if rule.statuses.is_empty() {
        let d = trigger.default_statuses();
        d.is_empty() || d.contains(&status)
    } else {
        rule.statuses.contains(&status)
    }
}

/// `t` moved by `minutes` with whole days counted on the local calendar: "28 days later" or
/// "a day before" keeps the wall-clock time across a DST change.
fn shift(tz: Tz, t: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    let (days, rest) = (minutes.div_euclid(1440), minutes.rem_euclid(1440));
    let local = t.with_timezone(&tz).naive_local() + Duration::days(days);
    local_instant(tz, local) + Duration::minutes(rest)
}

struct Ctx<'a> {
    business: &'a Business,
    tz: Tz,
    now: DateTime<Utc>,
    /// Events older than this are history, not news (a visit the scheduler first sees long
    /// after it was booked does not send "booked").
    fresh_after: DateTime<Utc>,
}

impl Ctx<'_> {
    /// Moved to the next opening when the rule keeps to working hours.
    fn forward(&self, rule: &Rule, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if rule.working_hours_only {
            next_opening(&self.business.working_hours, self.tz, t)
        } else {
            Some(t)
        }
    }

    fn push(
        &self,
        out: &mut Vec<Planned>,
        rule: &Rule,
        trigger: Trigger,
        key: String,
        visit: Option<Uuid>,
        (base, due): (DateTime<Utc>, DateTime<Utc>),
    ) {
        let Some(kind) = trigger.kind() else { return };
        for ch in &rule.channels {
            out.push(Planned {
                id: None,
                rule: rule.id,
                channel: *ch,
                key: key.clone(),
                kind: PlannedKind::Notification(kind),
                visit,
                due,
                base,
            });
        }
    }

    /// When an event's message is due: the rule's delay from now, moved into working hours if
    /// the rule keeps to them; `None` when there is no working moment to move it to.
    fn event_moment(&self, rule: &Rule) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let base = self.now + Duration::minutes(rule.offset_min.max(0));
        Some((base, self.forward(rule, base)?))
    }

    /// A staff rule's alert about `key`, to every recipient who can be reached on a channel of
    /// the rule and who did not make the change (`by`: the device that did).
    #[allow(clippy::too_many_arguments)]
    fn push_staff(
        &self,
        out: &mut Vec<Planned>,
        rule: &Rule,
        key: &str,
        visit: Option<Uuid>,
        by: Option<Uuid>,
        (base, due): (DateTime<Utc>, DateTime<Utc>),
    ) {
        for member in recipients(self.business, rule) {
            if by.is_some_and(|d| member.devices.contains(&d)) {
                continue; // their own change
            }
            for ch in rule
                .channels
                .iter()
                .filter(|c| staff_address(member, **c).is_some())
            {
                out.push(Planned {
                    id: None,
                    rule: rule.id,
                    channel: *ch,
                    key: format!("staff:{}:{key}", member.id),
                    kind: PlannedKind::Staff,
                    visit,
                    due,
                    base,
                });
            }
        }
    }
}

/// The staff a staff rule alerts: the listed members (every member when the list is empty) who
/// are active.
pub fn recipients<'a>(
    business: &'a Business,
    rule: &'a Rule,
) -> impl Iterator<Item = &'a StaffMember> {
    let listed = rule.staff.as_deref().unwrap_or_default();
    business.staff.iter().filter(move |s| {
        s.active && rule.staff.is_some() && (listed.is_empty() || listed.contains(&s.id))
    })
}

/// Where a staff member gets alerts on `channel`: their email, or their chat with the bot.
pub fn staff_address(member: &StaffMember, channel: Channel) -> Option<&str> {
    match channel {
        Channel::Email => member.email.as_deref(),
        Channel::Telegram => member.telegram.as_deref(),
        _ => None,
    }
}

/// What `client` calls for at `now`. `seen` is what the scheduler remembers of its visits;
/// `stale` is how old an event or a moment may be and still be acted on.
pub fn plan(
    business: &Business,
    client: &ClientRecord,
    seen: &HashMap<Uuid, Seen>,
    now: DateTime<Utc>,
    stale: Duration,
) -> Plan {
    let mut out = Plan {
        seen: client
            .visits
            .iter()
            .map(|v| (v.id, Seen::from(v)))
            .collect(),
        ..Plan::default()
    };
    if client.deleted || client.merged_into.is_some() {
        return out;
    }
    let Ok(tz) = business.zone.parse::<Tz>() else {
        return out;
    };
    let ctx = Ctx {
        business,
        tz,
        now,
        fresh_after: now - stale,
    };
    replies(&ctx, client, &mut out.events);
    for m in &business.mailings {
        mailing(&ctx, client, m, &mut out.derived);
    }
    for (rule, trigger) in active_rules(business) {
        if rule.staff.is_some() {
            staff_alerts(&ctx, client, seen, rule, trigger, &mut out);
            continue;
        }
        if client.lead {
            continue; // not a client yet: nothing automatic goes to an unknown sender
        }
        match trigger {
            Trigger::ReminderBefore => reminders(&ctx, client, rule, trigger, &mut out.derived),
            Trigger::AfterCompleted => {
                for v in client
                    .visits
                    .iter()
                    .filter(|v| !v.deleted && applies(rule, trigger, v.status))
                {
                    let base =
                        v.start + Duration::minutes(i64::from(v.duration_min) + rule.offset_min);
                    if let Some(due) = ctx.forward(rule, base) {
                        ctx.push(
                            &mut out.derived,
                            rule,
                            trigger,
                            format!("review:{}", v.id),
                            Some(v.id),
                            (base, due),
                        );
                    }
                }
            }
            Trigger::RepeatVisit => {
                // Only the latest visit that took place, and only if nothing is booked after it.
                let live = |v: &&Visit| {
                    !v.deleted
                        && v.status != VisitStatus::Cancelled
                        && v.status != VisitStatus::NoShow
                };
                let Some(last) = client.visits.iter().filter(live).max_by_key(|v| v.start) else {
                    continue;
                };
                if applies(rule, trigger, last.status) {
                    let minutes = last
                        .repeat_after_days
                        .map(|d| i64::from(d) * 1440)
                        .unwrap_or(rule.offset_min);
                    let base = shift(ctx.tz, last.start, minutes);
                    if let Some(due) = ctx.forward(rule, base) {
                        ctx.push(
                            &mut out.derived,
                            rule,
                            trigger,
                            format!("repeat:{}", last.id),
                            Some(last.id),
                            (base, due),
                        );
                    }
                }
            }
            Trigger::Birthday => {
                if let Some(b) = &client.card.birthday
                    && let Some((year, base)) = next_birthday(&ctx, b, rule.offset_min)
                    && let Some(due) = ctx.forward(rule, base)
                {
                    ctx.push(
                        &mut out.derived,
                        rule,
                        trigger,
                        format!("birthday:{}:{year}", client.id),
                        None,
                        (base, due),
                    );
                }
            }
            Trigger::ClientReplied | Trigger::MessageFailed => {} // staff rules only
            _ => events(&ctx, client, seen, rule, trigger, &mut out),
        }
    }
    out
}

/// Replies masters queued on their devices, not yet handed to the server's dispatcher. A reply
/// written offline goes when the phone reaches the server, however late, as a messenger's
/// would: the master wrote it to be sent, and sees its status either way.
fn replies(ctx: &Ctx<'_>, client: &ClientRecord, out: &mut Vec<Planned>) {
    for m in client
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::Reply && m.status == MessageStatus::Queued)
    {
        out.push(Planned {
            id: Some(m.id),
            rule: Uuid::nil(),
            channel: m.channel,
            key: format!("reply:{}", m.id),
            kind: PlannedKind::Reply,
            visit: m.visit_id,
            due: ctx.now,
            base: ctx.now,
        });
    }
}

/// The client's message of a mailing: for clients in its audience who were in the book when it
/// started and consent to marketing and to its channel now (the dispatcher asks again when it
/// sends), in working hours from its start, for a week.
fn mailing(ctx: &Ctx<'_>, client: &ClientRecord, m: &Mailing, out: &mut Vec<Planned>) {
    if m.cancelled
        || client.lead
        || client.created_at > m.created_at
        || ctx.now > m.start + Duration::days(MAILING_DAYS)
        || !client.consent.granted(Channel::Marketing)
        || !client.consent.granted(m.channel)
    {
        return;
    }
    let has_address = match m.channel {
        Channel::Email => client.card.email.is_some(),
        Channel::Sms | Channel::Whatsapp => client.card.phones.iter().any(|p| p.e164.is_some()),
        _ => true, // a Telegram chat is the dispatcher's to find
    };
    if !has_address
        || !m.audience.matches(
            &client.card.class,
            &client.card.tags,
            client.last_visit(),
            client.card.birthday.as_ref(),
        )
    {
        return;
    }
    let Some(due) = next_opening(&ctx.business.working_hours, ctx.tz, m.start.max(ctx.now)) else {
        return;
    };
    out.push(Planned {
        id: None,
        rule: m.id,
        channel: m.channel,
        key: format!("mailing:{}", client.id),
        kind: PlannedKind::Mailing,
        visit: None,
        due,
        base: m
            .start
            .max(ctx.now.min(m.start + Duration::days(MAILING_DAYS))),
    });
}

/// A staff rule: its visit events as the client's rules see them (but only about changes
/// someone else made), a client's message, or a message to the client that failed.
fn staff_alerts(
    ctx: &Ctx<'_>,
    client: &ClientRecord,
    seen: &HashMap<Uuid, Seen>,
    rule: &Rule,
    trigger: Trigger,
    out: &mut Plan,
) {
    let Some(moment) = ctx.event_moment(rule) else {
        return;
    };
    let messages = |pick: &dyn Fn(&crate::model::MessageRecord) -> bool, what: &str| {
        client
            .messages
            .iter()
            .filter(|m| pick(m))
            .map(|m| (format!("{what}:{}", m.id), m.visit_id))
            .collect::<Vec<_>>()
    };
    let found = match trigger {
        Trigger::ClientReplied => messages(
            &|m| m.kind == MessageKind::Inbound && m.at >= ctx.fresh_after,
            "replied",
        ),
        Trigger::MessageFailed => messages(
            &|m| {
                m.kind != MessageKind::Staff
                    && m.kind != MessageKind::Inbound
                    && m.status == MessageStatus::Failed
                    && m.status_at >= ctx.fresh_after
            },
            "failed",
        ),
        t if t.is_event() => {
            // The client's own events, computed as for a client rule, then re-addressed.
            let mut as_client = Plan::default();
            events(ctx, client, seen, rule, trigger, &mut as_client);
            for e in as_client.events {
                if e.channel != rule.channels[0] {
                    continue; // one per event; channels are expanded per recipient below
                }
                let by = e.visit.and_then(|v| client.changed_by.get(&v).copied());
                ctx.push_staff(&mut out.events, rule, &e.key, e.visit, by, moment);
            }
            let firsts = as_client
                .superseded
                .iter()
                .filter(|(_, ch, _)| *ch == rule.channels[0]);
            for (_, _, prefix) in firsts {
                for member in recipients(ctx.business, rule) {
                    for ch in &rule.channels {
                        out.superseded.push((
                            rule.id,
                            *ch,
                            format!("staff:{}:{prefix}", member.id),
                        ));
                    }
                }
            }
            return;
        }
        _ => return, // derived triggers (reminders, birthdays) are for clients
    };
    for (key, visit) in found {
        ctx.push_staff(&mut out.events, rule, &key, visit, None, moment);
    }
}

/// One reminder per client per local day: for the earliest visit of the day the rule applies to.
fn reminders(
    ctx: &Ctx<'_>,
    client: &ClientRecord,
    rule: &Rule,
    trigger: Trigger,
    out: &mut Vec<Planned>,
) {
    let mut days: BTreeMap<NaiveDate, &Visit> = BTreeMap::new();
    for v in client.visits.iter().filter(|v| {
        !v.deleted
            && v.start > ctx.now
            && v.reminder != ReminderOverride::Off
            && applies(rule, trigger, v.status)
    }) {
        let day = v.start.with_timezone(&ctx.tz).date_naive();
        let e = days.entry(day).or_insert(v);
        if v.start < e.start {
            *e = v;
        }
    }
    let hours = &ctx.business.working_hours;
    for (day, v) in days {
        let before = match v.reminder {
            ReminderOverride::MinutesBefore(m) => i64::from(m),
            _ => rule.offset_min,
        };
        // Never before the visit was booked: a reminder whose moment had passed by then goes
        // at booking, or at the next opening if that is still before the visit.
        let base = shift(ctx.tz, v.start, -before).max(v.created_at);
        let due = if rule.working_hours_only {
            match last_working_moment(hours, ctx.tz, base) {
                Some(t) if t >= v.created_at => Some(t),
                _ => next_opening(hours, ctx.tz, v.created_at),
            }
        } else {
            Some(base)
        };
        if let Some(due) = due.filter(|d| *d < v.start) {
            ctx.push(
                out,
                rule,
                trigger,
                format!("reminder:{}:{day}", client.id),
                Some(v.id),
                (base, due),
            );
        }
    }
}

fn next_birthday(ctx: &Ctx<'_>, b: &Birthday, offset_min: i64) -> Option<(i32, DateTime<Utc>)> {
    let (month, day) = b.month_day();
    let this_year = ctx.now.with_timezone(&ctx.tz).year();
    (this_year - 1..=this_year + 1).find_map(|year| {
        // 29 February is greeted on the 28th in other years.
        let date = NaiveDate::from_ymd_opt(year, month, day)
            .or_else(|| NaiveDate::from_ymd_opt(year, month, day.saturating_sub(1)))?;
        let at = local_instant(
            ctx.tz,
            date.and_hms_opt(0, 0, 0)? + Duration::minutes(offset_min),
        );
        (at >= ctx.fresh_after).then_some((year, at))
    })
}

fn events(
    ctx: &Ctx<'_>,
    client: &ClientRecord,
    seen: &HashMap<Uuid, Seen>,
    rule: &Rule,
    trigger: Trigger,
    out: &mut Plan,
) {
    let Some(moment) = ctx.event_moment(rule) else {
        return;
    };
    for v in client.visits.iter().filter(|v| !v.deleted) {
        let key = match (seen.get(&v.id), trigger) {
            (None, Trigger::VisitCreated)
                if v.created_at >= ctx.fresh_after && applies(rule, trigger, v.status) =>
            {
                format!("created:{}", v.id)
            }
            (Some(s), Trigger::StatusChanged) if s.status != v.status => status_key(v),
            (Some(s), Trigger::StatusChangedTo(to)) if s.status != v.status && v.status == to => {
                status_key(v)
            }
            (Some(s), Trigger::VisitCancelled)
                if s.status != v.status && v.status == VisitStatus::Cancelled =>
            {
                format!("cancelled:{}", v.id)
            }
            (Some(s), Trigger::Rescheduled)
                if s.start != v.start && v.start > ctx.now && applies(rule, trigger, v.status) =>
            {
                for ch in &rule.channels {
                    out.superseded
                        .push((rule.id, *ch, format!("moved:{}:", v.id)));
                }
                format!("moved:{}:{}", v.id, v.start.timestamp_millis())
            }
            _ => continue,
        };
        if rule.statuses.is_empty() || rule.statuses.contains(&v.status) {
            ctx.push(&mut out.events, rule, trigger, key, Some(v.id), moment);
        }
    }
}

fn status_key(v: &Visit) -> String {
    format!(
        "status:{}:{}:{}",
        v.id,
        v.status,
        v.start.timestamp_millis()
    )
}

/// Whether a message planned earlier still applies to the document as it is now: checked again
/// at the moment of sending, after consent. `None` when it no longer does (the visit was moved,
/// cancelled or deleted, the rule was switched off, the mailing stopped, the reply withdrawn);
/// otherwise the moment it is due now.
pub fn still_due(
    business: &Business,
    client: &ClientRecord,
    rule: Uuid,
    channel: Channel,
    key: &str,
    now: DateTime<Utc>,
    stale: Duration,
) -> Option<DateTime<Utc>> {
    if client.deleted || client.merged_into.is_some() {
        return None;
    }
    if let Some(id) = key.strip_prefix("reply:") {
        let id: Uuid = id.parse().ok()?;
        // Queued on the device, or already scheduled or sending as the server recorded it;
        // a master may withdraw it (cancelled) until it goes.
        return client
            .messages
            .iter()
            .find(|m| m.id == id && m.kind == MessageKind::Reply && m.channel == channel)
            .filter(|m| m.status != MessageStatus::Cancelled)
            .map(|_| now);
    }
    let derived = |p: Plan| {
        p.derived
            .into_iter()
            .find(|m| m.rule == rule && m.channel == channel && m.key == key)
            .map(|m| m.due)
    };
    if key.starts_with("mailing:") {
        return derived(plan(business, client, &HashMap::new(), now, stale));
    }
    let (r, trigger) = active_rules(business)
        .into_iter()
        .find(|(r, _)| r.id == rule)?;
    if !r.channels.contains(&channel) {
        return None;
    }
    if let Some(rest) = key.strip_prefix("staff:") {
        let (member, event) = rest.split_once(':')?;
        let member: Uuid = member.parse().ok()?;
        let reachable = recipients(business, r)
            .find(|m| m.id == member)
            .is_some_and(|m| staff_address(m, channel).is_some());
        if !reachable {
            return None;
        }
        if event.starts_with("replied:") || event.starts_with("failed:") {
            return Some(now);
        }
        return event_still_true(client, event, now).then_some(now);
    }
    if r.staff.is_some() || client.lead {
        return None;
    }
    if !trigger.is_event() {
        return derived(plan(business, client, &HashMap::new(), now, stale));
    }
    event_still_true(client, key, now).then_some(now)
}

/// Whether a visit is still as the event's key says.
fn event_still_true(client: &ClientRecord, key: &str, now: DateTime<Utc>) -> bool {
    let mut parts = key.split(':');
    let (Some(what), Some(Ok(visit))) = (parts.next(), parts.next().map(str::parse::<Uuid>)) else {
        return false;
    };
    let Some(v) = client.visits.iter().find(|v| v.id == visit && !v.deleted) else {
        return false;
    };
    match what {
        "created" => v.status != VisitStatus::Cancelled && v.start > now,
        "status" => {
            parts.next() == Some(v.status.as_str())
                && parts.next() == Some(&v.start.timestamp_millis().to_string())
        }
        "cancelled" => v.status == VisitStatus::Cancelled,
        "moved" => {
            v.status.is_upcoming()
                && v.start > now
                && parts.next() == Some(&v.start.timestamp_millis().to_string())
        }
        _ => false,
    }
}

/// The template a rule uses on a channel: the channel's own, else the rule's default.
pub fn template_for(rule: &Rule, channel: Channel) -> Option<Uuid> {
    rule.channel_templates
        .iter()
        .find(|(c, _)| *c == channel)
        .map(|(_, t)| *t)
        .or(rule.template_id)
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::crdt::client::Card;
    use crate::model::{ClientClass, ClientSource, parse_day_hours};

    fn kyiv() -> Tz {
        "Europe/Kyiv".parse().unwrap()
    }

    /// 2027-03-10 (a Wednesday) at hh:mm in Kyiv, plus `days`.
    pub(crate) fn at(days: i64, hh: u32, mm: u32) -> DateTime<Utc> {
        let d = NaiveDate::from_ymd_opt(2027, 3, 10).unwrap() + Duration::days(days);
        kyiv()
            .from_local_datetime(&d.and_hms_opt(hh, mm, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc)
    }

    fn show(t: DateTime<Utc>) -> String {
        t.with_timezone(&kyiv()).format("%m-%d %H:%M").to_string()
    }

    fn business(rules: Vec<Rule>) -> Business {
        Business {
            id: Uuid::now_v7(),
            name: "Студія".into(),
            region: "UA".into(),
            zone: "Europe/Kyiv".into(),
            currency: "UAH".into(),
            locale: "uk".into(),
            phone: None,
            telegram_bot: None,
            working_hours: std::array::from_fn(|_| parse_day_hours("09:00-19:00").unwrap()),
            staff: vec![],
            templates: vec![],
            rules,
            mailings: vec![],
        }
    }

    fn rule(trigger: &str, offset_min: i64, working_hours_only: bool) -> Rule {
        Rule {
            id: Uuid::now_v7(),
            name: trigger.into(),
            trigger: trigger.into(),
            offset_min,
            channels: vec![Channel::Sms],
            template_id: Some(Uuid::now_v7()),
            channel_templates: vec![],
            working_hours_only,
            statuses: vec![],
            enabled: true,
            staff: None,
        }
    }

    pub(crate) fn client(birthday: Option<Birthday>, visits: Vec<Visit>) -> ClientRecord {
        let id = Uuid::now_v7();
        let card = Card {
            name: "Олена".into(),
            given_name: None,
            family_name: None,
            phones: vec![],
            email: None,
            birthday,
            comment: None,
            class: ClientClass::Regular,
            tags: vec![],
            loyalty_card: None,
            discount_percent: 0,
            source: ClientSource::Manual,
        };
        let mut r = ClientRecord::of_new(id, &card, at(-30, 12, 0));
        r.visits = visits
            .into_iter()
            .map(|mut v| {
                v.client_id = id;
                v
            })
            .collect();
        r
    }

    pub(crate) fn visit(start: DateTime<Utc>, status: VisitStatus) -> Visit {
        Visit {
            id: Uuid::now_v7(),
            client_id: Uuid::nil(),
            start,
            zone: "Europe/Kyiv".into(),
            duration_min: 90,
            services: vec![],
            total: 0,
            paid: 0,
            status,
            staff_id: None,
            note: None,
            reminder: ReminderOverride::Default,
            repeat_after_days: None,
            created_at: at(-20, 12, 0),
            updated_at: at(-20, 12, 0),
            deleted: false,
        }
    }

    fn derived(b: &Business, c: &ClientRecord, now: DateTime<Utc>) -> Vec<(String, String)> {
        plan(b, c, &HashMap::new(), now, Duration::hours(6))
            .derived
            .into_iter()
            .map(|p| (p.key.split(':').next().unwrap().to_string(), show(p.due)))
            .collect()
    }

    #[test]
    fn a_review_request_follows_the_end_of_a_completed_visit_in_working_hours() {
        let b = business(vec![rule("after_completed", 60, true)]);
        // Ends 18:30, +1 h is 19:30: after closing, so the next morning.
        let c = client(None, vec![visit(at(0, 17, 0), VisitStatus::Completed)]);
        assert_eq!(
            derived(&b, &c, at(0, 19, 0)),
            [("review".into(), "03-11 09:00".into())]
        );
        // A visit not completed asks for no review.
        let c = client(None, vec![visit(at(0, 17, 0), VisitStatus::NoShow)]);
        assert!(derived(&b, &c, at(0, 19, 0)).is_empty());
    }

    #[test]
    fn a_repeat_reminder_uses_the_visit_s_own_interval_and_stops_when_the_client_books_again() {
        let b = business(vec![rule("repeat_visit", 28 * 1440, true)]);
        let mut v = visit(at(0, 11, 0), VisitStatus::Completed);
        assert_eq!(
            derived(&b, &client(None, vec![v.clone()]), at(0, 13, 0)),
            [("repeat".into(), "04-07 11:00".into())]
        );
        v.repeat_after_days = Some(21);
        assert_eq!(
            derived(&b, &client(None, vec![v.clone()]), at(0, 13, 0)),
            [("repeat".into(), "03-31 11:00".into())]
        );
        let next = visit(at(14, 11, 0), VisitStatus::Booked);
        assert!(derived(&b, &client(None, vec![v, next]), at(0, 13, 0)).is_empty());
    }

    #[test]
    fn birthdays_are_greeted_at_the_local_time_once_a_year_and_29_february_on_the_28th() {
        let b = business(vec![rule("birthday", 10 * 60, true)]);
        let c = client(Some(Birthday::MonthDay { month: 3, day: 12 }), vec![]);
        let p = plan(&b, &c, &HashMap::new(), at(0, 12, 0), Duration::hours(6));
        assert_eq!(p.derived.len(), 1);
        assert_eq!(p.derived[0].key, format!("birthday:{}:2027", c.id));
        assert_eq!(show(p.derived[0].due), "03-12 10:00");
        // Past this year's: next year's.
        let p = plan(&b, &c, &HashMap::new(), at(3, 12, 0), Duration::hours(6));
        assert_eq!(p.derived[0].key, format!("birthday:{}:2028", c.id));
        let leap = client(
            Some(Birthday::Full(
                NaiveDate::from_ymd_opt(2000, 2, 29).unwrap(),
            )),
            vec![],
        );
        let p = plan(
            &b,
            &leap,
            &HashMap::new(),
            at(-20, 12, 0),
            Duration::hours(6),
        );
        assert_eq!(show(p.derived[0].due), "02-28 10:00");
    }

    #[test]
    fn a_per_visit_override_moves_or_silences_the_reminder() {
        let b = business(vec![rule("reminder_before", 24 * 60, false)]);
        let mut v = visit(at(2, 15, 0), VisitStatus::Booked);
        assert_eq!(
            derived(&b, &client(None, vec![v.clone()]), at(0, 12, 0)),
            [("reminder".into(), "03-11 15:00".into())]
        );
        v.reminder = ReminderOverride::MinutesBefore(120);
        assert_eq!(
            derived(&b, &client(None, vec![v.clone()]), at(0, 12, 0)),
            [("reminder".into(), "03-12 13:00".into())]
        );
        v.reminder = ReminderOverride::Off;
        assert!(derived(&b, &client(None, vec![v]), at(0, 12, 0)).is_empty());
    }

    #[test]
    fn a_visit_booked_after_its_reminder_s_moment_is_reminded_at_the_next_opening() {
        let b = business(vec![rule("reminder_before", 24 * 60, true)]);
        // Booked at 20:00 for 10:00 the next day: the reminder's moment has passed; the next
        // opening, 09:00, still precedes the visit.
        let mut v = visit(at(1, 10, 0), VisitStatus::Booked);
        v.created_at = at(0, 20, 0);
        assert_eq!(
            derived(&b, &client(None, vec![v.clone()]), at(0, 20, 1)),
            [("reminder".into(), "03-11 09:00".into())]
        );
        // Booked at 20:00 for 08:30: no working moment before it.
        v.start = at(1, 8, 30);
        assert!(derived(&b, &client(None, vec![v]), at(0, 20, 1)).is_empty());
    }

    #[test]
    fn events_compare_with_what_was_seen_and_changes_made_offline_collapse() {
        let mut b = business(vec![
            rule("visit_created", 0, false),
            rule("rescheduled", 0, false),
            rule("visit_cancelled", 0, false),
            rule("status_changed:confirmed", 0, false),
        ]);
        b.rules[0].statuses = vec![];
        let now = at(0, 12, 0);
        let mut v = visit(at(3, 10, 0), VisitStatus::Booked);
        v.created_at = now - Duration::minutes(5);
        let c = client(None, vec![v.clone()]);
        let keys = |p: Plan| {
            p.events
                .into_iter()
                .map(|e| e.key.split(':').next().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(plan(&b, &c, &HashMap::new(), now, Duration::hours(6))),
            ["created"]
        );
        // Seen as booked; now moved and confirmed: both said, the move superseding older moves.
        let seen: HashMap<Uuid, Seen> = [(v.id, Seen::from(&v))].into();
        let mut moved = v.clone();
        moved.start = at(4, 10, 0);
        moved.status = VisitStatus::Confirmed;
        let p = plan(
            &b,
            &client(None, vec![moved.clone()]),
            &seen,
            now,
            Duration::hours(6),
        );
        assert_eq!(p.superseded.len(), 1);
        let mut k = keys(p);
        k.sort();
        assert_eq!(k, ["moved", "status"]);
        // Booked, confirmed and cancelled before the server saw any of it: only "cancelled".
        moved.status = VisitStatus::Cancelled;
        assert_eq!(
            keys(plan(
                &b,
                &client(None, vec![moved]),
                &seen,
                now,
                Duration::hours(6)
            )),
            ["cancelled"]
        );
        // A visit first seen long after it was booked is not news.
        let old = visit(at(3, 10, 0), VisitStatus::Booked);
        assert!(
            plan(
                &b,
                &client(None, vec![old]),
                &HashMap::new(),
                now,
                Duration::hours(6)
            )
            .events
            .is_empty()
        );
    }

    #[test]
    fn still_due_follows_the_document() {
        let b = business(vec![rule("status_changed:confirmed", 0, false)]);
        let mut v = visit(at(3, 10, 0), VisitStatus::Confirmed);
        let key = format!("status:{}:confirmed:{}", v.id, v.start.timestamp_millis());
        let now = at(0, 12, 0);
        let r = b.rules[0].id;
        assert!(
            still_due(
                &b,
                &client(None, vec![v.clone()]),
                r,
                Channel::Sms,
                &key,
                now,
                Duration::hours(6)
            )
            .is_some()
        );
        assert!(
            still_due(
                &b,
                &client(None, vec![v.clone()]),
                r,
                Channel::Email,
                &key,
                now,
                Duration::hours(6)
            )
            .is_none()
        );
        v.status = VisitStatus::Cancelled;
        assert!(
            still_due(
                &b,
                &client(None, vec![v]),
                r,
                Channel::Sms,
                &key,
                now,
                Duration::hours(6)
            )
            .is_none()
        );
    }

    /// An SMS history entry of this kind and status.
    fn message(
        client: Uuid,
        kind: MessageKind,
        status: MessageStatus,
        at: DateTime<Utc>,
    ) -> crate::model::MessageRecord {
        crate::model::MessageRecord {
            id: Uuid::now_v7(),
            client_id: client,
            channel: Channel::Sms,
            kind,
            body: "Так".into(),
            at,
            staff_id: None,
            device_id: None,
            visit_id: None,
            template_id: None,
            rule_id: None,
            status,
            status_at: at,
            detail: None,
        }
    }

    #[test]
    fn a_queued_reply_is_called_for_once_and_withdrawn_with_its_entry() {
        let b = business(vec![]);
        let mut c = client(None, vec![]);
        let now = at(0, 12, 0);
        let reply = message(
            c.id,
            MessageKind::Reply,
            MessageStatus::Queued,
            now - Duration::minutes(3),
        );
        c.messages.push(reply.clone());
        let p = plan(&b, &c, &HashMap::new(), now, Duration::hours(6));
        assert_eq!(p.events.len(), 1);
        assert_eq!(
            p.events[0].id,
            Some(reply.id),
            "the entry's id is the message's"
        );
        assert_eq!(p.events[0].kind, PlannedKind::Reply);
        let key = p.events[0].key.clone();
        let due = |c: &ClientRecord| {
            still_due(
                &b,
                c,
                Uuid::nil(),
                Channel::Sms,
                &key,
                now,
                Duration::hours(6),
            )
        };
        assert_eq!(due(&c), Some(now));
        c.messages[0].status = MessageStatus::Cancelled;
        assert_eq!(due(&c), None);
        // Written on a phone that was offline for a day: it still goes, as a messenger's would.
        c.messages[0].status = MessageStatus::Queued;
        c.messages[0].at = now - Duration::hours(30);
        assert!(
            !plan(&b, &c, &HashMap::new(), now, Duration::hours(6))
                .events
                .is_empty()
        );
    }

    fn consented(mut c: ClientRecord, channels: &[Channel]) -> ClientRecord {
        for (ch, g) in c.consent.channels.iter_mut() {
            *g = channels.contains(ch);
        }
        c
    }

    #[test]
    fn a_mailing_reaches_the_audience_with_marketing_and_channel_consent_in_working_hours() {
        let mut b = business(vec![]);
        let mailing = Mailing {
            id: Uuid::now_v7(),
            name: "Весна".into(),
            channel: Channel::Sms,
            text: "Знижка".into(),
            audience: crate::model::Audience {
                tag: Some("брови".into()),
                ..Default::default()
            },
            // Started after closing: the messages go at the next opening.
            start: at(0, 20, 0),
            created_at: at(0, 20, 0),
            staff_id: None,
            cancelled: false,
        };
        b.mailings.push(mailing.clone());
        let mut c = client(None, vec![]);
        c.card.tags = vec!["брови".into()];
        c.card.phones = vec![crate::model::Phone {
            raw: "+380671234567".into(),
            e164: Some("+380671234567".into()),
            label: "mobile".into(),
            primary: true,
        }];
        let now = at(0, 20, 1);
        let planned =
            |c: &ClientRecord| plan(&b, c, &HashMap::new(), now, Duration::hours(6)).derived;
        assert!(
            planned(&consented(c.clone(), &[Channel::Sms])).is_empty(),
            "no marketing"
        );
        assert!(
            planned(&consented(c.clone(), &[Channel::Marketing])).is_empty(),
            "no sms"
        );
        let both = consented(c.clone(), &[Channel::Sms, Channel::Marketing]);
        let p = planned(&both);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].rule, p[0].kind), (mailing.id, PlannedKind::Mailing));
        assert_eq!(show(p[0].due), "03-11 09:00");
        let mut untagged = both.clone();
        untagged.card.tags.clear();
        assert!(planned(&untagged).is_empty(), "outside the audience");
        let mut later = both.clone();
        later.created_at = at(0, 21, 0);
        assert!(
            planned(&later).is_empty(),
            "joined after the mailing started"
        );
        let key = p[0].key.clone();
        let due = |b: &Business| {
            still_due(
                b,
                &both,
                mailing.id,
                Channel::Sms,
                &key,
                now,
                Duration::hours(6),
            )
        };
        assert!(due(&b).is_some());
        let mut stopped = b.clone();
        stopped.mailings[0].cancelled = true;
        assert_eq!(due(&stopped), None);
    }

    #[test]
    fn staff_are_alerted_about_what_someone_else_did_and_about_clients_replies() {
        let olena_phone = Uuid::now_v7();
        let mut b = business(vec![]);
        let olena = StaffMember {
            id: Uuid::now_v7(),
            name: "Олена".into(),
            phone: None,
            email: None,
            telegram: Some("111".into()),
            devices: vec![olena_phone],
            active: true,
        };
        let maria = StaffMember {
            id: Uuid::now_v7(),
            name: "Марія".into(),
            telegram: None,
            devices: vec![],
            email: Some("maria@example.com".into()),
            ..olena.clone()
        };
        b.staff = vec![olena.clone(), maria.clone()];
        let mut booked = rule("visit_created", 0, false);
        booked.staff = Some(vec![]);
        booked.channels = vec![Channel::Telegram, Channel::Email];
        let mut replied = rule("client_replied", 0, false);
        replied.staff = Some(vec![olena.id]);
        replied.channels = vec![Channel::Telegram];
        b.rules = vec![booked, replied];
        let now = at(0, 12, 0);
        let mut v = visit(at(3, 10, 0), VisitStatus::Booked);
        v.created_at = now - Duration::minutes(1);
        let mut c = client(None, vec![v.clone()]);
        // Booked on Olena's phone: only Maria hears of it, by email (her only address).
        c.changed_by.insert(v.id, olena_phone);
        let keys = |c: &ClientRecord| {
            let mut k: Vec<(String, Channel)> =
                plan(&b, c, &HashMap::new(), now, Duration::hours(6))
                    .events
                    .into_iter()
                    .map(|e| {
                        assert_eq!(e.kind, PlannedKind::Staff);
                        (e.key, e.channel)
                    })
                    .collect();
            k.sort();
            k
        };
        assert_eq!(
            keys(&c),
            [(
                format!("staff:{}:created:{}", maria.id, v.id),
                Channel::Email
            )]
        );
        // Booked by the server or another device: both.
        c.changed_by.clear();
        assert_eq!(keys(&c).len(), 2);
        // A client's message: Olena, on Telegram.
        c.visits.clear();
        c.messages.push(message(
            c.id,
            MessageKind::Inbound,
            MessageStatus::Received,
            now,
        ));
        let k = keys(&c);
        assert_eq!(k.len(), 1);
        assert!(k[0].0.starts_with(&format!("staff:{}:replied:", olena.id)));
        // A staff rule never writes to the client, and a client rule to nobody on staff.
        let r = b.rules[1].id;
        assert!(
            still_due(
                &b,
                &c,
                r,
                Channel::Telegram,
                &k[0].0,
                now,
                Duration::hours(6)
            )
            .is_some()
        );
        b.staff[0].telegram = None;
        assert_eq!(
            still_due(
                &b,
                &c,
                r,
                Channel::Telegram,
                &k[0].0,
                now,
                Duration::hours(6)
            ),
            None,
            "no longer reachable there"
        );
    }
}
