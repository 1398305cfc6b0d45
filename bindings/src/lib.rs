//! The UniFFI edge of the core: what the Android and iOS apps (and Python) call. Each exported
//! method is a one-liner over `kartka_core::Store`; records and the error live in their own
//! modules. Calls block while they read or write the book: apps call them off the UI thread
//! (Kotlin: `Dispatchers.IO`; Swift: a background task), as ARCHITECTURE.md explains.

mod error;
mod records;

use std::sync::{Arc, Mutex, MutexGuard};

use kartka_core::Store;
use kartka_core::messaging::deeplink::Platform;
use kartka_core::model::{
    Birthday, ClientClass, ClientSource, ConsentSource, ConsentSubject, NewBusiness, NewClient,
};
use kartka_core::store::{MessageText, Page};
use uuid::Uuid;

pub use error::ApiError;
use error::bad;
pub use records::*;

uniffi::setup_scaffolding!();

/// One client book (a SQLite file on the device).
#[derive(uniffi::Object)]
pub struct ClientBook {
    store: Mutex<Store>,
}

fn id(s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s.trim()).map_err(|_| bad("id", "not a valid id"))
}

impl ClientBook {
    fn store(&self) -> Result<MutexGuard<'_, Store>, ApiError> {
        // A panic while holding the lock leaves the book as the last committed transaction
        // left it; the store itself is consistent, so the poison is cleared.
        Ok(self
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

#[uniffi::export]
impl ClientBook {
    /// Opens (creating if needed) the book at `path`.
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<Self>, ApiError> {
        Ok(Arc::new(ClientBook {
            store: Mutex::new(Store::open(path)?),
        }))
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
        Ok(self.store()?.create_client(new)?.into())
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
        let mut store = self.store()?;
        store.set_consent(client, subject, granted, source, &note)?;
        Ok(store.consent(client)?.into())
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
