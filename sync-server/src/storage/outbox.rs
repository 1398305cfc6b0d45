//! Where the scheduler and the dispatcher keep their state: the scheduler's cursor over each
//! business's feed, the visits as it last saw them, and every message with its state. One trait,
//! implemented by both backends; every write that could race another process is conditional on
//! the state it expects (see ARCHITECTURE.md, "Scheduler state machine").

use std::collections::HashMap;
use std::future::Future;

use kartka_core::notify::plan::Seen;
use uuid::Uuid;

use super::Result;

/// The durable states of a message.
pub mod state {
    pub const SCHEDULED: &str = "scheduled";
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    pub const DELIVERED: &str = "delivered";
    pub const READ: &str = "read";
    pub const FAILED: &str = "failed";
    pub const SKIPPED_NO_CONSENT: &str = "skipped_no_consent";
    pub const UNCERTAIN: &str = "uncertain";
    pub const CANCELLED: &str = "cancelled";

    /// How far along a delivery report is: a late "sent" never overwrites "delivered".
    pub fn rank(s: &str) -> u8 {
        match s {
            SENT => 1,
            DELIVERED => 2,
            READ => 3,
            FAILED => 4,
            _ => 0,
        }
    }
}

/// Whether a delivery report may replace `current`: only forward (sent → delivered → read,
/// or failed), and an uncertain message learns it was sent.
pub fn moves_forward(current: &str, new: &str) -> bool {
    let (c, n) = (state::rank(current), state::rank(new));
    (c > 0 || current == state::UNCERTAIN) && n > c
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchedState {
    /// The last feed sequence number read.
    pub seq: i64,
    /// A sweep over every client is running and has done those up to this id (`Some(nil)`: it
    /// has just started).
    pub sweep_after: Option<Uuid>,
    /// The business's local date of the last sweep.
    pub swept_day: Option<String>,
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: Uuid,
    pub business: Uuid,
    pub client: Uuid,
    pub visit: Option<Uuid>,
    pub rule: Uuid,
    pub channel: String,
    pub key: String,
    pub kind: String,
    pub derived: bool,
    pub due_ms: i64,
    pub state: String,
    pub attempts: i32,
    pub claimed_ms: Option<i64>,
    pub gateway: Option<String>,
    pub gateway_ref: Option<String>,
    pub body: Option<String>,
    pub detail: Option<String>,
    pub updated_ms: i64,
}

/// A business's last send to an address on a channel: who a reply on a shared number is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    /// E.164 number, Telegram chat id or email address, as it was sent to.
    pub address: String,
    pub channel: String,
    pub business: Uuid,
    /// The client the message was about, and the visit, if it asked about one.
    pub client: Uuid,
    pub visit: Option<Uuid>,
    pub at_ms: i64,
}

/// A message no single business could be named for, kept for none until one writes there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unattributed {
    pub provider_id: String,
    pub address: String,
    pub channel: String,
    /// `phone` or `telegram`.
    pub contact_kind: String,
    pub body: String,
    pub name: Option<String>,
    pub at_ms: i64,
}

/// What one scheduling pass changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchedOp {
    /// Create the message, or bring back a cancelled one with the same key; a message already
    /// sent (or sending) with that key is left alone.
    Upsert {
        id: Uuid,
        client: Uuid,
        visit: Option<Uuid>,
        rule: Uuid,
        channel: String,
        key: String,
        kind: String,
        derived: bool,
        due_ms: i64,
    },
    /// Move a scheduled message (only while it is scheduled).
    Move {
        id: Uuid,
        visit: Option<Uuid>,
        due_ms: i64,
    },
    /// Cancel a scheduled message (only while it is scheduled).
    Cancel { id: Uuid, reason: String },
    /// Remember a visit as seen now.
    Seen {
        visit: Uuid,
        client: Uuid,
        seen: Seen,
    },
    /// Replace how a client is reached: (`phone` | `telegram`, value).
    Contacts {
        client: Uuid,
        contacts: Vec<(String, String)>,
    },
}

/// How a send ended, or what to do next with a claimed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finish {
    pub id: Uuid,
    /// The new state: an outcome, or `scheduled` again (a retry, or a message moved later).
    pub state: &'static str,
    pub due_ms: Option<i64>,
    pub gateway: Option<String>,
    pub gateway_ref: Option<String>,
    pub body: Option<String>,
    pub detail: Option<String>,
}

pub trait Outbox: Send + Sync + 'static {
    /// Every business with its feed's last sequence number and the scheduler's cursor.
    fn sched_businesses(&self)
    -> impl Future<Output = Result<Vec<(Uuid, i64, SchedState)>>> + Send;

    fn sched_state(&self, business: Uuid) -> impl Future<Output = Result<SchedState>> + Send;

    /// The documents changed by feed rows after `after`, up to `limit` rows, and the last row's
    /// sequence number.
    fn feed_docs(
        &self,
        business: Uuid,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = Result<(Vec<Uuid>, i64)>> + Send;

    /// Client documents of `business` with ids after `after`, in id order (a sweep's page).
    fn client_docs_after(
        &self,
        business: Uuid,
        after: Uuid,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Uuid>>> + Send;

    /// Several documents whole, with their kinds.
    fn read_docs(
        &self,
        business: Uuid,
        ids: Vec<Uuid>,
    ) -> impl Future<Output = Result<Vec<(Uuid, String, Vec<u8>)>>> + Send;

    /// The visits of these clients as the scheduler last saw them.
    fn seen(&self, clients: Vec<Uuid>) -> impl Future<Output = Result<HashMap<Uuid, Seen>>> + Send;

    /// The scheduled and cancelled messages of these clients (what a pass may change).
    fn open_messages(
        &self,
        clients: Vec<Uuid>,
    ) -> impl Future<Output = Result<Vec<Message>>> + Send;

    /// Applies a pass and moves the cursor from `expect` to `next`, in one transaction; `false`
    /// (nothing written) when another process moved the cursor first.
    fn apply_schedule(
        &self,
        business: Uuid,
        expect: SchedState,
        next: SchedState,
        ops: Vec<SchedOp>,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Claims up to `limit` scheduled messages due by `now_ms` for `claimer`: they become
    /// `sending`, durably, before any is sent. No two claimers ever get the same message.
    fn claim_due(
        &self,
        now_ms: i64,
        limit: i64,
        claimer: Uuid,
    ) -> impl Future<Output = Result<Vec<Message>>> + Send;

    /// Takes over messages left `sending` since before `cutoff_ms` (their sender died).
    fn claim_stuck(
        &self,
        cutoff_ms: i64,
        now_ms: i64,
        limit: i64,
        claimer: Uuid,
    ) -> impl Future<Output = Result<Vec<Message>>> + Send;

    /// Records outcomes of messages `claimer` holds (a message taken over by another process
    /// meanwhile is left to it).
    fn finish(
        &self,
        claimer: Uuid,
        done: Vec<Finish>,
        now_ms: i64,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Messages whose state is not yet in the client's history.
    fn unrecorded(&self, limit: i64) -> impl Future<Output = Result<Vec<Message>>> + Send;

    /// Notes that these states are now in the client's history.
    fn mark_recorded(&self, done: Vec<(Uuid, String)>) -> impl Future<Output = Result<()>> + Send;

    fn message(&self, id: Uuid) -> impl Future<Output = Result<Option<Message>>> + Send;

    fn message_by_ref(
        &self,
        gateway: String,
        reference: String,
    ) -> impl Future<Output = Result<Option<Message>>> + Send;

    /// A delivery report: applied only if it moves the message forward (a late "sent" never
    /// overwrites "delivered"). Returns whether it did.
    fn report(
        &self,
        id: Uuid,
        state: &'static str,
        detail: Option<String>,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Remembers a webhook delivery id; `false` if it was seen before (a replay).
    fn first_sight(&self, id: String, now_ms: i64) -> impl Future<Output = Result<bool>> + Send;

    /// The clients reached at this number or chat, in any business.
    fn clients_by_contact(
        &self,
        kind: &'static str,
        value: String,
    ) -> impl Future<Output = Result<Vec<(Uuid, Uuid)>>> + Send;

    /// Remembers that `w.business` is about to write to `w.address` on `w.channel` (replacing
    /// its earlier send there; other businesses' rows are theirs).
    fn note_writer(&self, w: Writer) -> impl Future<Output = Result<()>> + Send;

    /// Every business's last send to this address, on any channel, latest first.
    fn writers(&self, address: String) -> impl Future<Output = Result<Vec<Writer>>> + Send;

    /// Keeps a message for no business; `false` if it was kept before (a redelivery).
    fn keep_unattributed(&self, m: Unattributed) -> impl Future<Output = Result<bool>> + Send;

    /// Takes (removes and returns) the messages kept for no business from this address on
    /// this channel, oldest first: a business has just written there.
    fn take_unattributed(
        &self,
        address: String,
        channel: String,
    ) -> impl Future<Output = Result<Vec<Unattributed>>> + Send;

    /// Every message of a business (tests and the CLI's log).
    fn messages_of(&self, business: Uuid) -> impl Future<Output = Result<Vec<Message>>> + Send;
}

/// The columns every message query reads, in [`Message`]'s order.
pub(crate) const COLUMNS: &str = "id, business_id, client_id, visit_id, rule_id, channel, key, \
    kind, derived, due_ms, state, attempts, claimed_ms, gateway, gateway_ref, body, detail, \
    updated_ms";
