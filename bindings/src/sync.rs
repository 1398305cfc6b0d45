//! Pairing and sync at the FFI edge: blocking calls for an app's background thread, and a
//! background loop the app starts and stops, reporting its status through a callback.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kartka_core::sync::{self, SyncReport, SyncStatus};

use crate::{ApiError, ClientBook};

#[derive(Debug, Clone, uniffi::Record)]
pub struct PairedRec {
    pub business_id: String,
    pub device_id: String,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct InviteRec {
    pub code: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// What the settings screen shows about sync, read from the book (no network).
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncInfoRec {
    pub paired: bool,
    pub server: Option<String>,
    pub device_id: Option<String>,
    pub business_id: Option<String>,
    /// Documents with edits the server has not acknowledged yet.
    pub unsynced: u64,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct DeviceRec {
    pub id: String,
    pub name: String,
    pub owner: bool,
    /// RFC 3339.
    pub created_at: String,
    pub last_seen: Option<String>,
    pub revoked: bool,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncReportRec {
    /// Documents sent with changes.
    pub pushed: u32,
    /// Documents that received changes.
    pub pulled: u32,
    /// Documents edited here and elsewhere at once, merged (show "conflicts resolved").
    pub concurrent: u32,
    pub round_trips: u32,
    /// Staff members (ids) whose Telegram alerts now go to another chat: show "the alerts of …
    /// moved to another chat; if that was not them, make a new link". Empty by default, so
    /// that a record built by hand (a test, a preview) needs no list.
    #[uniffi(default)]
    pub staff_alerts_moved: Vec<String>,
}

impl From<&SyncReport> for SyncReportRec {
    fn from(r: &SyncReport) -> Self {
        SyncReportRec {
            pushed: r.pushed,
            pulled: r.pulled,
            concurrent: r.concurrent,
            round_trips: r.round_trips,
            staff_alerts_moved: r
                .staff_alerts_moved
                .iter()
                .map(|id| id.to_string())
                .collect(),
        }
    }
}

#[derive(Debug, Clone, uniffi::Enum)]
pub enum SyncStatusRec {
    /// A long sync is under way (a fresh device's first): the totals so far.
    Progress {
        so_far: SyncReportRec,
    },
    Synced {
        report: SyncReportRec,
    },
    /// The last attempt failed; the loop retries in `retry_in_ms` (0: it stopped for good, as
    /// for a revoked device).
    Failed {
        error: String,
        retry_in_ms: u64,
    },
    /// The loop ended (stopped, or refused for good).
    Stopped,
}

/// Told about every attempt of the background sync loop, on the loop's thread.
#[uniffi::export(with_foreign)]
pub trait SyncStatusListener: Send + Sync {
    fn sync_status(&self, status: SyncStatusRec);
}

impl ClientBook {
    /// The visit and its link, the server signing it; the book is not locked across the
    /// network call.
    fn signed_link(&self, visit_id: &str) -> Result<(kartka_core::model::Visit, String), ApiError> {
        let (remote, visit) = {
            let store = self.store()?;
            let visit = store.get_visit(crate::id(visit_id)?)?;
            (sync::remote_of(&store)?, visit)
        };
        let link = remote.confirm_link(visit.client_id, visit.id)?.link;
        Ok((visit, link))
    }

    fn after_sync(&self, report: &SyncReport) {
        if !report.changed_clients.is_empty() {
            self.notify(report.changed_clients.clone());
        }
    }
}

#[uniffi::export]
impl ClientBook {
    /// Creates this book's business on the server at `server` (this device becomes its owner);
    /// the next `sync_now` (or the background loop) uploads the book. Blocks on the network:
    /// call it off the UI thread.
    pub fn pair_create_business(
        &self,
        server: String,
        device_name: String,
    ) -> Result<PairedRec, ApiError> {
        let p = sync::create_business(&mut *self.store()?, &server, &device_name)?;
        Ok(PairedRec {
            business_id: p.business_id.to_string(),
            device_id: p.device_id.to_string(),
        })
    }

    /// Joins a business with an invite code; the book must be empty. Call `sync_now` next to
    /// receive the business. Blocks on the network.
    pub fn pair_join(
        &self,
        server: String,
        code: String,
        device_name: String,
    ) -> Result<PairedRec, ApiError> {
        let p = sync::join(&mut *self.store()?, &server, &code, &device_name)?;
        Ok(PairedRec {
            business_id: p.business_id.to_string(),
            device_id: p.device_id.to_string(),
        })
    }

    pub fn sync_info(&self) -> Result<SyncInfoRec, ApiError> {
        let store = self.store()?;
        let cfg = store.sync_config()?;
        Ok(SyncInfoRec {
            paired: cfg.is_some(),
            server: cfg.as_ref().map(|c| c.server.clone()),
            device_id: cfg.as_ref().map(|c| c.device_id.to_string()),
            business_id: cfg.as_ref().map(|c| c.business_id.to_string()),
            unsynced: store.unsynced_docs()?,
        })
    }

    /// The signed link where the client confirms or cancels this visit, for the master to
    /// send by hand from the visit (the server signs it). Blocks on the network.
    pub fn confirmation_link(&self, visit_id: String) -> Result<String, ApiError> {
        Ok(self.signed_link(&visit_id)?.1)
    }

    /// The text of a confirmation request for a visit, ready for the composer: the template
    /// (its `{confirm_link}` filled in), or without one a sentence in the business's language
    /// with the link. Blocks on the network (the server signs the link).
    pub fn confirmation_request(
        &self,
        visit_id: String,
        template_id: Option<String>,
    ) -> Result<String, ApiError> {
        let (visit, link) = self.signed_link(&visit_id)?;
        let store = self.store()?;
        match template_id {
            Some(t) => {
                let client = store.get_client(visit.client_id)?;
                Ok(store.render_template_with_link(
                    crate::id(&t)?,
                    &client,
                    Some(visit.id),
                    Some(link),
                )?)
            }
            None => {
                let lead = match store.business()?.locale.split(['-', '_']).next() {
                    Some("uk") => "Підтвердіть, будь ласка, ваш запис:",
                    Some("ru") => "Подтвердите, пожалуйста, вашу запись:",
                    Some("pl") => "Prosimy o potwierdzenie wizyty:",
                    _ => "Please confirm your visit:",
                };
                Ok(format!("{lead} {link}"))
            }
        }
    }

    /// The business's devices, as the server knows them. Blocks on the network.
    pub fn devices(&self) -> Result<Vec<DeviceRec>, ApiError> {
        let remote = sync::remote_of(&*self.store()?)?;
        Ok(remote
            .devices()?
            .into_iter()
            .map(|d| DeviceRec {
                id: d.id.to_string(),
                name: d.name,
                owner: d.owner,
                created_at: d.created_at.to_rfc3339(),
                last_seen: d.last_seen.map(|t| t.to_rfc3339()),
                revoked: d.revoked,
            })
            .collect())
    }

    /// Removes a lost or replaced device from the business (owner only); the server refuses
    /// it from now on and tells it to erase its copy. Blocks on the network.
    pub fn revoke_device(&self, device_id: String) -> Result<(), ApiError> {
        let device = crate::id(&device_id)?;
        let remote = sync::remote_of(&*self.store()?)?;
        Ok(remote.revoke(device)?)
    }

    /// An invite code for another device (owner only). Blocks on the network.
    pub fn invite(&self) -> Result<InviteRec, ApiError> {
        // The book is not locked across the network call.
        let remote = sync::remote_of(&*self.store()?)?;
        let inv = remote.invite()?;
        Ok(InviteRec {
            code: inv.code,
            expires_at: inv.expires_at.to_rfc3339(),
        })
    }

    /// Pushes what the server lacks and pulls what this book lacks. The book stays usable from
    /// other threads meanwhile (it is locked only to build a request and to apply its answer);
    /// the change listener hears about clients that changed. Blocks on the network.
    pub fn sync_now(&self) -> Result<SyncReportRec, ApiError> {
        let report = sync::sync_now(self)?;
        self.after_sync(&report);
        Ok((&report).into())
    }

    /// Starts syncing in the background until `stop_sync`: a long-poll of up to `wait_seconds`
    /// keeps the book live while online; failures back off (1 s doubling to 5 min). Every
    /// attempt is reported to `listener`. A second start replaces the first loop.
    pub fn start_sync(self: Arc<Self>, wait_seconds: u32, listener: Arc<dyn SyncStatusListener>) {
        self.stop_sync();
        let stop = Arc::new(AtomicBool::new(false));
        *self.sync_stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(stop.clone());
        let book = self.clone();
        std::thread::spawn(move || {
            let wait = Duration::from_secs(u64::from(wait_seconds.clamp(1, 30)));
            let _ = sync::run_loop(&*book, &stop, wait, |status| match status {
                SyncStatus::Progress { so_far } => listener.sync_status(SyncStatusRec::Progress {
                    so_far: so_far.into(),
                }),
                SyncStatus::Synced { report } => {
                    book.after_sync(report);
                    listener.sync_status(SyncStatusRec::Synced {
                        report: report.into(),
                    });
                }
                SyncStatus::Failed { error, retry_in } => {
                    listener.sync_status(SyncStatusRec::Failed {
                        error: error.clone(),
                        retry_in_ms: retry_in.as_millis() as u64,
                    })
                }
            });
            listener.sync_status(SyncStatusRec::Stopped);
        });
    }

    /// Asks the background loop to stop; it ends after its current request (at most the
    /// long-poll's wait) and reports `Stopped`.
    pub fn stop_sync(&self) {
        if let Some(stop) = self
            .sync_stop
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            stop.store(true, Ordering::Relaxed);
        }
    }
}
