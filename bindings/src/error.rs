//! The one error type apps see: the few cases an app can act on, converted from the core's
//! errors in exactly one place. No personal data in the messages: they name fields and kinds.

use kartka_core::Error;

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ApiError {
    /// Show next to the field.
    #[error("invalid {field}: {reason}")]
    Validation { field: String, reason: String },
    #[error("{what} not found")]
    NotFound { what: String },
    /// Offer to record consent; the action stays disabled until then.
    #[error("no consent for {channel}")]
    NoConsent { channel: String },
    /// The client has no phone number or email address for this channel.
    #[error("no {what}")]
    NoAddress { what: String },
    /// WhatsApp: the client has not written in 24 hours, so only a template approved by
    /// WhatsApp can be sent (offer the business's approved templates).
    #[error("outside WhatsApp's 24-hour window: only an approved template can be sent")]
    WhatsAppWindowClosed,
    /// The book needs `init_business` (or pairing) first.
    #[error("the book has no business yet")]
    NotInitialized,
    /// The book was written by a newer Kartka, or a document cannot be read: update the app.
    // Fields are not called `message`: Kotlin exceptions have one already.
    #[error("unsupported or damaged data: {detail}")]
    Unsupported { detail: String },
    #[error("storage error: {detail}")]
    Storage { detail: String },
    /// The server could not be reached, did not answer in time, or the connection broke: the
    /// book keeps working; sync retries later. `sync_state()` says which.
    #[error("network error: {detail}")]
    Network { detail: String },
    /// The book is not paired with a server yet.
    #[error("not paired with a server")]
    NotPaired,
    /// The key does not open this book (or the file is not a book): never retry with the same
    /// key; a lost key means the book is lost (sync brings it back from the server).
    #[error("the book cannot be opened with this key")]
    WrongKey,
    /// The owner removed this device: the book has been erased (show the pairing screen).
    #[error("this device was removed from the business; the book was erased")]
    Revoked,
    /// Nothing to settle: the field has one value (settled meanwhile, maybe on another
    /// device). Refresh the card.
    #[error("{field} has no conflict to settle")]
    NoConflict { field: String },
    /// The server refused: `code` is stable (`device_revoked`, `invite_invalid`, `rate_limited`…).
    #[error("server refused: {code}")]
    Server { code: String, detail: String },
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Validation { field, reason } => ApiError::Validation {
                field: field.into(),
                reason,
            },
            Error::NotFound { kind, .. } => ApiError::NotFound { what: kind.into() },
            Error::NoConsent { channel } => ApiError::NoConsent {
                channel: channel.to_string(),
            },
            Error::NoAddress { what } => ApiError::NoAddress { what: what.into() },
            Error::NotInitialized => ApiError::NotInitialized,
            Error::WhatsAppWindowClosed => ApiError::WhatsAppWindowClosed,
            Error::AlreadyInitialized => ApiError::Validation {
                field: "business".into(),
                reason: "already set up".into(),
            },
            e @ (Error::SchemaTooNew { .. } | Error::CorruptDocument { .. }) => {
                ApiError::Unsupported {
                    detail: e.to_string(),
                }
            }
            e @ (Error::Sqlite(_) | Error::Automerge(_) | Error::Io(_)) => ApiError::Storage {
                detail: e.to_string(),
            },
            Error::NoConflict { field } => ApiError::NoConflict { field },
            Error::NoSuchValue { count, .. } => ApiError::Validation {
                field: "keep".into(),
                reason: format!("the conflict has {count} values"),
            },
            Error::NotPaired => ApiError::NotPaired,
            Error::Revoked => ApiError::Revoked,
            Error::WrongKey => ApiError::WrongKey,
            // The kind (unreachable, timed out, broken) is in the sync status for the screens.
            e @ (Error::Unreachable { .. }
            | Error::TimedOut { .. }
            | Error::Network { .. }
            | Error::Protocol(_)) => ApiError::Network {
                detail: e.to_string(),
            },
            Error::Server { code, detail, .. } => ApiError::Server { code, detail },
        }
    }
}

pub(crate) fn bad(field: &str, reason: &str) -> ApiError {
    ApiError::Validation {
        field: field.into(),
        reason: reason.into(),
    }
}
