//! Conversations, staff and mailings at the FFI edge: the inbox, replies through the server's
//! gateways (with WhatsApp's window said up front), staff notes, unknown senders (leads), who
//! works on this device and where their alerts go, and mass mailings with their progress.

use kartka_core::crdt::business::SettingsEdit;
use kartka_core::model::{Audience, ClientClass, ConversationStatus, Mailing, Note, StaffMember};
use kartka_core::store::{
    ConversationChange, InboxEntry, MailingProgress, NewMailing, Page, ReplyText,
};

use crate::{ApiError, ClientBook, MessageRec, id, instant};

/// One line of the inbox.
#[derive(uniffi::Record)]
pub struct InboxEntryRec {
    pub client_id: String,
    pub name: String,
    /// Someone who wrote without being a client: attach them to a client or take them in.
    pub lead: bool,
    /// `unanswered`, `open`, `postponed` or `closed`, as it reads now.
    pub status: String,
    /// RFC 3339: when the status last changed.
    pub since: String,
    pub until: Option<String>,
    pub staff_id: Option<String>,
    pub last_channel: Option<String>,
    /// `inbound` when the client wrote last.
    pub last_kind: Option<String>,
    pub last_body: Option<String>,
    pub last_at: Option<String>,
}

impl From<InboxEntry> for InboxEntryRec {
    fn from(e: InboxEntry) -> Self {
        InboxEntryRec {
            client_id: e.client_id.to_string(),
            name: e.name,
            lead: e.lead,
            status: e.status.to_string(),
            since: e.since.to_rfc3339(),
            until: e.until.map(|t| t.to_rfc3339()),
            staff_id: e.staff_id.map(|s| s.to_string()),
            last_channel: e.last_channel.map(|c| c.to_string()),
            last_kind: e.last_kind.map(|k| k.to_string()),
            last_body: e.last_body,
            last_at: e.last_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// A staff note on a conversation: shown to staff, never sent.
#[derive(uniffi::Record)]
pub struct NoteRec {
    pub id: String,
    pub body: String,
    pub at: String,
    pub staff_id: Option<String>,
}

impl From<Note> for NoteRec {
    fn from(n: Note) -> Self {
        NoteRec {
            id: n.id.to_string(),
            body: n.body,
            at: n.at.to_rfc3339(),
            staff_id: n.staff_id.map(|s| s.to_string()),
        }
    }
}

#[derive(uniffi::Record)]
pub struct StaffRec {
    /// Empty for a new member.
    pub id: String,
    pub name: String,
    #[uniffi(default)]
    pub email: Option<String>,
    /// Their chat with the business's bot (set when they open their staff link).
    #[uniffi(default)]
    pub telegram: Option<String>,
    #[uniffi(default = true)]
    pub active: bool,
}

impl From<StaffMember> for StaffRec {
    fn from(s: StaffMember) -> Self {
        StaffRec {
            id: s.id.to_string(),
            name: s.name,
            email: s.email,
            telegram: s.telegram,
            active: s.active,
        }
    }
}

/// Who a mailing is for; every field given narrows it.
#[derive(Default, uniffi::Record)]
pub struct AudienceRec {
    #[uniffi(default)]
    pub client_class: Option<String>,
    #[uniffi(default)]
    pub tag: Option<String>,
    /// RFC 3339: last visit before.
    #[uniffi(default)]
    pub last_visit_before: Option<String>,
    /// RFC 3339: last visit on or after.
    #[uniffi(default)]
    pub last_visit_after: Option<String>,
    /// 1–12.
    #[uniffi(default)]
    pub birthday_month: Option<u32>,
}

impl TryFrom<AudienceRec> for Audience {
    type Error = ApiError;
    fn try_from(a: AudienceRec) -> Result<Self, ApiError> {
        Ok(Audience {
            class: a
                .client_class
                .as_deref()
                .map(ClientClass::parse)
                .transpose()?,
            tag: a.tag,
            last_visit_before: a.last_visit_before.as_deref().map(instant).transpose()?,
            last_visit_after: a.last_visit_after.as_deref().map(instant).transpose()?,
            birthday_month: a.birthday_month,
        })
    }
}

#[derive(uniffi::Record)]
pub struct MailingRec {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub text: String,
    pub start: String,
    pub cancelled: bool,
    /// Outcomes plus what is still waiting.
    pub total: u32,
    pub pending: u32,
    pub sent: u32,
    pub delivered: u32,
    pub failed: u32,
    /// Consent withdrawn before their turn.
    pub skipped: u32,
}

fn mailing_rec(m: Mailing, p: MailingProgress) -> MailingRec {
    MailingRec {
        id: m.id.to_string(),
        name: m.name,
        channel: m.channel.to_string(),
        text: m.text,
        start: m.start.to_rfc3339(),
        cancelled: m.cancelled,
        total: p.total,
        pending: p.pending,
        sent: p.sent,
        delivered: p.delivered,
        failed: p.failed,
        skipped: p.skipped,
    }
}

#[uniffi::export]
impl ClientBook {
    /// Conversations, latest change first; `status` narrows to those reading so now.
    pub fn inbox(
        &self,
        status: Option<String>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<InboxEntryRec>, ApiError> {
        let status: Option<ConversationStatus> = status.map(|s| s.parse()).transpose()?;
        Ok(self
            .store()?
            .inbox(status, Page { offset, limit })?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Until when WhatsApp allows free text to this client (RFC 3339), or `None`: then only a
    /// template approved by WhatsApp can be sent, and the composer should say so.
    pub fn whatsapp_window(&self, client_id: String) -> Result<Option<String>, ApiError> {
        Ok(self
            .store()?
            .whatsapp_window(id(&client_id)?)?
            .map(|t| t.to_rfc3339()))
    }

    /// Queues a reply the server sends through its gateway after the next sync: `text`, or a
    /// business template. Refused without consent, without an address, on a channel the
    /// server cannot send on, and on WhatsApp outside the window unless the template is
    /// approved (`ApiError.WhatsAppWindowClosed`).
    pub fn reply(
        &self,
        client_id: String,
        channel: String,
        text: Option<String>,
        template_id: Option<String>,
    ) -> Result<MessageRec, ApiError> {
        let client = id(&client_id)?;
        let what = match (text, template_id) {
            (_, Some(t)) => ReplyText::Template(id(&t)?),
            (Some(t), None) => ReplyText::Text(t),
            (None, None) => return Err(crate::error::bad("text", "give a text or a template")),
        };
        let m = self.store()?.reply(client, channel.parse()?, what)?;
        self.notify(vec![client]);
        Ok(m.into())
    }

    /// Sets a conversation's status (`open`, `postponed` with `until`, `closed`) and who has it
    /// (`assign`: a staff id, or an empty string for nobody); staff see a note of it.
    pub fn change_conversation(
        &self,
        client_id: String,
        status: Option<String>,
        until: Option<String>,
        assign: Option<String>,
    ) -> Result<(), ApiError> {
        let client = id(&client_id)?;
        let change = ConversationChange {
            status: status.map(|s| s.parse()).transpose()?,
            until: until.as_deref().map(instant).transpose()?,
            assign: match assign.as_deref() {
                None => None,
                Some("") => Some(None),
                Some(s) => Some(Some(id(s)?)),
            },
        };
        self.store()?.change_conversation(client, change)?;
        self.notify(vec![client]);
        Ok(())
    }

    pub fn add_note(&self, client_id: String, text: String) -> Result<NoteRec, ApiError> {
        let client = id(&client_id)?;
        let n = self.store()?.add_note(client, &text)?;
        self.notify(vec![client]);
        Ok(n.into())
    }

    pub fn notes(&self, client_id: String) -> Result<Vec<NoteRec>, ApiError> {
        Ok(self
            .store()?
            .notes(id(&client_id)?)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// An unknown sender's conversation goes to this client (their number, messages, notes).
    pub fn attach_lead(&self, lead_id: String, client_id: String) -> Result<(), ApiError> {
        let (lead, client) = (id(&lead_id)?, id(&client_id)?);
        self.store()?.attach_lead(lead, client)?;
        self.notify(vec![lead, client]);
        Ok(())
    }

    /// Takes an unknown sender into the book as a client, named `name` if given.
    pub fn accept_lead(&self, lead_id: String, name: Option<String>) -> Result<(), ApiError> {
        let lead = id(&lead_id)?;
        self.store()?.accept_lead(lead, name.as_deref())?;
        self.notify(vec![lead]);
        Ok(())
    }

    pub fn staff(&self) -> Result<Vec<StaffRec>, ApiError> {
        Ok(self
            .store()?
            .business()?
            .staff
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Saves a staff member (new when the id is empty); returns the id.
    pub fn put_staff(&self, s: StaffRec) -> Result<String, ApiError> {
        let mut store = self.store()?;
        let existing = if s.id.trim().is_empty() {
            None
        } else {
            Some(store.staff_member(id(&s.id)?)?)
        };
        let member = StaffMember {
            id: existing.as_ref().map_or_else(uuid::Uuid::now_v7, |m| m.id),
            name: s.name,
            phone: existing.as_ref().and_then(|m| m.phone.clone()),
            email: s.email.filter(|e| !e.trim().is_empty()),
            telegram: s.telegram.filter(|t| !t.trim().is_empty()),
            devices: existing.map(|m| m.devices).unwrap_or_default(),
            active: s.active,
        };
        let saved = member.id;
        store.edit_business(SettingsEdit::PutStaff(member))?;
        Ok(saved.to_string())
    }

    /// The staff member working on this device, if one was set.
    pub fn current_staff(&self) -> Result<Option<String>, ApiError> {
        Ok(self.store()?.current_staff().map(|s| s.to_string()))
    }

    /// Who works on this device (their changes alert the others, not them).
    pub fn set_current_staff(&self, staff_id: Option<String>) -> Result<(), ApiError> {
        let staff = staff_id.as_deref().map(id).transpose()?;
        self.store()?.set_current_staff(staff)?;
        Ok(())
    }

    /// The link a staff member opens to get alerts from the business's Telegram bot.
    pub fn staff_telegram_link(&self, staff_id: String) -> Result<String, ApiError> {
        // The server signs it; the book is not locked across the network call.
        let staff = id(&staff_id)?;
        let remote = {
            let store = self.store()?;
            store.staff_member(staff)?;
            kartka_core::sync::remote_of(&store)?
        };
        Ok(kartka_core::sync::telegram_link(
            &remote,
            None,
            Some(staff),
        )?)
    }

    /// Starts a mailing (the server sends it after the next sync); checked like its preview.
    pub fn start_mailing(
        &self,
        name: String,
        channel: String,
        text: String,
        audience: AudienceRec,
        start: Option<String>,
    ) -> Result<MailingRec, ApiError> {
        let mut store = self.store()?;
        let m = store.start_mailing(NewMailing {
            name,
            channel: channel.parse()?,
            text,
            audience: audience.try_into()?,
            start: start.as_deref().map(instant).transpose()?,
        })?;
        let p = store.mailing_progress(m.id)?;
        Ok(mailing_rec(m, p))
    }

    pub fn cancel_mailing(&self, mailing_id: String) -> Result<(), ApiError> {
        self.store()?.cancel_mailing(id(&mailing_id)?)?;
        Ok(())
    }

    /// Every mailing, newest first, with its progress as far as this book has synced.
    pub fn mailings(&self) -> Result<Vec<MailingRec>, ApiError> {
        Ok(self
            .store()?
            .mailings()?
            .into_iter()
            .map(|(m, p)| mailing_rec(m, p))
            .collect())
    }
}
