//! Plain records crossing the FFI boundary, and their conversions from the core's types. Ids,
//! instants and enums cross as strings (UUID, RFC 3339, the core's stable names); money as
//! integer minor units.

use kartka_core::import::{Contact, ContactPhone};
use kartka_core::model::{Client, ConsentState, MessageRecord, Phone, Visit};
use kartka_core::store::{ImportPreview, PhoneCorrection, QuickMessage};

#[derive(uniffi::Record)]
pub struct NewBusinessRec {
    pub name: String,
    pub region: String,
    pub zone: String,
    pub currency: String,
    pub locale: Option<String>,
}

#[derive(uniffi::Record)]
pub struct PhoneRec {
    pub e164: Option<String>,
    /// Dialled after the number (`5` of `044 235 12 34 доб. 5`).
    pub extension: Option<String>,
    pub raw: String,
    pub label: String,
    pub primary: bool,
}

#[derive(uniffi::Record)]
pub struct NewClientRec {
    pub name: String,
    pub phones: Vec<String>,
    pub email: Option<String>,
    /// `1990-04-15` or `--04-15`.
    pub birthday: Option<String>,
    pub comment: Option<String>,
    pub client_class: Option<String>,
    pub tags: Vec<String>,
}

#[derive(uniffi::Record)]
pub struct ClientRec {
    pub id: String,
    pub name: String,
    pub phones: Vec<PhoneRec>,
    pub email: Option<String>,
    pub birthday: Option<String>,
    pub comment: Option<String>,
    pub client_class: String,
    pub tags: Vec<String>,
    /// The channels with consent (`sms`, `whatsapp`, …).
    pub consented: Vec<String>,
    pub visits: i64,
    pub sold: i64,
    pub paid: i64,
    pub balance: i64,
    pub deleted: bool,
    pub loyalty_card: Option<String>,
    pub discount_percent: u8,
    /// RFC 3339: the last visit that took place, and the next one booked.
    pub last_visit: Option<String>,
    pub next_visit: Option<String>,
}

/// A number the new phone reader read differently on upgrade: the card list shows these once.
#[derive(uniffi::Record)]
pub struct PhoneCorrectionRec {
    pub client_id: String,
    pub name: String,
    pub raw: String,
    /// The E.164 the card had, and the one it has now (`None`: not a dialable number).
    pub was: Option<String>,
    pub now: Option<String>,
}

impl From<PhoneCorrection> for PhoneCorrectionRec {
    fn from(c: PhoneCorrection) -> Self {
        PhoneCorrectionRec {
            client_id: c.client.to_string(),
            name: c.name,
            raw: c.raw,
            was: c.was,
            now: c.now,
        }
    }
}

impl From<Phone> for PhoneRec {
    fn from(p: Phone) -> Self {
        PhoneRec {
            extension: p.extension(),
            e164: p.e164,
            raw: p.raw,
            label: p.label,
            primary: p.primary,
        }
    }
}

impl From<Client> for ClientRec {
    fn from(c: Client) -> Self {
        ClientRec {
            id: c.id.to_string(),
            name: c.name,
            phones: c.phones.into_iter().map(Into::into).collect(),
            email: c.email,
            birthday: c.birthday.map(|b| b.to_string()),
            comment: c.comment,
            client_class: c.class.as_str().to_string(),
            tags: c.tags,
            consented: c
                .consent
                .into_iter()
                .filter(|(_, g)| *g)
                .map(|(k, _)| k)
                .collect(),
            visits: c.stats.visits,
            sold: c.stats.sold,
            paid: c.stats.paid,
            balance: c.stats.balance,
            deleted: c.deleted,
            loyalty_card: c.loyalty_card,
            discount_percent: c.discount_percent,
            last_visit: c.stats.last_visit.map(|t| t.to_rfc3339()),
            next_visit: c.stats.next_visit.map(|t| t.to_rfc3339()),
        }
    }
}

#[derive(uniffi::Record)]
pub struct ConsentEventRec {
    pub subject: String,
    pub granted: bool,
    pub at: String,
    pub source: String,
    pub note: String,
}

#[derive(uniffi::Record)]
pub struct ConsentRec {
    pub granted: Vec<String>,
    pub evidence: Vec<ConsentEventRec>,
}

impl From<ConsentState> for ConsentRec {
    fn from(c: ConsentState) -> Self {
        ConsentRec {
            granted: c
                .channels
                .iter()
                .filter(|(_, g)| *g)
                .map(|(ch, _)| ch.to_string())
                .collect(),
            evidence: c
                .evidence
                .into_iter()
                .map(|e| ConsentEventRec {
                    subject: e.subject.key(),
                    granted: e.granted,
                    at: e.at.to_rfc3339(),
                    source: e.source.to_string(),
                    note: e.note,
                })
                .collect(),
        }
    }
}

#[derive(uniffi::Record)]
pub struct QuickMessageRec {
    pub channel: String,
    pub to: String,
    pub link: String,
    pub text: String,
    /// `gsm7` or `ucs2` when the message goes as an SMS.
    pub sms_encoding: Option<String>,
    pub sms_segments: Option<u32>,
}

impl From<QuickMessage> for QuickMessageRec {
    fn from(m: QuickMessage) -> Self {
        use kartka_core::messaging::segments::SmsEncoding;
        QuickMessageRec {
            channel: m.channel.to_string(),
            to: m.to,
            link: m.link,
            text: m.text,
            sms_encoding: m.sms.map(|s| match s.encoding {
                SmsEncoding::Gsm7 => "gsm7".to_string(),
                SmsEncoding::Ucs2 => "ucs2".to_string(),
            }),
            sms_segments: m.sms.map(|s| s.segments),
        }
    }
}

/// A phone-book contact as the app reads it from the platform.
#[derive(uniffi::Record)]
pub struct ContactRec {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    /// (number as stored, label)
    pub phones: Vec<ContactPhoneRec>,
    pub emails: Vec<String>,
    pub birthday: Option<String>,
    pub note: Option<String>,
    pub platform_id: Option<String>,
    pub account: Option<String>,
}

#[derive(uniffi::Record)]
pub struct ContactPhoneRec {
    pub number: String,
    pub label: String,
}

impl From<ContactRec> for Contact {
    fn from(c: ContactRec) -> Self {
        Contact {
            display_name: c.display_name,
            given_name: c.given_name,
            family_name: c.family_name,
            middle_name: None,
            organization: None,
            phones: c
                .phones
                .into_iter()
                .map(|p| ContactPhone {
                    raw: p.number,
                    label: p.label,
                })
                .collect(),
            emails: c.emails,
            birthday: c
                .birthday
                .and_then(|b| kartka_core::import::contact::parse_birthday(&b)),
            note: c.note,
            source_id: c.platform_id,
            account: c.account,
        }
    }
}

#[derive(uniffi::Record)]
pub struct PreviewItemRec {
    pub row: u32,
    pub name: Option<String>,
    /// E.164 where the number parses, else as typed.
    pub phones: Vec<String>,
    /// `new`, `duplicate`, `merge_candidate` or `invalid`.
    pub status: String,
    pub reason: String,
    pub duplicate_of: Option<String>,
}

#[derive(uniffi::Record)]
pub struct ImportPreviewRec {
    pub new: u32,
    pub duplicate: u32,
    pub merge_candidate: u32,
    pub invalid: u32,
    pub items: Vec<PreviewItemRec>,
}

impl From<ImportPreview> for ImportPreviewRec {
    fn from(p: ImportPreview) -> Self {
        use kartka_core::store::ImportStatus;
        ImportPreviewRec {
            new: p.new as u32,
            duplicate: p.duplicate as u32,
            merge_candidate: p.merge_candidate as u32,
            invalid: p.invalid as u32,
            items: p
                .items
                .into_iter()
                .map(|i| PreviewItemRec {
                    row: i.row as u32,
                    name: i.name,
                    phones: i
                        .phones
                        .into_iter()
                        .map(|p| p.e164.unwrap_or(p.raw))
                        .collect(),
                    status: match i.status {
                        ImportStatus::New => "new",
                        ImportStatus::Duplicate => "duplicate",
                        ImportStatus::MergeCandidate => "merge_candidate",
                        ImportStatus::Invalid => "invalid",
                    }
                    .into(),
                    reason: i.reason,
                    duplicate_of: i.duplicate_of,
                })
                .collect(),
        }
    }
}

#[derive(uniffi::Record)]
pub struct ServiceRec {
    pub name: String,
    /// Unit price, minor units.
    pub price: i64,
    pub quantity: u32,
}

impl From<ServiceRec> for kartka_core::model::ServiceLine {
    fn from(s: ServiceRec) -> Self {
        kartka_core::model::ServiceLine {
            name: s.name,
            price: s.price,
            quantity: s.quantity,
        }
    }
}

#[derive(uniffi::Record)]
pub struct NewVisitRec {
    pub client_id: String,
    /// RFC 3339 instant.
    pub start: String,
    pub duration_min: u32,
    pub services: Vec<ServiceRec>,
    /// Minor units; `None`: the services less the client's discount.
    pub total: Option<i64>,
    pub paid: i64,
    /// `default` (the business's rules), `off`, or minutes before the visit.
    #[uniffi(default = "default")]
    pub reminder: String,
    #[uniffi(default)]
    pub note: Option<String>,
}

#[derive(uniffi::Record)]
pub struct VisitRec {
    pub id: String,
    pub client_id: String,
    pub start: String,
    pub zone: String,
    pub duration_min: u32,
    pub services: Vec<ServiceRec>,
    pub total: i64,
    pub paid: i64,
    pub status: String,
    /// `default`, `off`, or minutes before the visit.
    pub reminder: String,
    pub note: Option<String>,
}

impl From<Visit> for VisitRec {
    fn from(v: Visit) -> Self {
        VisitRec {
            id: v.id.to_string(),
            client_id: v.client_id.to_string(),
            start: v.start.to_rfc3339(),
            zone: v.zone,
            duration_min: v.duration_min,
            services: v
                .services
                .into_iter()
                .map(|s| ServiceRec {
                    name: s.name,
                    price: s.price,
                    quantity: s.quantity,
                })
                .collect(),
            total: v.total,
            paid: v.paid,
            status: v.status.to_string(),
            reminder: v.reminder.to_string(),
            note: v.note,
        }
    }
}

#[derive(uniffi::Record)]
pub struct MessageRec {
    pub id: String,
    pub channel: String,
    pub body: String,
    pub at: String,
    pub status: String,
    /// `manual` (the phone's app), `automatic` (the server's rules), `inbound` (the client
    /// wrote), `reply` (a master's answer the server sends), `mailing`, or `staff` (an alert to
    /// staff about this client, never sent to the client).
    pub kind: String,
    /// Why a message failed or was skipped; what a client's reply did ("confirmed the visit").
    pub detail: Option<String>,
    pub visit_id: Option<String>,
    /// The notification rule that sent it.
    pub rule_id: Option<String>,
}

impl From<MessageRecord> for MessageRec {
    fn from(m: MessageRecord) -> Self {
        MessageRec {
            id: m.id.to_string(),
            channel: m.channel.to_string(),
            body: m.body,
            at: m.at.to_rfc3339(),
            status: m.status.to_string(),
            kind: m.kind.to_string(),
            detail: m.detail,
            visit_id: m.visit_id.map(|v| v.to_string()),
            rule_id: m.rule_id.map(|r| r.to_string()),
        }
    }
}
