//! Business settings at the FFI edge: message templates, notification rules, working hours.

use std::collections::HashMap;

use kartka_core::crdt::business::SettingsEdit;
use kartka_core::model::{Channel, Rule, Template, VisitStatus, format_day_hours};
use uuid::Uuid;

use crate::error::bad;
use crate::{ApiError, ClientBook, id};

#[derive(Debug, Clone, uniffi::Record)]
pub struct TemplateRec {
    /// Empty for a new template; the saved one comes back with its id.
    pub id: String,
    pub name: String,
    /// `None`: usable on any channel.
    pub channel: Option<String>,
    /// With placeholders such as `{client_name}`, `{visit_time}`; an unknown one is refused
    /// when the template is saved.
    pub body: String,
    /// The approved WhatsApp template it maps to, `name:language`.
    #[uniffi(default)]
    pub whatsapp: Option<String>,
}

impl From<Template> for TemplateRec {
    fn from(t: Template) -> Self {
        TemplateRec {
            id: t.id.to_string(),
            name: t.name,
            channel: t.channel.map(|c| c.as_str().to_string()),
            body: t.body,
            whatsapp: t.whatsapp,
        }
    }
}

/// The business as the settings screen shows it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct BusinessRec {
    pub id: String,
    pub name: String,
    /// ISO 3166 region numbers are read in (`UA`, `PL`, …).
    pub region: String,
    /// IANA zone.
    pub zone: String,
    /// ISO 4217.
    pub currency: String,
    pub locale: String,
    pub phone: Option<String>,
    pub telegram_bot: Option<String>,
    /// Monday first: `"09:00-13:00,14:00-19:00"` or `"closed"`.
    pub working_hours: Vec<String>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct RuleRec {
    /// Empty for a new rule.
    pub id: String,
    pub name: String,
    /// `visit_created`, `status_changed`, `status_changed:<status>`, `rescheduled`,
    /// `visit_cancelled`, `reminder_before`, `after_completed`, `repeat_visit`, `birthday`.
    pub trigger: String,
    /// Minutes: before the visit for reminders, after local midnight for birthdays, a delay
    /// after the event otherwise.
    pub offset_min: i64,
    pub channels: Vec<String>,
    /// The template for channels without their own.
    pub template_id: Option<String>,
    /// Channel → template id, for channels with their own template.
    #[uniffi(default)]
    pub channel_templates: HashMap<String, String>,
    pub working_hours_only: bool,
    pub statuses: Vec<String>,
    pub enabled: bool,
    /// `None`: the rule writes to the client. Otherwise it alerts staff (these ids; every
    /// active member when empty) on telegram or email; triggers `client_replied` and
    /// `message_failed` are for staff rules only.
    #[uniffi(default)]
    pub staff: Option<Vec<String>>,
}

impl From<Rule> for RuleRec {
    fn from(r: Rule) -> Self {
        RuleRec {
            id: r.id.to_string(),
            name: r.name,
            trigger: r.trigger,
            offset_min: r.offset_min,
            channels: r.channels.iter().map(|c| c.as_str().to_string()).collect(),
            template_id: r.template_id.map(|t| t.to_string()),
            channel_templates: r
                .channel_templates
                .iter()
                .map(|(c, t)| (c.as_str().to_string(), t.to_string()))
                .collect(),
            working_hours_only: r.working_hours_only,
            statuses: r.statuses.iter().map(|s| s.as_str().to_string()).collect(),
            enabled: r.enabled,
            staff: r.staff.map(|ids| ids.iter().map(Uuid::to_string).collect()),
        }
    }
}

/// The id of a record to save: a new one when empty.
fn id_or_new(s: &str) -> Result<Uuid, ApiError> {
    if s.trim().is_empty() {
        Ok(Uuid::now_v7())
    } else {
        id(s)
    }
}

#[uniffi::export]
impl ClientBook {
    pub fn templates(&self) -> Result<Vec<TemplateRec>, ApiError> {
        Ok(self
            .store()?
            .business()?
            .templates
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Saves a template (new when its id is empty); refused with `Validation { field:
    /// "template" }` when the body has an unknown placeholder.
    pub fn put_template(&self, t: TemplateRec) -> Result<TemplateRec, ApiError> {
        let template = Template {
            id: id_or_new(&t.id)?,
            name: t.name,
            channel: t.channel.map(|c| c.parse::<Channel>()).transpose()?,
            body: t.body,
            whatsapp: t.whatsapp,
        };
        let saved = template.id;
        self.store()?
            .edit_business(SettingsEdit::PutTemplate(template))?
            .templates
            .into_iter()
            .find(|x| x.id == saved)
            .map(Into::into)
            .ok_or_else(|| bad("template", "not saved"))
    }

    pub fn remove_template(&self, template_id: String) -> Result<(), ApiError> {
        self.store()?
            .edit_business(SettingsEdit::RemoveTemplate(id(&template_id)?))?;
        Ok(())
    }

    pub fn rules(&self) -> Result<Vec<RuleRec>, ApiError> {
        Ok(self
            .store()?
            .business()?
            .rules
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Saves a notification rule (new when its id is empty). The server runs it.
    pub fn put_rule(&self, r: RuleRec) -> Result<RuleRec, ApiError> {
        let rule = Rule {
            id: id_or_new(&r.id)?,
            name: r.name,
            trigger: r.trigger,
            offset_min: r.offset_min,
            channels: r
                .channels
                .iter()
                .map(|c| c.parse::<Channel>())
                .collect::<Result<_, _>>()?,
            template_id: r.template_id.as_deref().map(id).transpose()?,
            channel_templates: r
                .channel_templates
                .iter()
                .map(|(c, t)| Ok((c.parse::<Channel>()?, id(t)?)))
                .collect::<Result<_, ApiError>>()?,
            working_hours_only: r.working_hours_only,
            statuses: r
                .statuses
                .iter()
                .map(|s| s.parse::<VisitStatus>())
                .collect::<Result<_, _>>()?,
            enabled: r.enabled,
            staff: r
                .staff
                .map(|ids| ids.iter().map(|s| id(s)).collect::<Result<_, _>>())
                .transpose()?,
        };
        let saved = rule.id;
        self.store()?
            .edit_business(SettingsEdit::PutRule(rule))?
            .rules
            .into_iter()
            .find(|x| x.id == saved)
            .map(Into::into)
            .ok_or_else(|| bad("rule", "not saved"))
    }

    pub fn remove_rule(&self, rule_id: String) -> Result<(), ApiError> {
        self.store()?
            .edit_business(SettingsEdit::RemoveRule(id(&rule_id)?))?;
        Ok(())
    }

    pub fn business(&self) -> Result<BusinessRec, ApiError> {
        let b = self.store()?.business()?;
        Ok(BusinessRec {
            id: b.id.to_string(),
            name: b.name,
            region: b.region,
            zone: b.zone,
            currency: b.currency,
            locale: b.locale,
            phone: b.phone,
            telegram_bot: b.telegram_bot,
            working_hours: b
                .working_hours
                .iter()
                .map(|d| format_day_hours(d))
                .collect(),
        })
    }

    /// The business's name and contact phone (what templates show as `{business_name}` and
    /// `{business_phone}`); an empty phone clears it.
    pub fn set_business_details(
        &self,
        name: String,
        phone: Option<String>,
    ) -> Result<BusinessRec, ApiError> {
        {
            let mut store = self.store()?;
            store.edit_business(SettingsEdit::Name(name))?;
            let phone = phone.filter(|p| !p.trim().is_empty());
            store.edit_business(SettingsEdit::Phone(phone))?;
        }
        self.business()
    }

    /// Working hours of one weekday (0 = Monday): `"09:00-13:00,14:00-19:00"` or `"closed"`.
    pub fn set_working_hours(&self, weekday: u32, hours: String) -> Result<(), ApiError> {
        self.store()?.edit_business(SettingsEdit::Hours {
            weekday: weekday as usize,
            hours,
        })?;
        Ok(())
    }

    /// The username of the business's Telegram bot (`None` clears it).
    pub fn set_telegram_bot(&self, bot: Option<String>) -> Result<(), ApiError> {
        self.store()?
            .edit_business(SettingsEdit::TelegramBot(bot))?;
        Ok(())
    }

    /// `https://t.me/<bot>?start=…`: show it (or its QR code) to the client; once they press
    /// Start, the server can send them messages on Telegram.
    pub fn telegram_bot_link(&self, client_id: String) -> Result<String, ApiError> {
        // The server signs it; the book is not locked across the network call.
        let client = id(&client_id)?;
        let remote = {
            let store = self.store()?;
            store.get_client(client)?;
            kartka_core::sync::remote_of(&store)?
        };
        Ok(kartka_core::sync::telegram_link(
            &remote,
            Some(client),
            None,
        )?)
    }
}
