//! Quick actions from the client card: a call, or a message handed to the phone's own app
//! (SMS, WhatsApp, Telegram, Viber, email), optionally started from a template. Consent gates
//! every message channel; a call is always available.

use serde::Serialize;
use uuid::Uuid;

use super::Store;
use crate::error::{Error, Result};
use crate::messaging::deeplink::{self, Platform};
use crate::messaging::segments::{self, SmsInfo};
use crate::messaging::template::{Locale, RenderContext, Template, VisitContext};
use crate::model::{Channel, Client};

/// Where the text of a quick message comes from.
#[derive(Debug, Clone)]
pub enum MessageText {
    /// A template of the business, rendered with the client's (and the visit's) data.
    Template(Uuid),
    Text(String),
}

/// Everything the app needs to open the phone's own app with the message ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuickMessage {
    pub channel: Channel,
    /// The number (E.164) or email address the message goes to.
    pub to: String,
    pub link: String,
    pub text: String,
    /// Encoding and segments when the text goes as an SMS.
    pub sms: Option<SmsInfo>,
    pub template_id: Option<Uuid>,
}

/// One button of the client card: whether it can be used now, and if not, why (shown on the
/// disabled button, so the master knows to ask for consent or a number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardAction {
    /// `call`, or a message channel (`sms`, `whatsapp`, `telegram`, `viber`, `email`).
    pub action: &'static str,
    pub enabled: bool,
    pub reason: Option<String>,
}

/// The card's buttons, in the order the apps show them.
const CARD_CHANNELS: [Channel; 5] = [
    Channel::Sms,
    Channel::Whatsapp,
    Channel::Telegram,
    Channel::Viber,
    Channel::Email,
];

fn primary_number(c: &Client) -> Option<&str> {
    c.phones.iter().filter_map(|p| p.e164.as_deref()).next()
}

/// The first dialable number with its extension.
fn primary_phone(c: &Client) -> Result<(&str, Option<String>)> {
    c.phones
        .iter()
        .find_map(|p| Some((p.e164.as_deref()?, p.extension())))
        .ok_or(Error::NoAddress {
            what: "phone number",
        })
}

fn link_error(e: impl std::fmt::Display) -> Error {
    Error::validation("link", e.to_string())
}

impl Store {
    /// RFC 3966 `tel:` record of the client's primary number, extension included
    /// (`tel:+380442351234;ext=5`): always available, consent or not.
    pub fn call_link(&self, client: Uuid) -> Result<String> {
        let c = self.get_client(client)?;
        let (number, ext) = primary_phone(&c)?;
        deeplink::tel_record(number, ext.as_deref()).map_err(link_error)
    }

    /// What the app's Call button hands the phone's dialer: the primary number, then a pause
    /// and the extension (`tel:+380442351234,5`).
    pub fn dial_link(&self, client: Uuid) -> Result<String> {
        let c = self.get_client(client)?;
        let (number, ext) = primary_phone(&c)?;
        deeplink::dial(number, ext.as_deref()).map_err(link_error)
    }

    /// The client card's buttons: Call needs a number; a message channel needs the client's
    /// consent on it and a number (an address for email). The same checks as
    /// [`Store::quick_message`], read off the card without building a message.
    pub fn card_actions(&self, client: Uuid) -> Result<Vec<CardAction>> {
        let c = self.get_client(client)?;
        let has_number = primary_number(&c).is_some();
        let mut out = vec![CardAction {
            action: "call",
            enabled: has_number,
            reason: (!has_number).then(|| "no phone number".to_string()),
        }];
        for channel in CARD_CHANNELS {
            let consented = c.consent.get(channel.as_str()).copied().unwrap_or(false);
            let has_address = match channel {
                Channel::Email => c.email.is_some(),
                _ => has_number,
            };
            let reason = if !has_address {
                Some(match channel {
                    Channel::Email => "no email address".to_string(),
                    _ => "no phone number".to_string(),
                })
            } else if !consented {
                Some(format!("no consent for {channel}"))
            } else {
                None
            };
            out.push(CardAction {
                action: channel.as_str(),
                enabled: reason.is_none(),
                reason,
            });
        }
        Ok(out)
    }

    /// Builds a quick message for the master to review, edit and send from the phone's app.
    /// Refused without consent for the channel, or without a number or address for it.
    pub fn quick_message(
        &self,
        client: Uuid,
        channel: Channel,
        text: MessageText,
        visit: Option<Uuid>,
        platform: Platform,
    ) -> Result<QuickMessage> {
        channel.check_sendable()?;
        let c = self.get_client(client)?;
        if !c.consent.get(channel.as_str()).copied().unwrap_or(false) {
            return Err(Error::NoConsent { channel });
        }
        let to = match channel {
            Channel::Email => c.email.clone().ok_or(Error::NoAddress {
                what: "email address",
            })?,
            _ => primary_number(&c)
                .ok_or(Error::NoAddress {
                    what: "phone number",
                })?
                .to_string(),
        };
        let (body, template_id) = match text {
            MessageText::Text(t) => (t, None),
            MessageText::Template(id) => (self.render_template(id, &c, visit)?, Some(id)),
        };
        if body.trim().is_empty() {
            return Err(Error::validation("text", "a message needs some text"));
        }
        let link = match channel {
            Channel::Sms => deeplink::sms(&to, &body, platform),
            Channel::Whatsapp => deeplink::whatsapp(&to, &body),
            Channel::Telegram => deeplink::telegram(&to),
            Channel::Viber => deeplink::viber(&to),
            Channel::Email => deeplink::mailto(&to, "", &body),
            Channel::Marketing => unreachable!("refused above"),
        }
        .map_err(link_error)?;
        Ok(QuickMessage {
            channel,
            to,
            link,
            sms: (channel == Channel::Sms).then(|| segments::analyze(&body)),
            text: body,
            template_id,
        })
    }

    /// Renders a business template for a client (and one of their visits).
    pub fn render_template(
        &self,
        template: Uuid,
        client: &Client,
        visit: Option<Uuid>,
    ) -> Result<String> {
        self.render_template_with_link(template, client, visit, None)
    }

    /// [`Store::render_template`] with `{confirm_link}` filled in (the server signs links; the
    /// device asks it for one first).
    pub fn render_template_with_link(
        &self,
        template: Uuid,
        client: &Client,
        visit: Option<Uuid>,
        confirm_link: Option<String>,
    ) -> Result<String> {
        let b = self.business()?;
        let t = b
            .templates
            .iter()
            .find(|t| t.id == template)
            .ok_or(Error::NotFound {
                kind: "template",
                id: template,
            })?;
        let parsed =
            Template::parse(&t.body).map_err(|e| Error::validation("template", e.to_string()))?;
        let visit = match visit {
            Some(id) => {
                let v = self.get_visit(id)?;
                if v.client_id != client.id {
                    return Err(Error::validation("visit", "the visit is another client's"));
                }
                let staff_name = v
                    .staff_id
                    .and_then(|s| b.staff.iter().find(|m| m.id == s))
                    .map(|m| m.name.clone());
                Some(VisitContext {
                    start: v.start,
                    services: v.services.iter().map(|s| s.name.clone()).collect(),
                    total_minor: v.total,
                    staff_name,
                })
            }
            None => None,
        };
        let ctx = RenderContext {
            locale: b.locale.parse::<Locale>().unwrap_or(Locale::En),
            zone: self.zone()?,
            currency: self.currency()?,
            client_name: client.name.clone(),
            client_first_name: client.given_name.clone(),
            visit,
            business_name: b.name.clone(),
            business_phone: b.phone.clone(),
            review_link: None,
            confirm_link,
        };
        parsed
            .render(&ctx)
            .map_err(|e| Error::validation("template", e.to_string()))
    }
}
