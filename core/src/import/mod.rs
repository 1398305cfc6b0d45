//! Bringing a master's existing clients in: contacts handed over by the apps (phone book), vCard
//! files and spreadsheets (CSV). Parsers here turn bytes into [`Contact`] records and never touch
//! the store; the preview and the import itself live in `store/import.rs`.

pub mod contact;
pub mod csv;
pub mod vcard;

pub use contact::{Contact, ContactPhone, ImportError, Parsed, Problem};
