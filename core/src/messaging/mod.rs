//! Messaging from the client card: deep links into the phone's own apps, SMS encoding and
//! segment counts, and message templates. Pure functions; consent checks and the message
//! history live in `store/`.

pub mod deeplink;
pub mod reply;
pub mod segments;
pub mod template;
