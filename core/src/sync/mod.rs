//! The device's sync client: pairing with a server, and converging with it.
//!
//! - [`wire`]: the protocol's messages, shared with the server;
//! - [`remote`]: the HTTP calls;
//! - this module: pairing, [`sync_now`] (push what the server lacks, pull what this device lacks,
//!   page until both are done), a long-poll wait for live changes, and a background loop with
//!   exponential backoff that reports its status.
//!
//! The store is locked only to build a request and to apply its answer, never across the
//! network, so the UI keeps writing while a sync is out. See ARCHITECTURE.md, "Sync protocol".

pub mod remote;
pub mod status;
pub mod wire;

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::store::{Store, SyncConfig};
use remote::Remote;
use wire::{CreateBusiness, Invite, JoinBusiness, Paired, SyncRequest};

/// About how many bytes of changes one request pushes; the server accepts up to 8 MiB.
pub const PUSH_BUDGET: usize = 1 << 20;

/// Gives the sync client short, repeated access to the store it syncs.
pub trait StoreAccess {
    fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R;
}

impl StoreAccess for Mutex<Store> {
    fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        // A panic while holding the lock leaves the store itself consistent (every write is
        // one SQLite transaction), so a poisoned lock is safe to take over.
        let mut guard = self.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

impl StoreAccess for RefCell<Store> {
    fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

impl StoreAccess for RefCell<&mut Store> {
    fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.borrow_mut())
    }
}

/// What a sync did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// Documents sent with changes.
    pub pushed: u32,
    /// Documents that received changes.
    pub pulled: u32,
    /// Documents edited here and elsewhere at once, merged.
    pub concurrent: u32,
    pub round_trips: u32,
    /// Each client once, however many answers of the sync changed it.
    pub changed_clients: Vec<Uuid>,
    /// What `changed_clients` holds, to keep it free of repeats in one step per client.
    seen_clients: std::collections::HashSet<Uuid>,
    /// Staff members whose Telegram alerts moved to another chat ([`crate::store::Applied`]).
    pub staff_alerts_moved: Vec<Uuid>,
}

impl SyncReport {
    fn add(&mut self, pushed: usize, applied: crate::store::Applied) {
        self.pushed += pushed as u32;
        self.pulled += applied.pulled;
        self.concurrent += applied.concurrent;
        self.round_trips += 1;
        // A client changed in several answers of one sync is one client to refresh.
        for client in applied.changed_clients {
            if self.seen_clients.insert(client) {
                self.changed_clients.push(client);
            }
        }
        for staff in applied.staff_alerts_moved {
            if !self.staff_alerts_moved.contains(&staff) {
                self.staff_alerts_moved.push(staff);
            }
        }
    }
}

/// Pairs a book that already has its business with a server, creating the business there. The
/// device becomes the business's owner.
pub fn create_business(store: &mut Store, server: &str, device_name: &str) -> Result<Paired> {
    if store.sync_config()?.is_some() {
        return Err(Error::validation("server", "this book is already paired"));
    }
    let business = store.business()?;
    let paired = Remote::new(server, None)?.create_business(&CreateBusiness {
        business_id: business.id,
        name: business.name,
        device_name: device_name.to_string(),
    })?;
    store.set_sync_config(&config(server, &paired), wire::Cursor::Feed(0))?;
    store.name_this_device(device_name)?;
    Ok(paired)
}

/// Joins an existing business with an invite code. The book must be empty: everything of the
/// business arrives with the first sync.
pub fn join(store: &mut Store, server: &str, code: &str, device_name: &str) -> Result<Paired> {
    if store.sync_config()?.is_some() {
        return Err(Error::validation("server", "this book is already paired"));
    }
    if store.business().is_ok() {
        return Err(Error::AlreadyInitialized);
    }
    let paired = Remote::new(server, None)?.join(&JoinBusiness {
        code: code.trim().to_string(),
        device_name: device_name.to_string(),
    })?;
    store.set_sync_config(&config(server, &paired), wire::Cursor::Start)?;
    store.name_this_device(device_name)?;
    Ok(paired)
}

fn config(server: &str, p: &Paired) -> SyncConfig {
    SyncConfig {
        server: server.trim_end_matches('/').to_string(),
        token: p.token.clone(),
        device_id: p.device_id,
        business_id: p.business_id,
    }
}

/// The remote of a paired book.
pub fn remote_of(store: &Store) -> Result<Remote> {
    let cfg = store.sync_config()?.ok_or(Error::NotPaired)?;
    Remote::new(&cfg.server, Some(cfg.token))
}

/// The link that lets a client start the business's Telegram bot: once they press Start, the
/// server binds their chat to the card and records their consent. The server signs it (the
/// ids alone are in every book, so a link made of them could be forged) and it expires.
pub fn client_telegram_link(store: &Store, client: Uuid) -> Result<String> {
    let c = store.get_client(client)?;
    let remote = remote_of(store)?;
    telegram_link(&remote, Some(c.id), None)
}

/// The link a staff member opens to get the business's alerts from its bot on Telegram:
/// signed by the server, valid for a day, binding once.
pub fn staff_telegram_link(store: &Store, staff: Uuid) -> Result<String> {
    store.staff_member(staff)?;
    let remote = remote_of(store)?;
    telegram_link(&remote, None, Some(staff))
}

/// The network half of the two above, for callers that must not hold the book meanwhile.
pub fn telegram_link(remote: &Remote, client: Option<Uuid>, staff: Option<Uuid>) -> Result<String> {
    Ok(remote
        .telegram_link(&wire::TelegramLinkRequest { client, staff })?
        .link)
}

/// Creates an invite code for another device (owner devices only).
pub fn invite(store: &Store) -> Result<Invite> {
    remote_of(store)?.invite()
}

/// Pushes everything this device has that the server lacks and pulls everything it lacks,
/// paging until both sides are done.
pub fn sync_now(access: &impl StoreAccess) -> Result<SyncReport> {
    let remote = access.with_store(|s| remote_of(s))?;
    round(access, &remote, None, &mut |_| {})
}

/// [`sync_now`], reporting the running totals after every round trip (a fresh device's first
/// sync takes many: an app shows how far it is).
pub fn sync_with_progress(
    access: &impl StoreAccess,
    on_page: &mut dyn FnMut(&SyncReport),
) -> Result<SyncReport> {
    let remote = access.with_store(|s| remote_of(s))?;
    round(access, &remote, None, on_page)
}

/// [`sync_now`] over a [`Remote`] kept by the caller: its connections are reused from one sync
/// to the next (a loop, an app's sync service).
pub fn sync_with(access: &impl StoreAccess, remote: &Remote) -> Result<SyncReport> {
    round(access, remote, None, &mut |_| {})
}

/// Like [`sync_now`]; then, when nothing moved, waits up to `wait` on the server for a change
/// made elsewhere, and pulls it. An edit on another device shows here within a second.
pub fn sync_and_wait(access: &impl StoreAccess, wait: Duration) -> Result<SyncReport> {
    let remote = access.with_store(|s| remote_of(s))?;
    sync_and_wait_with(access, &remote, wait)
}

/// [`sync_and_wait`] over a [`Remote`] kept by the caller.
pub fn sync_and_wait_with(
    access: &impl StoreAccess,
    remote: &Remote,
    wait: Duration,
) -> Result<SyncReport> {
    sync_and_wait_progress(access, remote, wait, &mut |_| {})
}

fn sync_and_wait_progress(
    access: &impl StoreAccess,
    remote: &Remote,
    wait: Duration,
    on_page: &mut dyn FnMut(&SyncReport),
) -> Result<SyncReport> {
    let report = round(access, remote, None, on_page)?;
    if report.pulled > 0 || report.pushed > 0 {
        return Ok(report);
    }
    let mut waited = round(access, remote, Some(wait), on_page)?;
    waited.round_trips += report.round_trips;
    Ok(waited)
}

/// One sync, its outcome kept in the book for the status line ([`status`]).
fn round(
    access: &impl StoreAccess,
    remote: &Remote,
    wait: Option<Duration>,
    on_page: &mut dyn FnMut(&SyncReport),
) -> Result<SyncReport> {
    let outcome = pages(access, remote, wait, on_page);
    access.with_store(|s| {
        s.set_sync_activity(status::Activity::Idle);
        match &outcome {
            Ok(_) => s.record_sync_outcome(Ok(())),
            Err(e) => {
                // The sync's own error is the one to report; a book that cannot keep the
                // status has that error again on the next write.
                if let Err(kept) = s.record_sync_outcome(Err(e)) {
                    tracing::warn!(error = %kept, "could not keep the sync status");
                }
                Ok(())
            }
        }
    })?;
    outcome
}

fn pages(
    access: &impl StoreAccess,
    remote: &Remote,
    wait: Option<Duration>,
    on_page: &mut dyn FnMut(&SyncReport),
) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    let mut resent_whole = HashSet::new();
    let mut wait = wait;
    send_erasures(access, remote)?;
    loop {
        let outbox = access.with_store(|s| {
            let outbox = s.sync_outbox(PUSH_BUDGET)?;
            // "Syncing" is something moving: edits going up here, or (below) changes coming
            // down. A quiet check, or a long-poll waiting on the server, leaves the status
            // line as it is rather than flashing it every few seconds.
            if !outbox.chunks.is_empty() {
                s.set_sync_activity(status::Activity::Syncing);
            }
            Ok::<_, Error>(outbox)
        })?;
        let req = SyncRequest {
            cursor: outbox.cursor,
            push: outbox.chunks.clone(),
        };
        // Only an empty request may wait: pushed changes must be acknowledged at once.
        let this_wait = if req.push.is_empty() {
            wait.take()
        } else {
            None
        };
        let resp = match remote.sync(&req, this_wait) {
            Ok(r) => r,
            // The server could not build on what it was sent (it lacks the changes this
            // device believed it held, as after a restore from backup): send it whole, once.
            Err(Error::Server {
                code, doc: Some(d), ..
            }) if code == "document_rejected" && resent_whole.insert(d) => {
                access.with_store(|s| s.sync_resend_whole(d))?;
                continue;
            }
            Err(e) => return Err(refused(access, e)?),
        };
        let applied = access.with_store(|s| {
            if resp.more {
                s.set_sync_activity(status::Activity::Syncing);
            }
            s.sync_apply(&outbox, &resp)
        })?;
        report.add(outbox.chunks.len(), applied);
        if !resp.more && !outbox.more {
            return Ok(report);
        }
        on_page(&report);
    }
}

/// Clients forgotten here go to the server first, in batches: it erases its copy and tells
/// every other device.
fn send_erasures(access: &impl StoreAccess, remote: &Remote) -> Result<()> {
    let pending = access.with_store(|s| s.erasures_to_send())?;
    for batch in pending.chunks(ERASE_BATCH) {
        match remote.erase(batch) {
            Ok(_) => {}
            // Refused for good (not this business's clients): the copies here are gone already,
            // and retrying would hold every later sync back behind it.
            Err(Error::Server {
                status: status @ 400..=499,
                ref code,
                ..
            }) if !matches!(status, 401 | 408 | 429) => {
                tracing::warn!(%code, "the server refused an erasure; not retried");
            }
            Err(e) => return Err(refused(access, e)?),
        }
        access.with_store(|s| s.erasures_sent(batch))?;
    }
    Ok(())
}

/// A request failed. If the server says the owner removed this device, its copy of the
/// business goes (a lost phone must not keep thousands of people's data): [`Error::Revoked`].
fn refused(access: &impl StoreAccess, e: Error) -> Result<Error> {
    match &e {
        Error::Server {
            status: 401, code, ..
        } if code == "device_revoked" => {
            access.with_store(|s| s.wipe())?;
            Ok(Error::Revoked)
        }
        _ => Ok(e),
    }
}

/// The server takes at most 256 erasures per request.
const ERASE_BATCH: usize = 256;

/// What the background loop reports after every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStatus {
    /// A sync is under way: the totals so far (sent after each round trip but the last).
    Progress { so_far: SyncReport },
    /// The last sync succeeded.
    Synced { report: SyncReport },
    /// The last sync failed; the next attempt is in `retry_in`.
    Failed { error: String, retry_in: Duration },
}

/// Syncs until `stop` is set: a long-poll keeps the device live while online; failures back off
/// exponentially (1 s doubling to 5 min, with jitter so a fleet of devices does not retry in
/// step after an outage). A refused device (revoked, unpaired) stops the loop.
pub fn run_loop(
    access: &impl StoreAccess,
    stop: &AtomicBool,
    wait: Duration,
    mut on_status: impl FnMut(&SyncStatus),
) -> Result<()> {
    let mut failures = 0u32;
    let remote = access.with_store(|s| remote_of(s))?;
    while !stop.load(Ordering::Relaxed) {
        let mut progress = |so_far: &SyncReport| {
            on_status(&SyncStatus::Progress {
                so_far: so_far.clone(),
            })
        };
        let outcome = sync_and_wait_progress(access, &remote, wait, &mut progress);
        match outcome {
            Ok(report) => {
                failures = 0;
                on_status(&SyncStatus::Synced { report });
            }
            Err(
                e @ (Error::NotPaired
                | Error::Revoked
                | Error::Server {
                    status: 401 | 403, ..
                }),
            ) => {
                on_status(&SyncStatus::Failed {
                    error: e.to_string(),
                    retry_in: Duration::ZERO,
                });
                return Err(e);
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                let retry_in = backoff(failures);
                on_status(&SyncStatus::Failed {
                    error: e.to_string(),
                    retry_in,
                });
                let until = Instant::now() + retry_in;
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50).min(retry_in));
                }
            }
        }
    }
    Ok(())
}

/// The delay after `failures` failures in a row: 1 s, 2 s, 4 s, … up to 5 min, each with up to a
/// quarter of random jitter.
pub fn backoff(failures: u32) -> Duration {
    let base = Duration::from_secs(1u64 << failures.saturating_sub(1).min(9))
        .min(Duration::from_secs(300));
    let jitter = base.as_millis() as u64 / 4;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    base + Duration::from_millis(if jitter == 0 { 0 } else { nanos % jitter })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert!(backoff(1) >= Duration::from_secs(1) && backoff(1) < Duration::from_millis(1251));
        assert!(backoff(3) >= Duration::from_secs(4));
        assert!(backoff(40) >= Duration::from_secs(300) && backoff(40) <= Duration::from_secs(375));
    }

    /// `kartka sync --json` listed a client once per answer that changed it.
    #[test]
    fn a_client_changed_by_several_answers_is_reported_once() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let answer = |clients: &[Uuid]| crate::store::Applied {
            pulled: clients.len() as u32,
            changed_clients: clients.to_vec(),
            ..Default::default()
        };
        let mut report = SyncReport::default();
        report.add(1, answer(&[a, b]));
        report.add(0, answer(&[b, a, c, c]));
        assert_eq!(report.changed_clients, [a, b, c]);
        assert_eq!((report.pulled, report.round_trips), (6, 2));
    }
}
