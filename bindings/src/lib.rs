//! The UniFFI edge of the core: what the Android and iOS apps (and Python) call. Each exported
//! method is a one-liner over `kartka_core::Store`; records and the error live in their own
//! modules. Calls block while they read or write the book: apps call them off the UI thread
//! (Kotlin: `Dispatchers.IO`; Swift: a background task), as ARCHITECTURE.md explains.

mod card;
mod conflicts;
mod dates;
mod error;
mod inbox;
mod merge;
mod money;
mod privacy;
mod records;
mod settings;
mod status;
mod sync;
mod visits;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use kartka_core::Store;
use kartka_core::messaging::deeplink::Platform;
use kartka_core::model::{
    Birthday, ClientClass, ClientSource, ConsentSource, ConsentSubject, NewBusiness, NewClient,
    NewVisit,
};
use kartka_core::store::{MessageText, Page, VisitFilter};
use uuid::Uuid;

pub use card::*;
pub use conflicts::*;
pub use error::ApiError;
use error::bad;
pub use inbox::*;
pub use merge::*;
pub use records::*;
pub use settings::*;
pub use status::*;
pub use sync::*;
pub use visits::*;

uniffi::setup_scaffolding!();

/// Told which clients changed after every write, so the UI can refresh what it shows (and,
/// with sync, when other devices' edits arrive). Called on the thread that made the change.
#[uniffi::export(with_foreign)]
pub trait ChangeListener: Send + Sync {
    fn clients_changed(&self, client_ids: Vec<String>);
}

/// One client book (a SQLite file on the device).
#[derive(uniffi::Object)]
pub struct ClientBook {
    store: Mutex<Store>,
    listener: Mutex<Option<Arc<dyn ChangeListener>>>,
    /// The stop flag of the background sync loop, while one runs.
    sync_stop: Mutex<Option<Arc<std::sync::atomic::AtomicBool>>>,
    /// The subscriber to the sync status ([`status`]).
    sync_observer: status::Observer,
}

pub(crate) fn instant(s: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            bad(
                "time",
                "expected an RFC 3339 instant such as 2026-12-01T08:00:00Z",
            )
        })
}

pub(crate) fn id(s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s.trim()).map_err(|_| bad("id", "not a valid id"))
}

impl ClientBook {
    fn with(store: Store) -> Arc<Self> {
        Arc::new(ClientBook {
            store: Mutex::new(store),
            listener: Mutex::new(None),
            sync_stop: Mutex::new(None),
            sync_observer: status::Observer::default(),
        })
    }

    fn notify(&self, ids: Vec<Uuid>) {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(l) = listener {
            l.clients_changed(ids.into_iter().map(|u| u.to_string()).collect());
        }
    }

    fn store(&self) -> Result<status::BookGuard<'_>, ApiError> {
        // A panic while holding the lock leaves the book as the last committed transaction
        // left it; the store itself is consistent, so the poison is cleared.
        Ok(status::BookGuard::new(
            self.store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            &self.sync_observer,
        ))
    }
}

#[uniffi::export]
impl ClientBook {
    /// Opens (creating if needed) the book at `path`.
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<Self>, ApiError> {
        Ok(ClientBook::with(Store::open(path)?))
    }

    /// Opens (creating if needed) the encrypted book at `path` with its 32-byte key, which the
    /// app keeps in Android Keystore / iOS Keychain. A plain book is encrypted in place on its
    /// first such open. A wrong key is `ApiError.WrongKey` and leaves the file as it was.
    #[uniffi::constructor]
    pub fn open_encrypted(path: String, key: Vec<u8>) -> Result<Arc<Self>, ApiError> {
        let key = kartka_core::store::BookKey::from_slice(&key)?;
        Ok(ClientBook::with(Store::open_encrypted(path, &key)?))
    }

    pub fn init_business(&self, b: NewBusinessRec) -> Result<String, ApiError> {
        let new = NewBusiness {
            name: b.name,
            region: b.region,
            zone: b.zone,
            currency: b.currency,
            locale: b.locale,
        };
        Ok(self.store()?.init_business(new)?.id.to_string())
    }

    pub fn add_client(&self, c: NewClientRec) -> Result<ClientRec, ApiError> {
        let new = NewClient {
            name: c.name,
            phones: c.phones.into_iter().map(|p| (p, String::new())).collect(),
            email: c.email,
            birthday: c.birthday.map(|b| b.parse::<Birthday>()).transpose()?,
            comment: c.comment,
            class: c.client_class.map(|k| ClientClass::parse(&k)).transpose()?,
            tags: c.tags,
            ..Default::default()
        };
        let c = self.store()?.create_client(new)?;
        self.notify(vec![c.id]);
        Ok(c.into())
    }

    pub fn set_change_listener(&self, listener: Option<Arc<dyn ChangeListener>>) {
        *self.listener.lock().unwrap_or_else(|p| p.into_inner()) = listener;
    }

    pub fn add_visit(&self, v: NewVisitRec) -> Result<VisitRec, ApiError> {
        let client = id(&v.client_id)?;
        let start = instant(&v.start)?;
        let new = NewVisit {
            total: v.total,
            paid: v.paid,
            note: v.note.filter(|n| !n.trim().is_empty()),
            reminder: v.reminder.parse()?,
            ..NewVisit::booked(
                client,
                start,
                v.duration_min,
                v.services.into_iter().map(Into::into).collect(),
            )
        };
        let visit = self.store()?.add_visit(new)?;
        self.notify(vec![client]);
        Ok(visit.into())
    }

    /// `booked`, `confirmed`, `arrived`, `completed`, `no_show` or `cancelled`.
    pub fn set_visit_status(&self, visit_id: String, status: String) -> Result<VisitRec, ApiError> {
        let visit = self
            .store()?
            .set_visit_status(id(&visit_id)?, status.parse()?)?;
        self.notify(vec![visit.client_id]);
        Ok(visit.into())
    }

    /// The agenda: visits starting in [from, to), in time order.
    pub fn agenda(&self, from: String, to: String) -> Result<Vec<VisitRec>, ApiError> {
        let filter = VisitFilter {
            from: Some(instant(&from)?),
            to: Some(instant(&to)?),
            ..Default::default()
        };
        Ok(self
            .store()?
            .list_visits(&filter)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Records a message the master handed to the phone's app; refused without consent.
    pub fn record_message(
        &self,
        client_id: String,
        channel: String,
        text: String,
    ) -> Result<MessageRec, ApiError> {
        let client = id(&client_id)?;
        let m = self
            .store()?
            .record_message(client, channel.parse()?, &text, None, None)?;
        self.notify(vec![client]);
        Ok(m.into())
    }

    pub fn history(&self, client_id: String) -> Result<Vec<MessageRec>, ApiError> {
        Ok(self
            .store()?
            .history(id(&client_id)?)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub fn get_client(&self, client_id: String) -> Result<ClientRec, ApiError> {
        Ok(self.store()?.get_client(id(&client_id)?)?.into())
    }

    /// Clients by any part of the name, phone digits as typed, or email; best matches first.
    pub fn search(
        &self,
        query: String,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ClientRec>, ApiError> {
        let found = self.store()?.search(&query, Page { offset, limit })?;
        Ok(found.into_iter().map(Into::into).collect())
    }

    /// Records a grant or withdrawal of consent for a channel, with its evidence.
    pub fn set_consent(
        &self,
        client_id: String,
        channel: String,
        granted: bool,
        source: String,
        note: String,
    ) -> Result<ConsentRec, ApiError> {
        let (client, subject) = (id(&client_id)?, ConsentSubject::Channel(channel.parse()?));
        let source: ConsentSource = source.parse()?;
        let state = {
            let mut store = self.store()?;
            store.set_consent(client, subject, granted, source, &note)?;
            store.consent(client)?
        };
        self.notify(vec![client]);
        Ok(state.into())
    }

    /// A message ready for the phone's own app (link, text, SMS segments). Fails with
    /// `NoConsent` or `NoAddress` when the action must stay disabled.
    pub fn quick_message(
        &self,
        client_id: String,
        channel: String,
        text: String,
        platform: String,
    ) -> Result<QuickMessageRec, ApiError> {
        let platform: Platform = platform
            .parse()
            .map_err(|_| bad("platform", "expected android or ios"))?;
        let m = self.store()?.quick_message(
            id(&client_id)?,
            channel.parse()?,
            MessageText::Text(text),
            None,
            platform,
        )?;
        Ok(m.into())
    }

    /// What importing these phone-book contacts would do; changes nothing.
    pub fn preview_import(&self, contacts: Vec<ContactRec>) -> Result<ImportPreviewRec, ApiError> {
        let contacts: Vec<_> = contacts.into_iter().map(Into::into).collect();
        Ok(self.store()?.preview_import(&contacts)?.into())
    }

    /// Imports the picked rows (all new ones when `picked` is empty) in one transaction; returns
    /// the new clients' ids.
    pub fn import_contacts(
        &self,
        contacts: Vec<ContactRec>,
        picked: Vec<u32>,
    ) -> Result<Vec<String>, ApiError> {
        let contacts: Vec<_> = contacts.into_iter().map(Into::into).collect();
        let picked: Vec<usize> = picked.into_iter().map(|p| p as usize).collect();
        let picked = (!picked.is_empty()).then_some(picked.as_slice());
        let out = self.store()?.import_contacts(
            &contacts,
            picked,
            ClientSource::Phonebook,
            None,
            &mut |_, _| {},
        )?;
        Ok(out.created.into_iter().map(|u| u.to_string()).collect())
    }
}
