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
    /// Print JSON instead of text (shapes in cli/README.md).
    #[arg(long, global = true)]
    pub json: bool,
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
    /// Delete (a tombstone that syncs; the card stays readable and can be restored).
    Delete {
        id: String,
    },
    Restore {
        id: String,
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
    },
    List,
}
