//! Kartka's shared core: the client book of an independent service master.
//!
//! - [`model`]: clients, visits, consent, business settings as plain values;
//! - [`crdt`]: how they are laid out in automerge documents (the replicated truth);
//! - [`store`]: the local SQLite file holding the documents and the projection every read uses;
//! - [`sync`]: the sync client and the protocol it speaks with the server;
//! - [`notify`]: what notification rules mean: the server's scheduler decides with it;
//! - [`phone`], [`money`], [`fold`]: normalisation of numbers, amounts and text for search.

pub mod crdt;
pub mod error;
pub mod fold;
pub mod import;
pub mod messaging;
pub mod model;
pub mod money;
pub mod notify;
pub mod phone;
pub mod store;
pub mod sync;

pub use error::{Error, Result};
pub use store::Store;
