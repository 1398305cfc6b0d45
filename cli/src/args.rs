//! The command line: every command and option, as clap parses them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kartka",
    version,
    about = "Kartka: the client book of an independent master"
)]
pub struct Cli {
    /// The book (a SQLite file). Default: kartka/book.db in the user's data directory.
    #[arg(long, global = true, env = "KARTKA_DB")]
    pub db: Option<PathBuf>,
    /// Encrypt the book (SQLCipher) with the key in this file: 64 hexadecimal digits. A plain
    /// book is encrypted in place the first time. Keep the file somewhere safe: without it the
    /// book cannot be opened (a paired book comes back from the server).
    #[arg(long, global = true, env = "KARTKA_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Print JSON instead of text (shapes in cli/README.md).
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds to wait for the sync server's answer before saying it did not answer.
    #[arg(long, global = true, env = "KARTKA_TIMEOUT", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Create the business this book belongs to.
    Init {
        #[arg(long)]
        name: String,
        /// ISO 3166 country code: the default for phone numbers typed without +.
        #[arg(long)]
        region: String,
        /// IANA zone, e.g. Europe/Kyiv.
        #[arg(long)]
        zone: String,
        /// ISO 4217 currency, e.g. UAH.
        #[arg(long)]
        currency: String,
        #[arg(long)]
        locale: Option<String>,
    },
    #[command(subcommand)]
    Client(ClientCmd),
    /// Find clients by any part of the name, phone digits or email.
    Search {
        query: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    #[command(subcommand)]
    Consent(ConsentCmd),
    #[command(subcommand)]
    Visit(VisitCmd),
    #[command(subcommand)]
    Business(BusinessCmd),
    #[command(subcommand)]
    Staff(StaffCmd),
    /// Show or set the staff member working on this device.
    Whoami {
        #[arg(long)]
        staff: Option<String>,
    },
    /// The tel: link of the client's primary number (no consent needed for a call).
    Call { client: String },
    /// Prepare a message for the phone's own app: prints the link, the text and SMS segments,
    /// and records it in the client's history.
    Message(MessageArgs),
    /// The client's message history.
    History { client: String },
    /// A mass mailing: who it would reach, who is left out and why, what it costs.
    #[command(subcommand)]
    Mailing(MailingCmd),
    /// The business's message log: every client's messages, automatic and manual, sent and
    /// received, newest first.
    Messages(MessagesArgs),
    /// Conversations, latest first: who wrote, where each stands, who has it.
    Inbox {
        /// unanswered, open, postponed or closed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Reply to a client through the server's gateway: queued now, sent once the book syncs.
    Reply(ReplyArgs),
    /// Take, give, postpone, close or reopen a client's conversation (staff see a note).
    Conversation(ConversationArgs),
    /// A staff note on a client's conversation: never sent to the client.
    Note {
        client: String,
        #[arg(long)]
        text: String,
    },
    /// The staff notes on a client's conversation.
    Notes { client: String },
    /// Someone who wrote without being a client (see `inbox`).
    #[command(subcommand)]
    Lead(LeadCmd),
    /// The link that lets a client start the business's Telegram bot, so the server can write.
    TelegramLink { client: String },
    #[command(subcommand)]
    Export(ExportCmd),
    #[command(subcommand)]
    Templates(TemplateCmd),
    #[command(subcommand)]
    Rules(RuleCmd),
    #[command(subcommand)]
    Import(ImportCmd),
    /// Pair this book with a sync server: create the business there, or join one with a code.
    Pair(PairArgs),
    /// Create an invite code for another device (owner only; valid 15 minutes, once).
    Invite,
    /// The devices of the business, or remove one (owner only).
    #[command(subcommand)]
    Devices(DevicesCmd),
    /// The book's sync: the server, connected or not, the last sync, what waits to be sent.
    Status,
    /// Sync with the server now; with --watch, keep syncing and show changes as they come.
    Sync {
        #[arg(long)]
        watch: bool,
        /// Seconds the server may hold a --watch request open waiting for changes.
        #[arg(long, default_value_t = 25)]
        wait: u64,
    },
}

#[derive(Args)]
pub struct PairArgs {
    /// The server's URL, e.g. http://127.0.0.1:8787.
    #[arg(long)]
    pub server: String,
    /// Create the business of this book on the server (this device becomes its owner).
    #[arg(long, conflicts_with = "invite", required_unless_present = "invite")]
    pub create_business: bool,
    /// Join an existing business with an invite code (the book must be empty).
    #[arg(long)]
    pub invite: Option<String>,
    /// How this device is listed among the business's devices.
    #[arg(long, default_value = "kartka CLI")]
    pub device_name: String,
}

#[derive(Subcommand)]
pub enum DevicesCmd {
    List,
    /// Remove a device: its token stops working at once.
    Revoke {
        id: String,
    },
}

#[derive(Args)]
pub struct MessageArgs {
    pub client: String,
    /// sms, whatsapp, telegram, viber or email.
    #[arg(long)]
    pub channel: String,
    /// A template's name or id.
    #[arg(long, conflicts_with = "text")]
    pub template: Option<String>,
    #[arg(long)]
    pub text: Option<String>,
    /// The visit a template's {visit_date}, {services}… come from.
    #[arg(long)]
    pub visit: Option<String>,
    /// SMS links differ between the platforms.
    #[arg(long, default_value = "android")]
    pub platform: String,
    /// Only show the message; do not record it as handed to the phone's app.
    #[arg(long)]
    pub no_record: bool,
}

#[derive(Subcommand)]
pub enum TemplateCmd {
    /// Add a template; an unknown {placeholder} is refused here, not when sending.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        body: String,
        /// The approved WhatsApp template it maps to, NAME:LANGUAGE (e.g. visit_reminder:uk).
        #[arg(long)]
        whatsapp: Option<String>,
    },
    Remove {
        id: String,
    },
    List,
}

#[derive(Subcommand)]
pub enum ExportCmd {
    /// Everything the book holds about one client, as JSON (a data subject's request).
    Client {
        client: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The whole book: JSON (every client with visits, consent evidence and messages) or CSV
    /// (one row per client).
    Book {
        #[arg(long, default_value = "json")]
        format: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum RuleCmd {
    /// Add a notification rule; the server runs it.
    Add(RuleArgs),
    /// Change a rule: the options given replace the rule's values. Messages already sent stay.
    Edit {
        /// Rule id or name.
        rule: String,
        #[command(flatten)]
        args: RuleEditArgs,
    },
    Enable {
        rule: String,
    },
    Disable {
        rule: String,
    },
    Remove {
        rule: String,
    },
    List,
}

#[derive(Args)]
pub struct RuleArgs {
    #[arg(long)]
    pub name: String,
    /// visit_created, status_changed, status_changed:<status>, rescheduled, visit_cancelled,
    /// reminder_before, after_completed, repeat_visit, birthday; for staff rules also
    /// client_replied and message_failed.
    #[arg(long)]
    pub trigger: String,
    /// When: before the visit for reminders, a delay otherwise, the time of day for birthdays;
    /// 90m, 24h, 30d, or 10:00 (birthdays).
    #[arg(long, default_value = "0m")]
    pub offset: String,
    /// Channel to send on (repeat for several): sms, whatsapp, email, telegram.
    #[arg(long = "channel", required = true)]
    pub channels: Vec<String>,
    /// Template (id or name) for every channel without its own.
    #[arg(long)]
    pub template: Option<String>,
    /// A channel's own template: CHANNEL=TEMPLATE (repeatable).
    #[arg(long = "template-for")]
    pub template_for: Vec<String>,
    /// Send at any hour rather than only within working hours.
    #[arg(long)]
    pub any_time: bool,
    /// Visit statuses the rule applies to (repeatable; default depends on the trigger).
    #[arg(long = "status")]
    pub statuses: Vec<String>,
    /// Alert staff instead of writing to the client: `all`, or a staff member's name or id
    /// (repeatable). Staff are alerted on telegram or email, about what someone else did.
    #[arg(long = "to-staff")]
    pub to_staff: Vec<String>,
}

#[derive(Args)]
pub struct RuleEditArgs {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub offset: Option<String>,
    #[arg(long = "channel")]
    pub channels: Vec<String>,
    #[arg(long)]
    pub template: Option<String>,
    #[arg(long = "template-for")]
    pub template_for: Vec<String>,
    #[arg(long)]
    pub any_time: Option<bool>,
    #[arg(long = "status")]
    pub statuses: Vec<String>,
}

#[derive(Subcommand)]
pub enum ImportCmd {
    /// Import a vCard file (2.1, 3.0, 4.0).
    Vcf(ImportArgs),
    /// Import a CSV file (comma or semicolon, UTF-8 or Windows-1251).
    Csv(ImportArgs),
}

#[derive(Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// Show what would be imported, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Import these rows (numbers from the preview) instead of the new ones.
    #[arg(long)]
    pub pick: Option<String>,
    /// Channels the whole batch consented to; needs --consent-note as evidence.
    #[arg(long, value_delimiter = ',')]
    pub consent: Vec<String>,
    #[arg(long, default_value = "written")]
    pub consent_source: String,
    #[arg(long, default_value = "")]
    pub consent_note: String,
}

#[derive(Args)]
pub struct MergeArgs {
    /// The card that stays.
    pub keep: String,
    /// The card merged into it (it becomes a tombstone).
    pub other: String,
    /// Show the result without merging.
    #[arg(long)]
    pub preview: bool,
}

#[derive(Args, Default)]
pub struct CardArgs {
    #[arg(long)]
    pub given: Option<String>,
    #[arg(long)]
    pub family: Option<String>,
    /// A phone number as typed; repeat for several (the first is the primary one).
    #[arg(long = "phone")]
    pub phones: Vec<String>,
    #[arg(long)]
    pub email: Option<String>,
    /// 1990-04-15, or --04-15 without the year (write --birthday=--04-15 or --birthday --04-15).
    #[arg(long, allow_hyphen_values = true)]
    pub birthday: Option<String>,
    #[arg(long)]
    pub comment: Option<String>,
    /// regular, vip, or any label.
    #[arg(long)]
    pub class: Option<String>,
    #[arg(long)]
    pub loyalty: Option<String>,
    /// Percent, 0 to 100.
    #[arg(long)]
    pub discount: Option<u8>,
}

#[derive(Subcommand)]
pub enum ClientCmd {
    /// Add a client; prints the new id.
    Add {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    Show {
        id: String,
    },
    /// Change some fields; --phone replaces the phone list.
    Edit {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long = "add-tag")]
        add_tags: Vec<String>,
        #[arg(long = "remove-tag")]
        remove_tags: Vec<String>,
        #[arg(long)]
        clear_email: bool,
        #[arg(long)]
        clear_birthday: bool,
        #[arg(long)]
        clear_comment: bool,
    },
    /// Settle a field two devices changed while apart (`client show` lists them): keep value
    /// N, or for phones `all` (every number of both lists). An ordinary edit: it clears the
    /// conflict on every device at their next sync.
    Settle {
        id: String,
        /// name, phones, comment, birthday, or visit-time:<visit id>.
        field: String,
        /// The number of the value to keep, as `client show` lists them; `all` for phones.
        #[arg(long)]
        keep: String,
    },
    /// Delete (a tombstone that syncs; the card stays readable and can be restored).
    Delete {
        id: String,
    },
    Restore {
        id: String,
    },
    /// Forget a client for good (the right to erasure): every trace goes from this book now,
    /// and from the server and every other device at their next sync. Not undoable.
    Forget {
        id: String,
        /// Confirms that the client's data is to be destroyed.
        #[arg(long)]
        yes: bool,
    },
    /// Merge two cards of one person (preview with --preview; undo with undo-merge).
    Merge(MergeArgs),
    /// Put back two cards merged on this device, until the merge is synced.
    UndoMerge {
        undo: String,
    },
    List {
        #[arg(long)]
        class: Option<String>,
        #[arg(long)]
        tag: Option<String>,
        /// Include deleted clients.
        #[arg(long)]
        deleted: bool,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
}

#[derive(Subcommand)]
pub enum ConsentCmd {
    /// Record a grant or a withdrawal, with its evidence.
    Set {
        id: String,
        /// sms, whatsapp, email, telegram, viber or marketing.
        #[arg(
            long,
            conflicts_with = "notification",
            required_unless_present = "notification"
        )]
        channel: Option<String>,
        /// A notification type the client opts in or out of (reminder, review_request, …).
        #[arg(long)]
        notification: Option<String>,
        #[arg(
            long,
            conflicts_with = "withdrawn",
            required_unless_present = "withdrawn"
        )]
        granted: bool,
        #[arg(long)]
        withdrawn: bool,
        /// verbal, written, booking_form, client_reply or other.
        #[arg(long, default_value = "verbal")]
        source: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    Show {
        id: String,
    },
}

#[derive(Args, Default)]
pub struct VisitArgs {
    /// NAME:PRICE or NAME:PRICExQTY, price in major units; repeat for several.
    #[arg(long = "service")]
    pub services: Vec<String>,
    /// Amount paid, major units.
    #[arg(long)]
    pub paid: Option<String>,
    /// Total, major units (default: the services less the client's discount).
    #[arg(long)]
    pub total: Option<String>,
    #[arg(long)]
    pub staff: Option<String>,
    #[arg(long)]
    pub note: Option<String>,
    /// Minutes before the visit, or `off`, or `default`.
    #[arg(long)]
    pub reminder: Option<String>,
    /// Remind the client to come again after this many days.
    #[arg(long)]
    pub repeat_after: Option<u32>,
}

#[derive(Subcommand)]
pub enum VisitCmd {
    /// Book a visit; --at is wall-clock time in the business zone (or an RFC 3339 instant).
    Add {
        client: String,
        #[arg(long)]
        at: String,
        #[arg(long, default_value_t = 60)]
        duration: u32,
        #[arg(long, default_value = "booked")]
        status: String,
        #[command(flatten)]
        visit: VisitArgs,
    },
    Show {
        id: String,
    },
    Edit {
        id: String,
        #[command(flatten)]
        visit: VisitArgs,
    },
    /// booked, confirmed, arrived, completed, no_show or cancelled.
    Status {
        id: String,
        status: String,
    },
    Reschedule {
        id: String,
        #[arg(long)]
        at: String,
        #[arg(long)]
        duration: Option<u32>,
    },
    /// Visits in time order; --from/--to are local dates (to inclusive) or times.
    List {
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        status: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum BusinessCmd {
    Show,
    Set {
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        zone: Option<String>,
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        locale: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// The username of the business's Telegram bot (the server's bot), e.g. studio_bot.
        #[arg(long)]
        telegram_bot: Option<String>,
    },
    /// Working hours of one weekday: "09:00-13:00,14:00-19:00" or "closed".
    Hours {
        day: String,
        hours: String,
    },
}

#[derive(Subcommand)]
pub enum StaffCmd {
    /// Add a staff member; prints the id.
    Add {
        name: String,
        /// Where staff alerts go by email.
        #[arg(long)]
        email: Option<String>,
        /// Their chat id with the business's bot (or let them open `staff telegram-link`).
        #[arg(long)]
        telegram: Option<String>,
    },
    List,
    /// The link a staff member opens to get alerts from the business's Telegram bot.
    TelegramLink {
        staff: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct ReplyArgs {
    /// The client (id, or its first 8 characters).
    pub client: String,
    /// sms, whatsapp, email or telegram.
    #[arg(long)]
    pub channel: String,
    #[arg(
        long,
        conflicts_with = "template",
        required_unless_present = "template"
    )]
    pub text: Option<String>,
    /// A template (id or name): outside WhatsApp's 24-hour window, one approved by WhatsApp.
    #[arg(long)]
    pub template: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ConversationArgs {
    pub client: String,
    /// open, postponed (with --until) or closed.
    #[arg(long)]
    pub status: Option<String>,
    /// Local time it comes back: 2026-12-01 10:00.
    #[arg(long)]
    pub until: Option<String>,
    /// A staff member (name or id), `me`, or `none`.
    #[arg(long)]
    pub assign: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum LeadCmd {
    /// The lead's messages and number go to this client.
    Attach { lead: String, client: String },
    /// Take the lead into the book as a new client.
    Accept {
        lead: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct MessagesArgs {
    /// sent, delivered, read, failed, received, skipped_no_consent, uncertain, …
    #[arg(long)]
    pub status: Option<String>,
    /// sms, whatsapp, telegram, viber, email
    #[arg(long)]
    pub channel: Option<String>,
    /// manual, automatic, inbound, reply, mailing or staff
    #[arg(long)]
    pub kind: Option<String>,
    /// A client: name, phone or id.
    #[arg(long)]
    pub client: Option<String>,
    /// A notification rule's id.
    #[arg(long)]
    pub rule: Option<String>,
    /// From this local date (2026-12-01) or time.
    #[arg(long)]
    pub from: Option<String>,
    /// To the end of this local date, or this time.
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

#[derive(Debug, clap::Subcommand)]
pub enum MailingCmd {
    /// Changes nothing: counts recipients (marketing and channel consent, and an address),
    /// those left out by reason, and the SMS segments.
    Preview(MailingArgs),
    /// Start the mailing: the server sends it after the next sync, in working hours, at each
    /// gateway's rate, to whoever consents when their turn comes. Prints the id.
    Send {
        #[command(flatten)]
        args: MailingArgs,
        #[arg(long, default_value = "")]
        name: String,
        /// Not before this local time.
        #[arg(long)]
        start: Option<String>,
    },
    /// Every mailing with its progress (as far as this book has synced).
    List,
    /// Stop a mailing: what has not gone out will not.
    Cancel { id: String },
}

#[derive(Debug, clap::Args)]
pub struct MailingArgs {
    #[arg(long)]
    pub channel: String,
    #[arg(long)]
    pub text: String,
    #[arg(long = "class")]
    pub client_class: Option<String>,
    #[arg(long)]
    pub tag: Option<String>,
    /// Clients whose last visit was before this local date.
    #[arg(long)]
    pub last_visit_before: Option<String>,
    /// Clients whose last visit was on or after this local date.
    #[arg(long)]
    pub last_visit_after: Option<String>,
    /// 1–12.
    #[arg(long)]
    pub birthday_month: Option<u32>,
}
