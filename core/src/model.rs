//! The domain model: what a client card, a visit, consent and the business settings are.
//!
//! These are plain values. The CRDT layout that stores them lives in `crdt/`, the SQLite
//! projection that serves reads in `store/`. Money is integer minor units of the business currency;
//! instants are UTC with the business's IANA zone beside them; ids are UUIDs.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

use crate::error::{Error, Result};

/// A phone number as the master typed or imported it, with its E.164 form when it parses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    /// `+380671234567`; `None` when the number could not be parsed (kept, flagged, never dropped).
    pub e164: Option<String>,
    pub raw: String,
    pub label: String,
    pub primary: bool,
}

impl Phone {
    /// The key a phone is stored under in its client's document: two devices adding the same
    /// number concurrently end up with one entry, not two.
    pub fn key(&self) -> String {
        match &self.e164 {
            Some(e) => e.clone(),
            None => format!("raw:{}", self.raw),
        }
    }

    /// The extension dialled after the number (`5` of `044 235 12 34 доб. 5`); numbers that
    /// differ only by it are one number to dedup and search.
    pub fn extension(&self) -> Option<String> {
        crate::phone::extension(&self.raw, self.e164.as_deref()?)
    }
}

/// A birthday as phone books store it: with or without the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Birthday {
    Full(NaiveDate),
    MonthDay { month: u32, day: u32 },
}

impl Birthday {
    pub fn month_day(&self) -> (u32, u32) {
        match self {
            Birthday::Full(d) => (d.month(), d.day()),
            Birthday::MonthDay { month, day } => (*month, *day),
        }
    }
}

impl fmt::Display for Birthday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Birthday::Full(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Birthday::MonthDay { month, day } => write!(f, "--{month:02}-{day:02}"),
        }
    }
}

impl FromStr for Birthday {
    type Err = Error;

    /// Accepts `1990-04-15`, `--04-15` (vCard's no-year form) and `--0415`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::validation("birthday", "expected YYYY-MM-DD or --MM-DD");
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("--") {
            let digits: String = rest.chars().filter(|c| *c != '-').collect();
            if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let month: u32 = digits[..2].parse().map_err(|_| bad())?;
            let day: u32 = digits[2..].parse().map_err(|_| bad())?;
            // 2000 is a leap year, so 29 February is a valid birthday without a year.
            NaiveDate::from_ymd_opt(2000, month, day).ok_or_else(bad)?;
            return Ok(Birthday::MonthDay { month, day });
        }
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
            .map_err(|_| bad())?;
        Ok(Birthday::Full(d))
    }
}

impl Serialize for Birthday {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Birthday {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How much a client matters to the business. Masters invent their own classes, so any label is
/// allowed; `regular` and `vip` are the two every app understands.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientClass {
    Regular,
    Vip,
    Custom(String),
}

impl ClientClass {
    pub fn as_str(&self) -> &str {
        match self {
            ClientClass::Regular => "regular",
            ClientClass::Vip => "vip",
            ClientClass::Custom(s) => s,
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.is_empty() {
            return Err(Error::validation("class", "must not be empty"));
        }
        Ok(match t.to_lowercase().as_str() {
            "regular" => ClientClass::Regular,
            "vip" => ClientClass::Vip,
            _ => ClientClass::Custom(t.to_string()),
        })
    }
}

impl Serialize for ClientClass {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident ($field:literal) { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::validation(
                        $field,
                        format!("expected one of: {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// Where a client card came from.
    ClientSource("client_source") { Manual => "manual", Phonebook => "phonebook", Vcard => "vcard", Csv => "csv", Booking => "booking", Message => "message" }
);

string_enum!(
    VisitStatus("visit_status") {
        Booked => "booked",
        Confirmed => "confirmed",
        Arrived => "arrived",
        Completed => "completed",
        NoShow => "no_show",
        Cancelled => "cancelled",
    }
);

impl Channel {
    /// Whether a message can go on this channel: `marketing` is a consent, not a channel.
    pub fn check_sendable(&self) -> Result<()> {
        if *self == Channel::Marketing {
            return Err(Error::validation(
                "channel",
                "marketing is a consent, not a channel",
            ));
        }
        Ok(())
    }
}

impl VisitStatus {
    /// A visit that took place: it counts as a visit and its total as sold.
    pub fn took_place(&self) -> bool {
        matches!(self, VisitStatus::Arrived | VisitStatus::Completed)
    }

    /// A visit still expected to happen.
    pub fn is_upcoming(&self) -> bool {
        matches!(self, VisitStatus::Booked | VisitStatus::Confirmed)
    }
}

string_enum!(
    /// A messaging channel, plus `marketing`: consent to mass mailings, recorded separately.
    Channel("channel") {
        Sms => "sms",
        Whatsapp => "whatsapp",
        Email => "email",
        Telegram => "telegram",
        Viber => "viber",
        Marketing => "marketing",
    }
);

string_enum!(
    /// Notification types a client can opt out of one by one.
    NotificationKind("notification_kind") {
        VisitCreated => "visit_created",
        VisitChanged => "visit_changed",
        VisitCancelled => "visit_cancelled",
        Reminder => "reminder",
        ReviewRequest => "review_request",
        RepeatVisit => "repeat_visit",
        Birthday => "birthday",
    }
);

string_enum!(
    /// The evidence behind a consent change.
    ConsentSource("consent_source") {
        Verbal => "verbal",
        Written => "written",
        BookingForm => "booking_form",
        ClientReply => "client_reply",
        Other => "other",
    }
);

string_enum!(
    /// Where a message stands. Quick messages from the card are `handed_to_app` (the phone's
    /// own app sends them, Kartka cannot know more); the server's gateways report the rest;
    /// a message the client wrote is `received`.
    MessageStatus("message_status") {
        HandedToApp => "handed_to_app",
        Scheduled => "scheduled",
        Sending => "sending",
        Sent => "sent",
        Delivered => "delivered",
        Read => "read",
        Failed => "failed",
        SkippedNoConsent => "skipped_no_consent",
        Uncertain => "uncertain",
        Cancelled => "cancelled",
        Received => "received",
        Queued => "queued",
    }
);

string_enum!(
    /// Who started a message, and how it goes out: `manual` through the phone's own app,
    /// `reply` (a master's answer) and everything else outbound through the server's gateways;
    /// `staff` went to a staff member about this client, never to the client.
    MessageKind("message_kind") {
        Manual => "manual",
        Automatic => "automatic",
        Inbound => "inbound",
        Reply => "reply",
        Mailing => "mailing",
        Staff => "staff",
    }
);

string_enum!(
    /// Where a conversation with a client stands. A postponed one comes back as unanswered at
    /// its time.
    ConversationStatus("conversation_status") {
        Unanswered => "unanswered",
        Open => "open",
        Postponed => "postponed",
        Closed => "closed",
    }
);

/// A client's conversation: the state of the thread of messages they write and the business
/// answers, shared by every staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conversation {
    pub status: ConversationStatus,
    /// When the status last changed (an inbound message makes it unanswered again).
    pub since: DateTime<Utc>,
    /// Postponed until then.
    pub until: Option<DateTime<Utc>>,
    /// The staff member who took it.
    pub staff_id: Option<Uuid>,
}

impl Conversation {
    /// The status as it reads at `now`: a postponement that ran out is unanswered again.
    pub fn status_at(&self, now: DateTime<Utc>) -> ConversationStatus {
        match (self.status, self.until) {
            (ConversationStatus::Postponed, Some(t)) if t <= now => ConversationStatus::Unanswered,
            (s, _) => s,
        }
    }
}

/// A note staff keep on a client's conversation (who took it, who closed it, anything else):
/// shown to staff on every device, never sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: Uuid,
    pub client_id: Uuid,
    pub body: String,
    pub at: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
}

/// One entry of a client's message history, synced like everything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageRecord {
    pub id: Uuid,
    pub client_id: Uuid,
    pub channel: Channel,
    pub kind: MessageKind,
    pub body: String,
    pub at: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub visit_id: Option<Uuid>,
    pub template_id: Option<Uuid>,
    /// The notification rule that sent it (automatic messages).
    pub rule_id: Option<Uuid>,
    pub status: MessageStatus,
    pub status_at: DateTime<Utc>,
    /// Why it failed or was skipped, as the gateway or the scheduler said.
    pub detail: Option<String>,
}

/// What a consent record is about: a channel, or one type of notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsentSubject {
    Channel(Channel),
    Notification(NotificationKind),
}

impl ConsentSubject {
    /// Channels start off (no message without recorded consent); notification types start on,
    /// because the channel consent already gates them.
    pub fn default_granted(&self) -> bool {
        matches!(self, ConsentSubject::Notification(_))
    }

    pub fn key(&self) -> String {
        match self {
            ConsentSubject::Channel(c) => c.as_str().to_string(),
            ConsentSubject::Notification(n) => format!("notify:{}", n.as_str()),
        }
    }

    pub fn from_key(s: &str) -> Option<Self> {
        match s.strip_prefix("notify:") {
            Some(n) => n.parse().ok().map(ConsentSubject::Notification),
            None => s.parse().ok().map(ConsentSubject::Channel),
        }
    }
}

impl Serialize for ConsentSubject {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

/// One recorded change of consent: the evidence kept for every grant and withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentEvent {
    pub id: Uuid,
    pub subject: ConsentSubject,
    pub granted: bool,
    pub at: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
    pub device_id: Uuid,
    pub source: ConsentSource,
    pub note: String,
}

/// A client's consent as it stands, with the evidence behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentState {
    pub channels: Vec<(Channel, bool)>,
    pub notifications: Vec<(NotificationKind, bool)>,
    /// Oldest first.
    pub evidence: Vec<ConsentEvent>,
}

impl ConsentState {
    pub fn granted(&self, channel: Channel) -> bool {
        self.channels.iter().any(|(c, g)| *c == channel && *g)
    }
}

/// Derived per client from their visits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClientStats {
    /// Visits that took place (arrived or completed).
    pub visits: i64,
    /// Sum of the totals of visits that took place, minor units.
    pub sold: i64,
    /// Sum paid on any visit (prepayments included), minor units.
    pub paid: i64,
    /// `sold - paid`: positive means the client owes, negative is the client's credit.
    pub balance: i64,
    pub last_visit: Option<DateTime<Utc>>,
    pub next_visit: Option<DateTime<Utc>>,
}

/// A client card as every read returns it (from the projection).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Client {
    pub id: Uuid,
    pub name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phones: Vec<Phone>,
    pub email: Option<String>,
    pub birthday: Option<Birthday>,
    pub comment: Option<String>,
    pub class: ClientClass,
    pub tags: Vec<String>,
    pub loyalty_card: Option<String>,
    pub discount_percent: u8,
    pub source: ClientSource,
    /// Channel → granted, every channel listed.
    pub consent: std::collections::BTreeMap<String, bool>,
    pub stats: ClientStats,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted: bool,
}

/// What the master enters for a new client.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// (number as typed, label)
    pub phones: Vec<(String, String)>,
    pub email: Option<String>,
    pub birthday: Option<Birthday>,
    pub comment: Option<String>,
    pub class: Option<ClientClass>,
    pub tags: Vec<String>,
    pub loyalty_card: Option<String>,
    pub discount_percent: Option<u8>,
    pub source: Option<ClientSource>,
}

/// A partial edit of a client: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ClientPatch {
    pub name: Option<String>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    /// Replaces the phone list; the first one becomes primary.
    pub phones: Option<Vec<(String, String)>>,
    pub email: Option<Option<String>>,
    pub birthday: Option<Option<Birthday>>,
    pub comment: Option<Option<String>>,
    pub class: Option<ClientClass>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub loyalty_card: Option<Option<String>>,
    pub discount_percent: Option<u8>,
}

/// One line of a visit: a service, its unit price and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLine {
    pub name: String,
    /// Unit price, minor units.
    pub price: i64,
    pub quantity: u32,
}

/// Per-visit override of the reminder rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReminderOverride {
    /// The business rules decide.
    #[default]
    Default,
    /// No reminder for this visit.
    Off,
    MinutesBefore(u32),
}

impl std::str::FromStr for ReminderOverride {
    type Err = Error;

    /// `default`, `off` (or `none`), or minutes before the visit.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "off" | "none" => Ok(ReminderOverride::Off),
            "default" | "" => Ok(ReminderOverride::Default),
            m => m.parse().map(ReminderOverride::MinutesBefore).map_err(|_| {
                Error::validation(
                    "reminder",
                    "expected minutes before the visit, off or default",
                )
            }),
        }
    }
}

impl fmt::Display for ReminderOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReminderOverride::Default => f.write_str("default"),
            ReminderOverride::Off => f.write_str("off"),
            ReminderOverride::MinutesBefore(m) => write!(f, "{m}"),
        }
    }
}

impl Serialize for ReminderOverride {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            ReminderOverride::Default => s.serialize_none(),
            ReminderOverride::Off => s.serialize_str("off"),
            ReminderOverride::MinutesBefore(m) => s.serialize_u32(*m),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visit {
    pub id: Uuid,
    pub client_id: Uuid,
    pub start: DateTime<Utc>,
    /// IANA zone the visit was booked in (the business's).
    pub zone: String,
    pub duration_min: u32,
    pub services: Vec<ServiceLine>,
    pub total: i64,
    pub paid: i64,
    pub status: VisitStatus,
    pub staff_id: Option<Uuid>,
    pub note: Option<String>,
    pub reminder: ReminderOverride,
    pub repeat_after_days: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted: bool,
}

#[derive(Debug, Clone)]
pub struct NewVisit {
    pub client_id: Uuid,
    pub start: DateTime<Utc>,
    pub duration_min: u32,
    pub services: Vec<ServiceLine>,
    /// `None`: the sum of the lines less the client's discount.
    pub total: Option<i64>,
    pub paid: i64,
    pub status: VisitStatus,
    pub staff_id: Option<Uuid>,
    pub note: Option<String>,
    pub reminder: ReminderOverride,
    pub repeat_after_days: Option<u32>,
}

impl NewVisit {
    /// A booked visit with nothing else set: no staff or note, the business's reminder rules,
    /// nothing paid, and the total the services come to less the client's discount.
    pub fn booked(
        client_id: Uuid,
        start: DateTime<Utc>,
        duration_min: u32,
        services: Vec<ServiceLine>,
    ) -> NewVisit {
        NewVisit {
            client_id,
            start,
            duration_min,
            services,
            total: None,
            paid: 0,
            status: VisitStatus::Booked,
            staff_id: None,
            note: None,
            reminder: ReminderOverride::Default,
            repeat_after_days: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct VisitPatch {
    pub start: Option<DateTime<Utc>>,
    pub duration_min: Option<u32>,
    pub services: Option<Vec<ServiceLine>>,
    pub total: Option<i64>,
    pub paid: Option<i64>,
    pub status: Option<VisitStatus>,
    pub staff_id: Option<Option<Uuid>>,
    pub note: Option<Option<String>>,
    pub reminder: Option<ReminderOverride>,
    pub repeat_after_days: Option<Option<u32>>,
    pub deleted: Option<bool>,
}

/// A working interval in local wall time, minutes from midnight, `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WorkInterval {
    pub start_min: u16,
    pub end_min: u16,
}

/// Working hours for one weekday, Monday = 0.
pub type WeekHours = [Vec<WorkInterval>; 7];

pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Parses `09:00-13:00,14:00-19:00`; an empty string or `closed` is a day off.
pub fn parse_day_hours(s: &str) -> Result<Vec<WorkInterval>> {
    let s = s.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("closed") || s == "-" {
        return Ok(Vec::new());
    }
    let bad = || Error::validation("hours", "expected HH:MM-HH:MM[,HH:MM-HH:MM]");
    let hm = |t: &str| -> Result<u16> {
        let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 24 || m > 59 || (h == 24 && m != 0) {
            return Err(bad());
        }
        Ok(h * 60 + m)
    };
    let mut out: Vec<WorkInterval> = Vec::new();
    for part in s.split(',') {
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let iv = WorkInterval {
            start_min: hm(a)?,
            end_min: hm(b)?,
        };
        if iv.start_min >= iv.end_min {
            return Err(Error::validation(
                "hours",
                "an interval must end after it starts",
            ));
        }
        if out.last().is_some_and(|l| l.end_min > iv.start_min) {
            return Err(Error::validation(
                "hours",
                "intervals must be in order and not overlap",
            ));
        }
        out.push(iv);
    }
    Ok(out)
}

pub fn format_day_hours(day: &[WorkInterval]) -> String {
    if day.is_empty() {
        return "closed".into();
    }
    day.iter()
        .map(|iv| {
            format!(
                "{:02}:{:02}-{:02}:{:02}",
                iv.start_min / 60,
                iv.start_min % 60,
                iv.end_min / 60,
                iv.end_min % 60
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffMember {
    pub id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The staff member's own chat with the business's bot: where staff alerts go on Telegram.
    pub telegram: Option<String>,
    /// The devices this staff member works on (a device says so when its staff is set): a
    /// change made from one of them is theirs, and does not alert them.
    pub devices: Vec<Uuid>,
    pub active: bool,
}

/// A message template. Its placeholders are checked when it is saved (messaging issue).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    pub id: Uuid,
    pub name: String,
    /// `None`: usable on any channel.
    pub channel: Option<Channel>,
    pub body: String,
    /// The approved WhatsApp template this one maps to, `name:language` (e.g.
    /// `visit_reminder:uk`): business-initiated WhatsApp messages must be approved templates,
    /// and this template's placeholders, in order of first use, become its parameters.
    pub whatsapp: Option<String>,
}

/// A notification rule as the devices edit it, offline like the rest; the server executes it
/// (`notify::plan` says what it means).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub id: Uuid,
    pub name: String,
    /// A `notify::Trigger` in its string form, e.g. `reminder_before`, `visit_created`,
    /// `status_changed:confirmed`, `after_completed`, `birthday`. Kept as text so a trigger
    /// added by a newer version survives an older device (which checks it when saving).
    pub trigger: String,
    /// Minutes: before the visit for reminders, after local midnight for birthdays, a delay
    /// after the event otherwise.
    pub offset_min: i64,
    pub channels: Vec<Channel>,
    /// The template for channels without their own.
    pub template_id: Option<Uuid>,
    /// A channel's own template.
    pub channel_templates: Vec<(Channel, Uuid)>,
    pub working_hours_only: bool,
    pub statuses: Vec<VisitStatus>,
    pub enabled: bool,
    /// `None`: the rule writes to the client. `Some`: it alerts staff instead (these members,
    /// or every active one when the list is empty), on Telegram or email, never the client.
    pub staff: Option<Vec<Uuid>>,
}

/// Business settings: one per book, edited on any device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Business {
    pub id: Uuid,
    pub name: String,
    /// ISO 3166 region, the default for parsing phone numbers typed without a country code.
    pub region: String,
    /// IANA zone.
    pub zone: String,
    /// ISO 4217.
    pub currency: String,
    pub locale: String,
    pub phone: Option<String>,
    /// The username of the business's Telegram bot (`studio_bot`), for the links that let a
    /// client start it from the card.
    pub telegram_bot: Option<String>,
    #[serde(serialize_with = "ser_week")]
    pub working_hours: WeekHours,
    pub staff: Vec<StaffMember>,
    pub templates: Vec<Template>,
    pub rules: Vec<Rule>,
    /// Mass mailings, newest last; the server sends them.
    pub mailings: Vec<Mailing>,
}

/// The clients a mailing is for; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

impl Audience {
    /// Whether a client with this class, tags, last visit and birthday is in the audience: the
    /// one definition the device's preview and the server's sending share.
    pub fn matches(
        &self,
        class: &ClientClass,
        tags: &[String],
        last_visit: Option<DateTime<Utc>>,
        birthday: Option<&Birthday>,
    ) -> bool {
        self.class.as_ref().is_none_or(|c| c == class)
            && self.tag.as_ref().is_none_or(|t| tags.contains(t))
            && self
                .last_visit_before
                .is_none_or(|t| last_visit.is_some_and(|l| l < t))
            && self
                .last_visit_after
                .is_none_or(|t| last_visit.is_some_and(|l| l >= t))
            && self
                .birthday_month
                .is_none_or(|m| birthday.is_some_and(|b| b.month_day().0 == m))
    }
}

/// A mass mailing: one text to an audience on one channel, sent by the server to those who
/// consent to marketing and to the channel at the moment of sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailing {
    pub id: Uuid,
    pub name: String,
    pub channel: Channel,
    /// A template body: placeholders such as `{client_first_name}` are filled per client.
    pub text: String,
    pub audience: Audience,
    /// Not sent before this moment (and only in working hours).
    pub start: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub staff_id: Option<Uuid>,
    /// Stopped by a master: what has not gone out yet never will.
    pub cancelled: bool,
}

#[derive(Debug, Clone)]
pub struct NewBusiness {
    pub name: String,
    pub region: String,
    pub zone: String,
    pub currency: String,
    pub locale: Option<String>,
}

fn ser_week<S: Serializer>(w: &WeekHours, s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(7))?;
    for (day, hours) in WEEKDAYS.iter().zip(w.iter()) {
        m.serialize_entry(day, &format_day_hours(hours))?;
    }
    m.end()
}
