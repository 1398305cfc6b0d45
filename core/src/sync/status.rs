//! What a master sees of sync: is the book paired, is the server there, when did it last sync,
//! how many edits are waiting, is a fresh device still receiving, and what went wrong last.
//!
//! The model follows what PowerSync's `SyncStatus` (connected, lastSyncedAt, hasSynced,
//! uploading/downloading) and Couchbase Lite's replicator status (activity, progress, last
//! error) give their apps. It is read from the book ([`crate::Store::sync_state`]): the outcome
//! of every attempt is kept there, so that `kartka status` in another process, or an app
//! started offline, tells the same as the process that synced. What only the syncing process
//! knows (a sync under way right now) is [`Activity`].

use chrono::{DateTime, Utc};

use crate::error::Error;

/// The book's sync, as a status line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    /// The server the book is paired with; `None`: never paired.
    pub server: Option<String>,
    pub link: Link,
    /// The end of the last sync that went through.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Records (client cards and the business's settings) with edits the server has not
    /// acknowledged yet. Safe in the book; they go with the next sync.
    pub pending: u64,
    pub activity: Activity,
    /// A fresh device's first sync, until everything of the business has arrived.
    pub receiving: Option<Receiving>,
    /// What went wrong with the last attempt; cleared by the next one that goes through.
    pub last_error: Option<Problem>,
}

impl SyncState {
    /// Whether everything of the business has arrived at least once (PowerSync's `hasSynced`).
    pub fn has_synced(&self) -> bool {
        self.last_synced_at.is_some() && self.receiving.is_none()
    }
}

/// Whether the server answered the last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Not paired, or paired and no attempt made yet.
    Unknown,
    /// The server answered the last attempt, and every one since `since`.
    Connected { since: DateTime<Utc> },
    /// The server has not been reached since `since` (the first failed attempt in a row).
    Offline { since: DateTime<Utc> },
}

/// What this process's sync is doing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activity {
    #[default]
    Idle,
    /// A request is out: sending the waiting edits, receiving, or waiting on the server for a
    /// change made elsewhere.
    Syncing,
}

/// A fresh device's progress through the business: `received` of `total` client cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receiving {
    pub received: u64,
    /// `None` when the server did not say (an older server).
    pub total: Option<u64>,
}

/// The last failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The error's own words (English), for a log or a detail line.
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// What kind of failure, for a screen to word in the master's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// No connection could be made (no network, the server down, a wrong address).
    Unreachable,
    /// The server did not answer in time.
    TimedOut,
    /// The connection broke mid-way.
    ConnectionLost,
    /// The server refused the request (a 4xx answer other than revocation).
    Refused,
    /// The server failed (a 5xx answer) or answered with something unreadable.
    ServerFault,
    /// The owner removed this device; its copy of the business was erased.
    Revoked,
    /// This device could not read or write its own book.
    Local,
}

impl ProblemKind {
    pub fn of(e: &Error) -> ProblemKind {
        match e {
            Error::Unreachable { .. } => ProblemKind::Unreachable,
            Error::TimedOut { .. } => ProblemKind::TimedOut,
            Error::Network { .. } => ProblemKind::ConnectionLost,
            Error::Revoked => ProblemKind::Revoked,
            Error::Server {
                status: 500..=599, ..
            }
            | Error::Protocol(_) => ProblemKind::ServerFault,
            Error::Server { .. } | Error::NotPaired => ProblemKind::Refused,
            _ => ProblemKind::Local,
        }
    }

    /// The stable name kept in the book and shown in `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Unreachable => "unreachable",
            ProblemKind::TimedOut => "timed_out",
            ProblemKind::ConnectionLost => "connection_lost",
            ProblemKind::Refused => "refused",
            ProblemKind::ServerFault => "server_fault",
            ProblemKind::Revoked => "revoked",
            ProblemKind::Local => "local",
        }
    }

    pub fn parse(s: &str) -> Option<ProblemKind> {
        Some(match s {
            "unreachable" => ProblemKind::Unreachable,
            "timed_out" => ProblemKind::TimedOut,
            "connection_lost" => ProblemKind::ConnectionLost,
            "refused" => ProblemKind::Refused,
            "server_fault" => ProblemKind::ServerFault,
            "revoked" => ProblemKind::Revoked,
            "local" => ProblemKind::Local,
            _ => return None,
        })
    }

    /// The server was not there: the link is down, not refused.
    pub fn is_offline(self) -> bool {
        matches!(
            self,
            ProblemKind::Unreachable | ProblemKind::TimedOut | ProblemKind::ConnectionLost
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_survives_the_book() {
        for k in [
            ProblemKind::Unreachable,
            ProblemKind::TimedOut,
            ProblemKind::ConnectionLost,
            ProblemKind::Refused,
            ProblemKind::ServerFault,
            ProblemKind::Revoked,
            ProblemKind::Local,
        ] {
            assert_eq!(ProblemKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ProblemKind::parse("gone"), None);
    }

    #[test]
    fn failures_are_sorted_into_offline_and_refused() {
        let server = || "http://127.0.0.1:1".to_string();
        let unreachable = Error::Unreachable {
            server: server(),
            reason: "connection refused".into(),
        };
        assert_eq!(ProblemKind::of(&unreachable), ProblemKind::Unreachable);
        assert!(ProblemKind::of(&unreachable).is_offline());
        let timed_out = Error::TimedOut {
            server: server(),
            secs: 60,
        };
        assert!(ProblemKind::of(&timed_out).is_offline());
        let refused = Error::Server {
            status: 403,
            code: "forbidden".into(),
            detail: String::new(),
            doc: None,
        };
        assert_eq!(ProblemKind::of(&refused), ProblemKind::Refused);
        assert!(!ProblemKind::of(&refused).is_offline());
        let fault = Error::Server {
            status: 503,
            code: "http".into(),
            detail: String::new(),
            doc: None,
        };
        assert_eq!(ProblemKind::of(&fault), ProblemKind::ServerFault);
    }
}
