//! The local store: one SQLite file holding the automerge documents and their projection.
//!
//! [`Store`] is the entry point and the only writer. Every local write changes the document(s)
//! and the projection in one SQLite transaction; a merge of remote changes re-projects exactly the
//! client whose document changed. Reads never touch the documents: they are served by the
//! projection's tables and indexes.

mod checkpoint;
mod cipher;
mod clients;
mod conflicts;
mod conversations;
mod docs;
mod erase;
mod export;
mod import;
mod mailing;
mod merge;
mod messages;
pub(crate) mod projection;
mod quick;
mod reread;
pub mod schema;
mod search;
mod sync;
mod sync_state;
mod visits;
mod wipe;

use std::path::Path;

use automerge::ActorId;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use crate::crdt::business::{self as business_doc, SettingsEdit};
use crate::error::{Error, Result};
use crate::model::{Business, Channel, NewBusiness, Rule, StaffMember, Template};

pub use crate::model::Audience;
pub use cipher::BookKey;
pub use conflicts::{
    Author, Conflict, ConflictField, ConflictValue, FieldValue, Keep, ListedPhone,
};
pub use conversations::{ConversationChange, InboxEntry, ReplyText, WHATSAPP_WINDOW_HOURS};
pub use import::{
    BatchConsent, ImportOutcome, ImportPreview, ImportStatus, PreviewItem, PreviewPhone,
};
pub use mailing::{MailingPreview, MailingProgress, NewMailing};
pub use merge::{MergeOutcome, MergePreview, UndoableMerge};
pub use messages::{LoggedMessage, MessageFilter};
pub use projection::ProjectionSnapshot;
pub use quick::{CardAction, MessageText, QuickMessage};
pub use reread::PhoneCorrection;
pub use search::{ClientFilter, Page};
pub use sync::{Applied, Outbox, SyncConfig};
pub use visits::VisitFilter;

/// What every write needs to know about the business, kept in memory.
#[derive(Debug, Clone)]
pub(crate) struct BusinessContext {
    pub id: Uuid,
    pub region: crate::phone::Region,
    pub zone: Tz,
    pub currency: iso_currency::Currency,
}

pub struct Store {
    conn: Connection,
    checkpointer: checkpoint::Checkpointer,
    device_id: Uuid,
    actor: ActorId,
    staff_id: Option<Uuid>,
    business: Option<BusinessContext>,
    clock: Option<Clock>,
    /// What this process's sync is doing now (the rest of the sync status is in the book).
    sync_activity: crate::sync::status::Activity,
}

/// Where a store reads the time, when not from the system (simulations and tests that move
/// time, such as the server's scheduler tests).
pub type Clock = std::sync::Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

impl Store {
    /// Opens (creating if needed) the book at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Store::connect(path)?;
        // An encrypted book opened without its key: say so, not "file is not a database".
        cipher::check_readable(&conn)?;
        Self::from_connection(conn, path, schema::CURRENT_VERSION, None)
    }

    fn connect(path: &Path) -> Result<Connection> {
        cipher::sqlite_ready()?;
        Ok(Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?)
    }

    fn from_connection(
        mut conn: Connection,
        path: &Path,
        target_version: u32,
        key: Option<BookKey>,
    ) -> Result<Store> {
        // WAL: readers never wait for the writer; NORMAL sync is durable across application
        // crashes, and loses at most the last commits on power loss, not the database.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted content is overwritten rather than left in free pages, so that a forgotten
        // client (the right to erasure) is gone from the file, not only from the tables.
        conn.pragma_update(None, "secure_delete", "ON")?;
        // 16 MiB of page cache (SQLite's default is 2 MiB): a batch of thousands of clients
        // touches index pages all over a large book, and spilling them mid-transaction doubled
        // the time of a 5,000-client import at 50,000 clients. The cache fills only as used.
        conn.pragma_update(None, "cache_size", -16384)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // One write touches about twenty distinct statements; the default cache of 16 would
        // re-prepare them on every write.
        conn.set_prepared_statement_cache_capacity(64);
        let upgraded = schema::migrate_to(&mut conn, target_version)?;

        let device_id = match meta_get(&conn, "device_id")? {
            Some(s) => {
                Uuid::parse_str(&s).map_err(|_| Error::validation("device_id", "damaged"))?
            }
            None => {
                let id = Uuid::new_v4();
                meta_set(&conn, "device_id", &id.to_string())?;
                id
            }
        };
        let staff_id = meta_get(&conn, "staff_id")?.and_then(|s| Uuid::parse_str(&s).ok());
        let checkpointer = checkpoint::Checkpointer::start(&conn, path, key.as_ref())?;
        let mut store = Store {
            conn,
            checkpointer,
            actor: ActorId::from(device_id.as_bytes()),
            device_id,
            staff_id,
            business: None,
            clock: None,
            sync_activity: Default::default(),
        };
        if upgraded {
            store.rebuild_projection()?;
        }
        // A first sync cut short during its bulk load: its indexes are built again now.
        let tx = store.conn.transaction()?;
        sync::bulk::end(&tx)?;
        tx.commit()?;
        store.refresh_business()?;
        store.reread_phones_if_needed()?;
        Ok(store)
    }

    /// This device's id: its automerge actor, and the "by which device" of consent evidence.
    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    /// The staff member working on this device, recorded with consent evidence.
    pub fn current_staff(&self) -> Option<Uuid> {
        self.staff_id
    }

    /// Sets who works on this device. The staff member's record in the business then lists
    /// this device, so the server knows whose changes are whose (nobody is alerted about their
    /// own booking).
    pub fn set_current_staff(&mut self, staff: Option<Uuid>) -> Result<()> {
        if let Some(s) = staff
            && self.business.is_some()
        {
            let mut member = self.staff_member(s)?;
            if !member.devices.contains(&self.device_id) {
                member.devices.push(self.device_id);
                self.edit_business(SettingsEdit::PutStaff(member))?;
            }
        }
        match staff {
            Some(s) => meta_set(&self.conn, "staff_id", &s.to_string())?,
            None => {
                self.conn
                    .execute("DELETE FROM meta WHERE key = 'staff_id'", [])?;
            }
        }
        self.staff_id = staff;
        Ok(())
    }

    /// The business's currency, for turning typed amounts into minor units.
    pub fn currency(&self) -> Result<iso_currency::Currency> {
        Ok(self.ctx()?.currency)
    }

    /// Reads the time from `clock` from now on (every write's timestamp, every "now").
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = Some(clock);
    }

    /// The business's IANA zone.
    pub fn zone(&self) -> Result<Tz> {
        Ok(self.ctx()?.zone)
    }

    /// Now, to the millisecond: documents and the projection store milliseconds, and what a
    /// write returns must equal what a later read gives.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let now = self.clock.as_ref().map_or_else(Utc::now, |c| c());
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }

    pub(crate) fn ctx(&self) -> Result<&BusinessContext> {
        self.business.as_ref().ok_or(Error::NotInitialized)
    }

    fn refresh_business(&mut self) -> Result<()> {
        let Some(id) = meta_get(&self.conn, "business_id")? else {
            self.business = None;
            return Ok(());
        };
        let id = Uuid::parse_str(&id).map_err(|_| Error::validation("business_id", "damaged"))?;
        let b = self.business_by_id(id)?;
        self.business = Some(BusinessContext {
            id,
            region: crate::phone::parse_region(&b.region)?,
            zone: b
                .zone
                .parse()
                .map_err(|_| Error::validation("zone", "unknown IANA zone"))?,
            currency: crate::money::currency(&b.currency)?,
        });
        Ok(())
    }

    fn business_by_id(&self, id: Uuid) -> Result<Business> {
        let doc = docs::load(&self.conn, id, &self.actor)?.ok_or(Error::NotFound {
            kind: "business",
            id,
        })?;
        business_doc::read(&doc, id)
    }

    /// Creates the business this book belongs to (the first device of a business does this).
    pub fn init_business(&mut self, new: NewBusiness) -> Result<Business> {
        if self.business.is_some() {
            return Err(Error::AlreadyInitialized);
        }
        let new = validate_business(new)?;
        let id = Uuid::now_v7();
        let doc = business_doc::create(self.actor.clone(), id, &new, self.now())?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        docs::save(&tx, id, docs::Kind::Business, &doc)?;
        meta_set(&tx, "business_id", &id.to_string())?;
        self.checkpointer.commit(tx)?;
        self.refresh_business()?;
        // A new book has no numbers to read again: this records the reader it is read with.
        self.reread_phones_if_needed()?;
        self.business()
    }

    pub fn business(&self) -> Result<Business> {
        self.business_by_id(self.ctx()?.id)
    }

    /// Applies one settings edit (validated first) to the business document.
    pub fn edit_business(&mut self, edit: SettingsEdit) -> Result<Business> {
        let id = self.ctx()?.id;
        match &edit {
            SettingsEdit::Name(n) if n.trim().is_empty() => {
                return Err(Error::validation("name", "must not be empty"));
            }
            SettingsEdit::Region(r) => {
                crate::phone::parse_region(r)?;
            }
            SettingsEdit::Zone(z) => {
                z.parse::<Tz>()
                    .map_err(|_| Error::validation("zone", "unknown IANA zone"))?;
            }
            SettingsEdit::Currency(c) => {
                crate::money::currency(c)?;
            }
            SettingsEdit::TelegramBot(Some(bot))
                if !crate::messaging::deeplink::valid_bot_name(bot) =>
            {
                return Err(Error::validation(
                    "telegram_bot",
                    "a Telegram bot username: 5-32 of a-z, 0-9, _, ending in \"bot\"",
                ));
            }
            SettingsEdit::PutTemplate(Template {
                name,
                body,
                whatsapp,
                ..
            }) => {
                if name.trim().is_empty() {
                    return Err(Error::validation("name", "must not be empty"));
                }
                if let Some(wa) = whatsapp
                    && !wa.split_once(':').is_some_and(|(n, l)| {
                        !n.is_empty()
                            && !l.is_empty()
                            && n.chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    })
                {
                    return Err(Error::validation(
                        "whatsapp",
                        "expected the approved template's name and language, e.g. visit_reminder:uk",
                    ));
                }
                // An unknown placeholder is refused here, when the template is saved, not when
                // a message is sent.
                crate::messaging::template::Template::parse(body)
                    .map_err(|e| Error::validation("template", e.to_string()))?;
            }
            SettingsEdit::PutStaff(StaffMember { name, .. }) if name.trim().is_empty() => {
                return Err(Error::validation("name", "must not be empty"));
            }
            SettingsEdit::PutRule(rule) => self.check_rule(rule)?,
            _ => {}
        }
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut doc = docs::load(&tx, id, &self.actor)?.ok_or(Error::NotFound {
            kind: "business",
            id,
        })?;
        business_doc::edit(&mut doc, id, &edit, now)?;
        docs::save(&tx, id, docs::Kind::Business, &doc)?;
        self.checkpointer.commit(tx)?;
        self.refresh_business()?;
        self.business()
    }

    /// A rule is refused when saved, not when it would fire: its trigger must be known, its
    /// channels ones the server can send on, and its templates must exist.
    fn check_rule(&self, rule: &Rule) -> Result<()> {
        if rule.name.trim().is_empty() {
            return Err(Error::validation("name", "must not be empty"));
        }
        let trigger: crate::notify::Trigger = rule.trigger.parse()?;
        if rule.channels.is_empty() {
            return Err(Error::validation("channels", "name at least one channel"));
        }
        if let Some(c) = rule
            .channels
            .iter()
            .find(|c| matches!(c, Channel::Viber | Channel::Marketing))
        {
            return Err(Error::validation(
                "channels",
                format!("the server cannot send on {c}: use sms, whatsapp, email or telegram"),
            ));
        }
        if trigger.staff_only() && rule.staff.is_none() {
            return Err(Error::validation(
                "trigger",
                format!("{trigger} alerts staff: the rule must target staff"),
            ));
        }
        if let Some(staff) = &rule.staff {
            if let Some(c) = rule
                .channels
                .iter()
                .find(|c| !matches!(c, Channel::Telegram | Channel::Email))
            {
                return Err(Error::validation(
                    "channels",
                    format!("staff are alerted on telegram or email, not {c}"),
                ));
            }
            if !trigger.is_event() {
                return Err(Error::validation(
                    "trigger",
                    "staff are alerted about events: visit_created, status_changed, rescheduled, \
                     visit_cancelled, client_replied or message_failed",
                ));
            }
            let business = self.business()?;
            if let Some(id) = staff
                .iter()
                .find(|id| !business.staff.iter().any(|s| s.id == **id))
            {
                return Err(Error::NotFound {
                    kind: "staff member",
                    id: *id,
                });
            }
        }
        let max = 366 * 24 * 60;
        let offset_ok = match trigger {
            crate::notify::Trigger::Birthday => (0..24 * 60).contains(&rule.offset_min),
            _ => (0..=max).contains(&rule.offset_min),
        };
        if !offset_ok {
            return Err(Error::validation(
                "offset",
                "minutes: 0 to a year (for birthdays, the local time of day: 0 to 1439)",
            ));
        }
        let business = self.business()?;
        let templates = rule
            .template_id
            .iter()
            .chain(rule.channel_templates.iter().map(|(_, t)| t));
        for t in templates {
            if !business.templates.iter().any(|x| x.id == *t) {
                return Err(Error::validation("template", "no such template"));
            }
        }
        for c in &rule.channels {
            if crate::notify::plan::template_for(rule, *c).is_none() {
                return Err(Error::validation(
                    "template",
                    format!("the rule has no template for {c}"),
                ));
            }
        }
        Ok(())
    }

    /// A staff member of the business by id.
    pub fn staff_member(&self, id: Uuid) -> Result<StaffMember> {
        self.business()?
            .staff
            .into_iter()
            .find(|m| m.id == id)
            .ok_or(Error::NotFound {
                kind: "staff member",
                id,
            })
    }

    /// Adds a staff member and returns their id.
    pub fn add_staff(&mut self, name: &str) -> Result<Uuid> {
        let id = Uuid::now_v7();
        self.edit_business(SettingsEdit::PutStaff(StaffMember {
            id,
            name: name.trim().to_string(),
            phone: None,
            email: None,
            telegram: None,
            devices: Vec::new(),
            active: true,
        }))?;
        Ok(id)
    }

    /// Re-derives every projection table from the documents. Used after a schema change of the
    /// projection and by tests that check the incremental projection against a fresh one.
    pub fn rebuild_projection(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        projection::rebuild(&tx, &self.actor)?;
        self.checkpointer.commit(tx)?;
        Ok(())
    }

    /// Every row of the projection, keyed by ids rather than local row numbers, sorted: two
    /// stores holding the same documents have equal snapshots.
    pub fn projection_snapshot(&self) -> Result<ProjectionSnapshot> {
        projection::snapshot(&self.conn)
    }

    /// The ids of every document in the book.
    pub fn doc_ids(&self) -> Result<Vec<Uuid>> {
        docs::ids(&self.conn)
    }

    /// A document's full saved form (what a fresh device needs of it).
    pub fn export_doc(&self, id: Uuid) -> Result<Vec<u8>> {
        docs::raw(&self.conn, id)?.ok_or(Error::NotFound {
            kind: "document",
            id,
        })
    }

    /// Merges changes received from elsewhere (a saved document or incremental changes) into the
    /// document `id`, creating it if this device has not seen it, and re-projects what changed.
    /// Returns whether anything new arrived. Bytes that are not automerge data are refused with
    /// the store unchanged. A forgotten client is never taken in again.
    pub fn apply_remote(&mut self, id: Uuid, bytes: &[u8]) -> Result<bool> {
        if erase::is_erased(&self.conn, id)? {
            return Ok(false);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = docs::merge(&tx, id, bytes)?;
        self.checkpointer.commit(tx)?;
        if changed == Some(docs::Kind::Business) {
            self.refresh_business()?;
        }
        Ok(changed.is_some())
    }

    /// On-disk size of the book: the database file plus its WAL.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

fn validate_business(mut b: NewBusiness) -> Result<NewBusiness> {
    b.name = b.name.trim().to_string();
    if b.name.is_empty() {
        return Err(Error::validation("name", "must not be empty"));
    }
    b.region = crate::phone::parse_region(&b.region)?.to_string();
    b.zone
        .parse::<Tz>()
        .map_err(|_| Error::validation("zone", "unknown IANA zone"))?;
    b.currency = crate::money::currency(&b.currency)?.code().to_string();
    Ok(b)
}

pub(crate) fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
            r.get(0)
        })
        .optional()?)
}

pub(crate) fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
