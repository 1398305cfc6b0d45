//! The sync status at the FFI edge: a record the status line reads, and an observable the app
//! subscribes to.
//!
//! Every access to the book goes through a [`BookGuard`]; when it is released after a write or
//! a change of what the sync is doing, the status is read again (one indexed count) and handed
//! to the subscriber if it differs from the last one. So an edit made offline moves "3 changes
//! waiting" to 4 at once, a sync's pages move "Receiving", and an idle book does nothing at all:
//! no timer, no thread.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};

use kartka_core::Store;
use kartka_core::sync::status::{Activity, Link, ProblemKind, SyncState};

use crate::{ApiError, ClientBook};

/// Whether the server answered the last attempt.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncLink {
    /// Not paired, or no attempt yet.
    Unknown,
    /// RFC 3339: answering since then.
    Connected { since: String },
    /// RFC 3339: not reached since then (the first failure in a row).
    Offline { since: String },
}

/// What went wrong, for the app to word in the master's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncProblemKind {
    /// No connection (no network, the server down or the address wrong).
    Unreachable,
    /// The server did not answer in time.
    TimedOut,
    /// The connection broke mid-way.
    ConnectionLost,
    /// The server refused (a used invite, a request it does not take).
    Refused,
    /// The server failed; it is not this device's doing.
    ServerFault,
    /// The owner removed this device.
    Revoked,
    /// This device's own book could not be read or written.
    Local,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncProblemRec {
    pub kind: SyncProblemKind,
    /// The error's words in English, for a detail line or a report.
    pub detail: String,
    /// RFC 3339.
    pub at: String,
}

/// A fresh device's first sync: `received` of `total` client cards (`total` unknown from an older
/// server).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceivingRec {
    pub received: u64,
    pub total: Option<u64>,
}

/// The book's sync as a status line shows it ("Synced 2 min ago", "Offline — 3 changes
/// waiting", "Receiving 12,000 of 50,000 clients").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStateRec {
    pub paired: bool,
    pub server: Option<String>,
    pub link: SyncLink,
    /// RFC 3339: the end of the last sync that went through.
    pub last_synced_at: Option<String>,
    /// Everything of the business has arrived at least once.
    pub has_synced: bool,
    /// Records (cards, the business's settings) with edits the server has not acknowledged:
    /// safe in the book, sent with the next sync.
    pub pending: u64,
    /// A sync request is out right now.
    pub syncing: bool,
    pub receiving: Option<ReceivingRec>,
    pub last_error: Option<SyncProblemRec>,
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl From<&SyncState> for SyncStateRec {
    fn from(s: &SyncState) -> Self {
        SyncStateRec {
            paired: s.server.is_some(),
            server: s.server.clone(),
            link: match s.link {
                Link::Unknown => SyncLink::Unknown,
                Link::Connected { since } => SyncLink::Connected { since: ts(since) },
                Link::Offline { since } => SyncLink::Offline { since: ts(since) },
            },
            last_synced_at: s.last_synced_at.map(ts),
            has_synced: s.has_synced(),
            pending: s.pending,
            syncing: s.activity == Activity::Syncing,
            receiving: s.receiving.map(|r| ReceivingRec {
                received: r.received,
                total: r.total,
            }),
            last_error: s.last_error.as_ref().map(|p| SyncProblemRec {
                kind: match p.kind {
                    ProblemKind::Unreachable => SyncProblemKind::Unreachable,
                    ProblemKind::TimedOut => SyncProblemKind::TimedOut,
                    ProblemKind::ConnectionLost => SyncProblemKind::ConnectionLost,
                    ProblemKind::Refused => SyncProblemKind::Refused,
                    ProblemKind::ServerFault => SyncProblemKind::ServerFault,
                    ProblemKind::Revoked => SyncProblemKind::Revoked,
                    ProblemKind::Local => SyncProblemKind::Local,
                },
                detail: p.detail.clone(),
                at: ts(p.at),
            }),
        }
    }
}

/// Told the sync status whenever it changes, on the thread that changed it (post to the UI
/// thread).
#[uniffi::export(with_foreign)]
pub trait SyncStateListener: Send + Sync {
    fn sync_state_changed(&self, state: SyncStateRec);
}

/// The subscriber and what it was last told.
#[derive(Default)]
pub(crate) struct Observer {
    inner: Mutex<Option<(Arc<dyn SyncStateListener>, SyncStateRec)>>,
}

impl Observer {
    fn watching(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Hands `state` to the subscriber if it is new. The listener is called with no lock held,
    /// so it may read the book again.
    fn offer(&self, state: SyncStateRec) {
        let listener = {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            match inner.as_mut() {
                Some((l, last)) if *last != state => {
                    *last = state.clone();
                    l.clone()
                }
                _ => return,
            }
        };
        listener.sync_state_changed(state);
    }
}

/// The book, locked; on release, a changed sync status goes to the subscriber.
pub(crate) struct BookGuard<'a> {
    guard: Option<MutexGuard<'a, Store>>,
    observer: &'a Observer,
    stamp: (u64, Activity),
}

fn stamp(store: &Store) -> (u64, Activity) {
    (store.write_count(), store.sync_activity())
}

impl<'a> BookGuard<'a> {
    pub(crate) fn new(guard: MutexGuard<'a, Store>, observer: &'a Observer) -> Self {
        let stamp = stamp(&guard);
        BookGuard {
            guard: Some(guard),
            observer,
            stamp,
        }
    }
}

impl Deref for BookGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.guard.as_ref().expect("held until dropped")
    }
}

impl DerefMut for BookGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.guard.as_mut().expect("held until dropped")
    }
}

impl Drop for BookGuard<'_> {
    fn drop(&mut self) {
        let Some(store) = self.guard.take() else {
            return;
        };
        if stamp(&store) == self.stamp || !self.observer.watching() {
            return;
        }
        let state = store.sync_state();
        drop(store);
        if let Ok(state) = state {
            self.observer.offer((&state).into());
        }
    }
}

/// The sync loop and `sync_now` reach the book through the same guard, so that their pages and
/// outcomes are told like any edit.
impl kartka_core::sync::StoreAccess for ClientBook {
    fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let mut guard = BookGuard::new(
            self.store.lock().unwrap_or_else(|p| p.into_inner()),
            &self.sync_observer,
        );
        f(&mut guard)
    }
}

#[uniffi::export]
impl ClientBook {
    /// The sync status, read from the book (no network): for the status line on the client
    /// list and the card.
    pub fn sync_state(&self) -> Result<SyncStateRec, ApiError> {
        Ok((&self.store()?.sync_state()?).into())
    }

    /// Subscribes `listener` to the sync status (one subscriber; a second replaces the first).
    /// It is told the current status at once, then every change: a sync's start, pages and
    /// end, a failure, an edit that changes what waits to be sent.
    pub fn observe_sync_state(&self, listener: Arc<dyn SyncStateListener>) -> Result<(), ApiError> {
        let now: SyncStateRec = (&self.store()?.sync_state()?).into();
        *self
            .sync_observer
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((listener.clone(), now.clone()));
        listener.sync_state_changed(now);
        Ok(())
    }

    /// Ends the subscription.
    pub fn stop_observing_sync_state(&self) {
        *self
            .sync_observer
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }
}
