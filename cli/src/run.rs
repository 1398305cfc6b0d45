//! Runs one command against the book.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use kartka_core::crdt::business::SettingsEdit;
use kartka_core::model::{
    Birthday, ClientClass, ClientPatch, ConsentSource, ConsentSubject, NewBusiness, NewClient,
    NewVisit, ReminderOverride, ServiceLine, VisitPatch, VisitStatus, WEEKDAYS,
};
use kartka_core::store::{ClientFilter, ConflictField, Keep, Page, VisitFilter};
use kartka_core::{Error, Store, money};
use uuid::Uuid;

use crate::args::{BusinessCmd, CardArgs, Cli, ClientCmd, Cmd, ConsentCmd, VisitArgs, VisitCmd};
use crate::output::Out;

/// A failure of one command: the core's own errors, or input the command line could not read.
pub enum CliError {
    Core(Error),
    Input(String),
    /// The server was not reached or did not answer; `pending` records wait in the book
    /// (`None`: the book is not paired, so nothing was changed).
    Offline {
        error: Box<Error>,
        pending: Option<u64>,
    },
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => 2,
            CliError::Core(
                Error::Validation { .. }
                | Error::NotFound { .. }
                | Error::NotInitialized
                | Error::AlreadyInitialized
                | Error::NoConsent { .. }
                | Error::NoAddress { .. }
                | Error::WhatsAppWindowClosed
                | Error::NoConflict { .. }
                | Error::NoSuchValue { .. }
                | Error::NotPaired
                | Error::Revoked
                | Error::Server {
                    status: 400..=499, ..
                },
            ) => 2,
            CliError::Offline { .. } => 3,
            CliError::Core(_) => 1,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Core(e) => write!(f, "{e}"),
            CliError::Input(s) => f.write_str(s),
            CliError::Offline { error, pending } => {
                write!(f, "{error}; ")?;
                match pending {
                    None => f.write_str("the book is not paired yet: try again when it is back"),
                    Some(0) => f.write_str(
                        "nothing is waiting to be sent: this book will sync when it is back",
                    ),
                    Some(1) => {
                        f.write_str("1 change is kept in this book and will sync when it is back")
                    }
                    Some(n) => write!(
                        f,
                        "{n} changes are kept in this book and will sync when it is back"
                    ),
                }
            }
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Core(e)
    }
}

pub(crate) type Result<T> = std::result::Result<T, CliError>;

pub(crate) fn input(msg: impl Into<String>) -> CliError {
    CliError::Input(msg.into())
}

fn default_db() -> PathBuf {
    dirs::data_local_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("kartka")
        .join("book.db")
}

pub fn run(cli: Cli) -> Result<()> {
    let db = cli.db.unwrap_or_else(default_db);
    let mut store = match &cli.key_file {
        Some(f) => {
            let hex = std::fs::read_to_string(f)
                .map_err(|e| input(format!("cannot read the key file: {}", e.kind())))?;
            Store::open_encrypted(&db, &kartka_core::store::BookKey::from_hex(&hex)?)?
        }
        None => Store::open(&db)?,
    };
    let out = Out { json: cli.json };
    kartka_core::sync::remote::set_request_timeout(std::time::Duration::from_secs(cli.timeout));
    crate::output::phone_corrections(&mut store)?;
    match cli.cmd {
        Cmd::Init {
            name,
            region,
            zone,
            currency,
            locale,
        } => {
            let b = store.init_business(NewBusiness {
                name,
                region,
                zone,
                currency,
                locale,
            })?;
            out.business(&b);
        }
        Cmd::Client(c) => client(&mut store, &out, c)?,
        Cmd::Search { query, limit } => {
            let found = store.search(&query, Page { offset: 0, limit })?;
            out.clients(&store, &found);
        }
        Cmd::Consent(c) => consent(&mut store, &out, c)?,
        Cmd::Visit(v) => visit(&mut store, &out, v)?,
        Cmd::Business(b) => business(&mut store, &out, b)?,
        Cmd::Staff(c) => crate::staff::run(&mut store, &out, c)?,
        Cmd::Inbox { status, limit } => crate::inbox::inbox(&store, &out, status, limit)?,
        Cmd::Reply(a) => crate::inbox::reply(&mut store, &out, a)?,
        Cmd::Conversation(a) => crate::inbox::conversation(&mut store, &out, a)?,
        Cmd::Note { client, text } => crate::inbox::note(&mut store, &out, &client, &text)?,
        Cmd::Notes { client } => crate::inbox::notes(&store, &out, &client)?,
        Cmd::Lead(c) => crate::inbox::lead(&mut store, &out, c)?,
        Cmd::Call { client } => crate::comms::call(&store, &out, &client)?,
        Cmd::Message(m) => crate::comms::message(&mut store, &out, m)?,
        Cmd::History { client } => crate::comms::history(&store, &out, &client)?,
        Cmd::Mailing(crate::args::MailingCmd::Preview(a)) => {
            let audience = audience(&store, &a)?;
            let p = store.mailing_preview(&audience, a.channel.parse()?, &a.text)?;
            if out.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&p).expect("serialisable")
                );
            } else {
                println!(
                    "{} of {} clients would get it; left out: {} without marketing consent, {} without consent on {}, {} without an address{}",
                    p.recipients.len(),
                    p.matched,
                    p.no_marketing_consent,
                    p.no_channel_consent,
                    a.channel,
                    p.no_address,
                    p.sms_segments_total
                        .map(|t| format!("; {t} SMS segments in all"))
                        .unwrap_or_default()
                );
            }
        }
        Cmd::Mailing(c) => crate::inbox::mailing(&mut store, &out, c)?,
        Cmd::Messages(a) => {
            let filter = kartka_core::store::MessageFilter {
                client: a
                    .client
                    .as_deref()
                    .map(|c| client_id(&store, c))
                    .transpose()?,
                channel: a.channel.as_deref().map(str::parse).transpose()?,
                status: a.status.as_deref().map(str::parse).transpose()?,
                kind: a.kind.as_deref().map(str::parse).transpose()?,
                rule: a
                    .rule
                    .as_deref()
                    .map(|r| Uuid::parse_str(r.trim()).map_err(|_| input("invalid rule id")))
                    .transpose()?,
                from: a
                    .from
                    .as_deref()
                    .map(|f| bound(&store, f, false))
                    .transpose()?,
                to: a
                    .to
                    .as_deref()
                    .map(|t| bound(&store, t, true))
                    .transpose()?,
            };
            crate::comms::message_log(&store, &out, &filter, a.limit)?
        }
        Cmd::TelegramLink { client } => crate::comms::telegram_link(&store, &out, &client)?,
        Cmd::Export(e) => crate::comms::export(&store, e)?,
        Cmd::Templates(t) => crate::comms::templates(&mut store, &out, t)?,
        Cmd::Rules(r) => crate::rules::run(&mut store, &out, r)?,
        Cmd::Import(i) => crate::comms::import(&mut store, &out, i)?,
        Cmd::Pair(p) => crate::sync::pair(&mut store, &out, p)?,
        Cmd::Invite => crate::sync::invite(&store, &out)?,
        Cmd::Devices(d) => crate::sync::devices(&store, &out, d)?,
        Cmd::Sync { watch, wait } => crate::sync::sync(store, &out, watch, wait)?,
        Cmd::Status => crate::sync::status(&store, &out)?,
        Cmd::Whoami { staff } => {
            if let Some(s) = staff {
                let id = crate::staff::find(&store, &s)?;
                store.set_current_staff(Some(id))?;
            }
            out.whoami(store.device_id(), store.current_staff());
        }
    }
    Ok(())
}

/// The audience a mailing's options describe.
pub(crate) fn audience(
    store: &Store,
    a: &crate::args::MailingArgs,
) -> Result<kartka_core::store::Audience> {
    Ok(kartka_core::store::Audience {
        class: a
            .client_class
            .as_deref()
            .map(kartka_core::model::ClientClass::parse)
            .transpose()?,
        tag: a.tag.clone(),
        last_visit_before: a
            .last_visit_before
            .as_deref()
            .map(|d| bound(store, d, false))
            .transpose()?,
        last_visit_after: a
            .last_visit_after
            .as_deref()
            .map(|d| bound(store, d, false))
            .transpose()?,
        birthday_month: a.birthday_month,
    })
}

pub(crate) fn parse_uuid(s: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(s.trim()).map_err(|_| input(format!("invalid {what}: expected a UUID")))
}

/// A client by full id, or by a unique prefix of at least 8 characters (as lists show them).
pub(crate) fn client_id(store: &Store, s: &str) -> Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(s.trim()) {
        return Ok(id);
    }
    let prefix = s.trim().to_ascii_lowercase();
    if prefix.len() < 8 || !prefix.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(input(
            "invalid client id: expected a UUID or its first 8 characters",
        ));
    }
    let all = ClientFilter {
        include_deleted: true,
        ..Default::default()
    };
    // Leads (unknown senders) are in the inbox, not the book.
    let mut matches: Vec<Uuid> = store
        .inbox(
            None,
            Page {
                offset: 0,
                limit: u32::MAX,
            },
        )?
        .into_iter()
        .filter(|e| e.lead && e.client_id.to_string().starts_with(&prefix))
        .map(|e| e.client_id)
        .collect();
    let mut offset = 0;
    loop {
        let page = store.list_clients(
            &all,
            Page {
                offset,
                limit: 1000,
            },
        )?;
        matches.extend(
            page.iter()
                .map(|c| c.id)
                .filter(|id| id.to_string().starts_with(&prefix)),
        );
        if page.len() < 1000 {
            break;
        }
        offset += 1000;
    }
    match matches.as_slice() {
        [id] => Ok(*id),
        [] => Err(input(format!("no client id starts with {prefix}"))),
        _ => Err(input(format!(
            "several client ids start with {prefix}: give more of it"
        ))),
    }
}

fn birthday(s: &str) -> Result<Birthday> {
    Ok(s.parse::<Birthday>()?)
}

fn class(s: &str) -> Result<ClientClass> {
    Ok(ClientClass::parse(s)?)
}

fn new_client(name: String, card: CardArgs, tags: Vec<String>) -> Result<NewClient> {
    Ok(NewClient {
        name,
        given_name: card.given,
        family_name: card.family,
        phones: card
            .phones
            .into_iter()
            .map(|p| (p, String::new()))
            .collect(),
        email: card.email,
        birthday: card.birthday.as_deref().map(birthday).transpose()?,
        comment: card.comment,
        class: card.class.as_deref().map(class).transpose()?,
        tags,
        loyalty_card: card.loyalty,
        discount_percent: card.discount,
        source: None,
    })
}

fn warn_unparsed(c: &kartka_core::model::Client) {
    for p in c.phones.iter().filter(|p| p.e164.is_none()) {
        eprintln!(
            "warning: kept \"{}\" as typed: it is not a phone number Kartka can dial",
            p.raw
        );
    }
}

fn client(store: &mut Store, out: &Out, cmd: ClientCmd) -> Result<()> {
    match cmd {
        ClientCmd::Add { name, card, tags } => {
            let c = store.create_client(new_client(name, card, tags)?)?;
            warn_unparsed(&c);
            if out.json {
                out.client(store, &c);
            } else {
                out.id(c.id);
            }
        }
        ClientCmd::Show { id } => {
            let id = client_id(store, &id)?;
            let c = store.get_client(id)?;
            let conflicts = store.conflicts(id)?;
            out.client_with_conflicts(store, &c, &conflicts);
        }
        ClientCmd::Settle { id, field, keep } => {
            let id = client_id(store, &id)?;
            let field = ConflictField::parse(&field).ok_or_else(|| {
                input(format!(
                    "unknown field {field:?}: name, phones, comment, birthday or \
                     visit-time:<visit id>"
                ))
            })?;
            let keep = match keep.trim() {
                "all" | "both" => Keep::All,
                n => Keep::Value(n.parse().map_err(|_| {
                    input("--keep takes the number of a value as `client show` lists it, or all")
                })?),
            };
            let c = store.settle(id, &field, keep)?;
            let conflicts = store.conflicts(id)?;
            out.client_with_conflicts(store, &c, &conflicts);
        }
        ClientCmd::Edit {
            id,
            name,
            card,
            add_tags,
            remove_tags,
            clear_email,
            clear_birthday,
            clear_comment,
        } => {
            let id = client_id(store, &id)?;
            let patch = ClientPatch {
                name,
                given_name: card.given.map(Some),
                family_name: card.family.map(Some),
                phones: (!card.phones.is_empty()).then(|| {
                    card.phones
                        .into_iter()
                        .map(|p| (p, String::new()))
                        .collect()
                }),
                email: if clear_email {
                    Some(None)
                } else {
                    card.email.map(Some)
                },
                birthday: if clear_birthday {
                    Some(None)
                } else {
                    card.birthday
                        .as_deref()
                        .map(birthday)
                        .transpose()?
                        .map(Some)
                },
                comment: if clear_comment {
                    Some(None)
                } else {
                    card.comment.map(Some)
                },
                class: card.class.as_deref().map(class).transpose()?,
                add_tags,
                remove_tags,
                loyalty_card: card.loyalty.map(Some),
                discount_percent: card.discount,
            };
            let c = store.update_client(id, patch)?;
            warn_unparsed(&c);
            out.client(store, &c);
        }
        ClientCmd::Delete { id } => {
            let id = client_id(store, &id)?;
            store.delete_client(id)?;
            out.done("deleted", id);
        }
        ClientCmd::Restore { id } => {
            let id = client_id(store, &id)?;
            store.restore_client(id)?;
            out.done("restored", id);
        }
        ClientCmd::Forget { id, yes } => {
            let id = client_id(store, &id)?;
            if !yes {
                return Err(input(
                    "forgetting destroys the client's data on every device and cannot be \
                     undone; add --yes to confirm",
                ));
            }
            store.forget_client(id)?;
            out.done("forgotten", id);
        }
        ClientCmd::Merge(m) => crate::comms::merge(store, out, m)?,
        ClientCmd::UndoMerge { undo } => crate::comms::undo_merge(store, out, &undo)?,
        ClientCmd::List {
            class: c,
            tag,
            deleted,
            limit,
            offset,
        } => {
            let filter = ClientFilter {
                class: c.as_deref().map(class).transpose()?,
                tag,
                include_deleted: deleted,
            };
            let found = store.list_clients(&filter, Page { offset, limit })?;
            out.clients(store, &found);
        }
    }
    Ok(())
}

fn consent(store: &mut Store, out: &Out, cmd: ConsentCmd) -> Result<()> {
    match cmd {
        ConsentCmd::Set {
            id,
            channel,
            notification,
            granted,
            withdrawn: _,
            source,
            note,
        } => {
            let id = client_id(store, &id)?;
            let subject = match (channel, notification) {
                (Some(c), _) => ConsentSubject::Channel(c.parse()?),
                (None, Some(n)) => ConsentSubject::Notification(n.parse()?),
                (None, None) => return Err(input("give --channel or --notification")),
            };
            let source: ConsentSource = source.parse()?;
            store.set_consent(id, subject, granted, source, &note)?;
            out.consent(&store.consent(id)?);
        }
        ConsentCmd::Show { id } => {
            let id = client_id(store, &id)?;
            out.consent(&store.consent(id)?);
        }
    }
    Ok(())
}

/// `--at`: an RFC 3339 instant, or wall-clock time in the business zone.
pub(crate) fn instant(store: &Store, s: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s.trim(), f).ok())
        .ok_or_else(|| {
            input("invalid time: expected 2026-12-01T10:00 (local) or an RFC 3339 instant")
        })?;
    Ok(store.local_to_utc(local)?)
}

/// A bound of `visit list`: a local date (its start, or for `--to` the start of the next day)
/// or a time.
fn bound(store: &Store, s: &str, end: bool) -> Result<DateTime<Utc>> {
    match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        Ok(d) => {
            let d = if end {
                d.succ_opt().ok_or_else(|| input("invalid date"))?
            } else {
                d
            };
            Ok(store.local_to_utc(d.and_hms_opt(0, 0, 0).expect("midnight exists"))?)
        }
        Err(_) => instant(store, s),
    }
}

fn amount(store: &Store, s: &str) -> Result<i64> {
    Ok(money::parse_major(s, store.currency()?)?)
}

/// `Manicure:800`, `Gel polish:200x2`; the last colon separates the price, so names may hold
/// colons.
fn service(store: &Store, s: &str) -> Result<ServiceLine> {
    let (name, price) = s.rsplit_once(':').ok_or_else(|| {
        input(format!(
            "invalid service \"{s}\": expected NAME:PRICE or NAME:PRICExQTY"
        ))
    })?;
    let (price, quantity) = match price.rsplit_once(['x', 'X', '×']) {
        Some((p, q)) => (
            p,
            q.trim()
                .parse::<u32>()
                .map_err(|_| input("invalid service quantity"))?,
        ),
        None => (price, 1),
    };
    Ok(ServiceLine {
        name: name.trim().to_string(),
        price: amount(store, price)?,
        quantity,
    })
}

fn reminder(s: &str) -> Result<ReminderOverride> {
    s.parse()
        .map_err(|_| input("invalid reminder: expected minutes before the visit, off or default"))
}

/// The visit options of `visit add` and `visit edit`, read once: what was given, parsed.
struct VisitInput {
    services: Option<Vec<ServiceLine>>,
    total: Option<i64>,
    paid: Option<i64>,
    staff: Option<Uuid>,
    note: Option<String>,
    reminder: Option<ReminderOverride>,
    repeat_after: Option<u32>,
}

impl VisitInput {
    fn parse(store: &Store, v: VisitArgs) -> Result<VisitInput> {
        let money = |s: Option<String>| s.as_deref().map(|s| amount(store, s)).transpose();
        Ok(VisitInput {
            services: (!v.services.is_empty())
                .then(|| {
                    v.services
                        .iter()
                        .map(|s| service(store, s))
                        .collect::<Result<_>>()
                })
                .transpose()?,
            total: money(v.total)?,
            paid: money(v.paid)?,
            staff: v
                .staff
                .as_deref()
                .map(|s| parse_uuid(s, "staff id"))
                .transpose()?,
            note: v.note,
            reminder: v.reminder.as_deref().map(reminder).transpose()?,
            repeat_after: v.repeat_after,
        })
    }
}

fn visit(store: &mut Store, out: &Out, cmd: VisitCmd) -> Result<()> {
    match cmd {
        VisitCmd::Add {
            client,
            at,
            duration,
            status,
            visit,
        } => {
            let client_id = client_id(store, &client)?;
            let start = instant(store, &at)?;
            let parsed = VisitInput::parse(store, visit)?;
            let v = NewVisit {
                client_id,
                start,
                duration_min: duration,
                services: parsed.services.unwrap_or_default(),
                total: parsed.total,
                paid: parsed.paid.unwrap_or(0),
                status: status.parse()?,
                staff_id: parsed.staff,
                note: parsed.note,
                reminder: parsed.reminder.unwrap_or_default(),
                repeat_after_days: parsed.repeat_after,
            };
            let v = store.add_visit(v)?;
            if out.json {
                out.visit(store, &v);
            } else {
                out.id(v.id);
            }
        }
        VisitCmd::Show { id } => {
            let v = store.get_visit(parse_uuid(&id, "visit id")?)?;
            out.visit(store, &v);
        }
        VisitCmd::Edit { id, visit } => {
            let id = parse_uuid(&id, "visit id")?;
            let parsed = VisitInput::parse(store, visit)?;
            let patch = VisitPatch {
                services: parsed.services,
                total: parsed.total,
                paid: parsed.paid,
                staff_id: parsed.staff.map(Some),
                note: parsed.note.map(Some),
                reminder: parsed.reminder,
                repeat_after_days: parsed.repeat_after.map(Some),
                ..Default::default()
            };
            let v = store.update_visit(id, patch)?;
            out.visit(store, &v);
        }
        VisitCmd::Status { id, status } => {
            let status: VisitStatus = status.parse()?;
            let v = store.set_visit_status(parse_uuid(&id, "visit id")?, status)?;
            out.visit(store, &v);
        }
        VisitCmd::Reschedule { id, at, duration } => {
            let start = instant(store, &at)?;
            let v = store.reschedule_visit(parse_uuid(&id, "visit id")?, start, duration)?;
            out.visit(store, &v);
        }
        VisitCmd::List {
            client,
            from,
            to,
            status,
        } => {
            let filter = VisitFilter {
                client: client.as_deref().map(|c| client_id(store, c)).transpose()?,
                from: from
                    .as_deref()
                    .map(|f| bound(store, f, false))
                    .transpose()?,
                to: to.as_deref().map(|t| bound(store, t, true)).transpose()?,
                status: status.as_deref().map(str::parse).transpose()?,
                include_deleted: false,
            };
            let visits = store.list_visits(&filter)?;
            out.visits(store, &visits);
        }
    }
    Ok(())
}

fn business(store: &mut Store, out: &Out, cmd: BusinessCmd) -> Result<()> {
    match cmd {
        BusinessCmd::Show => out.business(&store.business()?),
        BusinessCmd::Set {
            name,
            region,
            zone,
            currency,
            locale,
            phone,
            telegram_bot,
        } => {
            let edits = [
                name.map(SettingsEdit::Name),
                region.map(SettingsEdit::Region),
                zone.map(SettingsEdit::Zone),
                currency.map(SettingsEdit::Currency),
                locale.map(SettingsEdit::Locale),
                phone.map(|p| SettingsEdit::Phone(Some(p).filter(|p| !p.trim().is_empty()))),
                telegram_bot
                    .map(|b| SettingsEdit::TelegramBot(Some(b).filter(|b| !b.trim().is_empty()))),
            ];
            for e in edits.into_iter().flatten() {
                store.edit_business(e)?;
            }
            out.business(&store.business()?);
        }
        BusinessCmd::Hours { day, hours } => {
            let weekday = WEEKDAYS
                .iter()
                .position(|d| d.eq_ignore_ascii_case(day.trim()))
                .ok_or_else(|| {
                    input("invalid day: expected mon, tue, wed, thu, fri, sat or sun")
                })?;
            let b = store.edit_business(SettingsEdit::Hours { weekday, hours })?;
            out.business(&b);
        }
    }
    Ok(())
}
