//! The core's one error type. Every fallible API returns [`Error`]; the FFI layer maps it onto the
//! handful of cases an app can act on. Messages never carry a client's personal data: they name the
//! field or the kind of record, not its contents.

use uuid::Uuid;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller gave a value the model cannot hold.
    #[error("invalid {field}: {reason}")]
    Validation { field: &'static str, reason: String },

    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: Uuid },

    /// The client has not consented to messages on this channel (or has withdrawn).
    #[error("no consent for {channel}: the client has not agreed to messages on this channel")]
    NoConsent { channel: crate::model::Channel },

    /// The client has no phone number (or email address) to message on this channel.
    #[error("no {what} for this client")]
    NoAddress { what: &'static str },

    /// WhatsApp delivers free text only within 24 hours of the client's last message; outside
    /// that window only a template approved by WhatsApp goes.
    #[error(
        "the client has not written on WhatsApp in the last 24 hours: only a template approved \
         by WhatsApp can be sent now"
    )]
    WhatsAppWindowClosed,

    /// Settling a field of a card that has no conflict (it was settled, here or on another
    /// device, or never had one).
    #[error("nothing to settle: {field} has no conflicting values")]
    NoConflict { field: String },

    /// Settling with a value a conflict does not have.
    #[error("no value {index} to keep: the conflict has {count} values (0 to {})", .count.saturating_sub(1))]
    NoSuchValue { index: usize, count: usize },

    #[error("this book has no business yet: run `init` first")]
    NotInitialized,

    #[error("this book already belongs to a business")]
    AlreadyInitialized,

    /// The database was written by a newer Kartka; opening it would risk damaging it.
    #[error(
        "the database has schema version {found}, newer than this Kartka supports ({supported})"
    )]
    SchemaTooNew { found: u32, supported: u32 },

    /// The book is encrypted and the key given (or none) does not open it, or the file is not a
    /// book at all.
    #[error("the book cannot be opened with this key (or the file is not a Kartka book)")]
    WrongKey,

    /// A stored or received document is not a valid Kartka document.
    #[error("document {id} is damaged: {reason}")]
    CorruptDocument { id: Uuid, reason: String },

    /// This book is not paired with a sync server.
    #[error("this book is not paired with a sync server: run `pair` first")]
    NotPaired,

    /// The business's owner removed this device (a lost or stolen phone): the server refused it,
    /// and this device's copy of the business has been erased.
    #[error("this device was removed from the business; its copy of the book was erased")]
    Revoked,

    /// No connection to the server could be made (refused, no such host, no route): the book
    /// keeps working, and its edits wait for the next sync.
    #[error("server {server} unreachable ({reason})")]
    Unreachable { server: String, reason: String },

    /// The server took longer than the client waits for an answer.
    #[error("no answer from {server} in {secs} s")]
    TimedOut { server: String, secs: u64 },

    /// The connection to the server broke mid-request; try again later.
    #[error("the connection to {server} broke ({detail})")]
    Network { server: String, detail: String },

    /// The server refused the request with a typed error (`code` is stable, see the API docs).
    #[error("server refused ({status}): {code}: {detail}")]
    Server {
        status: u16,
        code: String,
        detail: String,
        /// The document a `document_rejected` refusal is about.
        doc: Option<Uuid>,
    },

    /// The server answered with something this client cannot read.
    #[error("sync protocol error: {0}")]
    Protocol(String),

    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("document error: {0}")]
    Automerge(#[from] automerge::AutomergeError),

    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The server was not reached or did not answer: nothing is wrong with the book, and a
    /// later sync will go through.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. } | Error::TimedOut { .. } | Error::Network { .. }
        )
    }

    pub(crate) fn validation(field: &'static str, reason: impl Into<String>) -> Self {
        Error::Validation {
            field,
            reason: reason.into(),
        }
    }
}
