//! The client list and the client card at the FFI edge: filtered search, editing a card, its
//! consent with evidence, its buttons, and the composer's template and SMS segment count.

use kartka_core::messaging::segments::{self, SmsEncoding};
use kartka_core::model::{Birthday, ClientClass, ClientPatch};
use kartka_core::store::{ClientFilter, MessageFilter, Page, VisitFilter};

use crate::records::PhoneCorrectionRec;
use crate::{ApiError, ClientBook, ClientRec, ConsentRec, MessageRec, VisitRec, id, instant};

/// What the message log shows; every field given narrows it.
#[derive(Default, uniffi::Record)]
pub struct MessageFilterRec {
    #[uniffi(default)]
    pub client_id: Option<String>,
    #[uniffi(default)]
    pub channel: Option<String>,
    /// `sent`, `delivered`, `failed`, `received`, …
    #[uniffi(default)]
    pub status: Option<String>,
    /// `manual`, `automatic` or `inbound`.
    #[uniffi(default)]
    pub kind: Option<String>,
    #[uniffi(default)]
    pub rule_id: Option<String>,
    /// RFC 3339, inclusive.
    #[uniffi(default)]
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    #[uniffi(default)]
    pub to: Option<String>,
}

#[derive(uniffi::Record)]
pub struct LoggedMessageRec {
    pub client_id: String,
    pub client_name: String,
    pub message: MessageRec,
}

/// Changes to a client card; `None` leaves a field as it is. For the optional text fields
/// (email, birthday, comment, loyalty card) an empty string clears the field.
#[derive(Default, uniffi::Record)]
pub struct ClientPatchRec {
    #[uniffi(default)]
    pub name: Option<String>,
    /// The whole new list of numbers, as typed.
    #[uniffi(default)]
    pub phones: Option<Vec<String>>,
    #[uniffi(default)]
    pub email: Option<String>,
    #[uniffi(default)]
    pub birthday: Option<String>,
    #[uniffi(default)]
    pub comment: Option<String>,
    #[uniffi(default)]
    pub client_class: Option<String>,
    #[uniffi(default)]
    pub add_tags: Vec<String>,
    #[uniffi(default)]
    pub remove_tags: Vec<String>,
    #[uniffi(default)]
    pub loyalty_card: Option<String>,
    #[uniffi(default)]
    pub discount_percent: Option<u8>,
}

/// One button of the client card.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CardActionRec {
    /// `call`, `sms`, `whatsapp`, `telegram`, `viber` or `email`.
    pub action: String,
    pub enabled: bool,
    /// Why the button is disabled (`no consent for sms`, `no phone number`, …).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct SmsInfoRec {
    /// `gsm7` or `ucs2`.
    pub encoding: String,
    /// Characters as the network counts them (a GSM-7 escape counts two).
    pub units: u32,
    pub segments: u32,
    /// Characters per segment at this length (160/153 for GSM-7, 70/67 for UCS-2).
    pub per_segment: u32,
}

/// How a text would go as an SMS: its encoding and how many segments it costs. The composer
/// shows this as the master types, before any client or consent is involved.
#[uniffi::export]
pub fn sms_info(text: String) -> SmsInfoRec {
    let info = segments::analyze(&text);
    SmsInfoRec {
        encoding: match info.encoding {
            SmsEncoding::Gsm7 => "gsm7",
            SmsEncoding::Ucs2 => "ucs2",
        }
        .to_string(),
        units: info.units,
        segments: info.segments,
        per_segment: info.per_segment,
    }
}

/// `Some("")` → `Some(None)` (clear), `Some(x)` → `Some(Some(x))`, `None` → `None`.
fn clearable(v: Option<String>) -> Option<Option<String>> {
    v.map(|s| {
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_string())
    })
}

fn class_filter(class: Option<String>) -> Result<Option<ClientClass>, ApiError> {
    Ok(class
        .filter(|c| !c.trim().is_empty())
        .map(|c| ClientClass::parse(&c))
        .transpose()?)
}

#[uniffi::export]
impl ClientBook {
    /// The client list: `query` by name, phone digits or email (blank: everyone in name order),
    /// within a class and a tag when given.
    pub fn find_clients(
        &self,
        query: String,
        client_class: Option<String>,
        tag: Option<String>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ClientRec>, ApiError> {
        let filter = ClientFilter {
            class: class_filter(client_class)?,
            tag: tag.filter(|t| !t.trim().is_empty()),
            include_deleted: false,
        };
        let found = self
            .store()?
            .find_clients(&query, &filter, Page { offset, limit })?;
        Ok(found.into_iter().map(Into::into).collect())
    }

    pub fn update_client(
        &self,
        client_id: String,
        patch: ClientPatchRec,
    ) -> Result<ClientRec, ApiError> {
        let client = id(&client_id)?;
        let birthday = match clearable(patch.birthday) {
            Some(Some(b)) => Some(Some(b.parse::<Birthday>()?)),
            Some(None) => Some(None),
            None => None,
        };
        let core = ClientPatch {
            name: patch.name,
            phones: patch
                .phones
                .map(|ps| ps.into_iter().map(|p| (p, String::new())).collect()),
            email: clearable(patch.email),
            birthday,
            comment: clearable(patch.comment),
            class: class_filter(patch.client_class)?,
            add_tags: patch.add_tags,
            remove_tags: patch.remove_tags,
            loyalty_card: clearable(patch.loyalty_card),
            discount_percent: patch.discount_percent,
            ..Default::default()
        };
        let c = self.store()?.update_client(client, core)?;
        self.notify(vec![client]);
        Ok(c.into())
    }

    /// The client's consent per channel, with every grant and withdrawal and its evidence.
    pub fn consent(&self, client_id: String) -> Result<ConsentRec, ApiError> {
        Ok(self.store()?.consent(id(&client_id)?)?.into())
    }

    /// The card's buttons (Call, SMS, WhatsApp, Telegram, Viber, email) with the reason each
    /// disabled one is disabled.
    pub fn card_actions(&self, client_id: String) -> Result<Vec<CardActionRec>, ApiError> {
        Ok(self
            .store()?
            .card_actions(id(&client_id)?)?
            .into_iter()
            .map(|a| CardActionRec {
                action: a.action.to_string(),
                enabled: a.enabled,
                reason: a.reason,
            })
            .collect())
    }

    /// RFC 3966 `tel:` record of the client's primary number (`;ext=` for an extension).
    pub fn call_link(&self, client_id: String) -> Result<String, ApiError> {
        Ok(self.store()?.call_link(id(&client_id)?)?)
    }

    /// The link the Call button gives the phone's dialer: the extension after a pause.
    pub fn dial_link(&self, client_id: String) -> Result<String, ApiError> {
        Ok(self.store()?.dial_link(id(&client_id)?)?)
    }

    /// The numbers the upgrade read again differently, not yet shown: the card list shows them
    /// once, then calls [`ClientBook::mark_phone_corrections_seen`].
    pub fn phone_corrections(&self) -> Result<Vec<PhoneCorrectionRec>, ApiError> {
        Ok(self
            .store()?
            .phone_corrections()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub fn mark_phone_corrections_seen(&self) -> Result<(), ApiError> {
        Ok(self.store()?.mark_phone_corrections_seen()?)
    }

    /// A business template rendered for the client (and one of their visits), for the
    /// composer to show and the master to edit before sending.
    pub fn render_template(
        &self,
        template_id: String,
        client_id: String,
        visit_id: Option<String>,
    ) -> Result<String, ApiError> {
        let store = self.store()?;
        let client = store.get_client(id(&client_id)?)?;
        let visit = visit_id.as_deref().map(id).transpose()?;
        Ok(store.render_template(id(&template_id)?, &client, visit)?)
    }

    /// The business's message log, newest first: every client's messages, automatic and
    /// manual, sent and received.
    pub fn message_log(
        &self,
        filter: MessageFilterRec,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<LoggedMessageRec>, ApiError> {
        let f = MessageFilter {
            client: filter.client_id.as_deref().map(id).transpose()?,
            channel: filter.channel.map(|c| c.parse()).transpose()?,
            status: filter.status.map(|s| s.parse()).transpose()?,
            kind: filter.kind.map(|k| k.parse()).transpose()?,
            rule: filter.rule_id.as_deref().map(id).transpose()?,
            from: filter.from.as_deref().map(instant).transpose()?,
            to: filter.to.as_deref().map(instant).transpose()?,
        };
        let log = self.store()?.message_log(&f, Page { offset, limit })?;
        Ok(log
            .into_iter()
            .map(|l| LoggedMessageRec {
                client_id: l.message.client_id.to_string(),
                client_name: l.client_name,
                message: l.message.into(),
            })
            .collect())
    }

    /// The client's visits, newest first.
    pub fn client_visits(&self, client_id: String) -> Result<Vec<VisitRec>, ApiError> {
        let filter = VisitFilter {
            client: Some(id(&client_id)?),
            ..Default::default()
        };
        let mut visits = self.store()?.list_visits(&filter)?;
        visits.sort_by_key(|v| std::cmp::Reverse(v.start));
        Ok(visits.into_iter().map(Into::into).collect())
    }
}
