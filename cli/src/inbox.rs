//! `kartka inbox`, `reply`, `conversation`, `note`, `lead` and `mailing send|list|cancel`: the
//! conversations with clients and the mailings, over the core's store.

use kartka_core::Store;
use kartka_core::model::ConversationStatus;
use kartka_core::store::{ConversationChange, NewMailing, Page, ReplyText};

use crate::args::{ConversationArgs, LeadCmd, MailingCmd, ReplyArgs};
use crate::output::{Out, print_json};
use crate::run::{Result, client_id, input, instant, parse_uuid};

fn local(store: &Store, t: chrono::DateTime<chrono::Utc>) -> String {
    crate::output::local(t, store.zone().ok())
}

fn staff_name(store: &Store, id: Option<uuid::Uuid>) -> String {
    id.and_then(|id| {
        store
            .business()
            .ok()?
            .staff
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| s.name)
    })
    .unwrap_or_default()
}

pub fn inbox(store: &Store, out: &Out, status: Option<String>, limit: u32) -> Result<()> {
    let status = status.as_deref().map(str::parse).transpose()?;
    let entries = store.inbox(status, Page { offset: 0, limit })?;
    if out.json {
        print_json(&entries);
        return Ok(());
    }
    for e in &entries {
        let state = match (e.status, e.until) {
            (ConversationStatus::Postponed, Some(t)) => format!("postponed→{}", local(store, t)),
            (s, _) => s.as_str().to_string(),
        };
        println!(
            "{}  {:<24} {:<26} {:<10} {}",
            &e.client_id.to_string()[..8],
            format!("{}{}", e.name, if e.lead { " (new)" } else { "" }),
            state,
            staff_name(store, e.staff_id),
            e.last_body
                .as_deref()
                .map(|b| format!(
                    "{} {}: {}",
                    if e.last_kind == Some(kartka_core::model::MessageKind::Inbound) {
                        "←"
                    } else {
                        "→"
                    },
                    e.last_channel.map(|c| c.as_str()).unwrap_or_default(),
                    b.replace('\n', " ⏎ ")
                ))
                .unwrap_or_default()
        );
    }
    if entries.is_empty() {
        eprintln!("no conversations");
    }
    Ok(())
}

pub fn reply(store: &mut Store, out: &Out, a: ReplyArgs) -> Result<()> {
    let client = client_id(store, &a.client)?;
    let channel = a.channel.parse()?;
    let text = match (a.text, a.template) {
        (_, Some(t)) => ReplyText::Template(crate::comms::template_id(store, &t)?),
        (Some(t), None) => ReplyText::Text(t),
        (None, None) => return Err(input("give --text or --template")),
    };
    let m = store.reply(client, channel, text)?;
    if out.json {
        print_json(&m);
    } else {
        println!("{}  queued: the server sends it after the next sync", m.id);
    }
    Ok(())
}

pub fn conversation(store: &mut Store, out: &Out, a: ConversationArgs) -> Result<()> {
    let client = client_id(store, &a.client)?;
    let assign = match a.assign.as_deref() {
        None => None,
        Some("none") => Some(None),
        Some("me") => Some(Some(store.current_staff().ok_or_else(|| {
            input("this device has no staff member: run `kartka whoami --staff NAME` first")
        })?)),
        Some(s) => Some(Some(crate::staff::find(store, s)?)),
    };
    let change = ConversationChange {
        status: a.status.as_deref().map(str::parse).transpose()?,
        until: a.until.as_deref().map(|t| instant(store, t)).transpose()?,
        assign,
    };
    store.change_conversation(client, change)?;
    out.done("conversation", client);
    Ok(())
}

pub fn note(store: &mut Store, out: &Out, client: &str, text: &str) -> Result<()> {
    let client = client_id(store, client)?;
    let n = store.add_note(client, text)?;
    out.id(n.id);
    Ok(())
}

pub fn notes(store: &Store, out: &Out, client: &str) -> Result<()> {
    let notes = store.notes(client_id(store, client)?)?;
    if out.json {
        print_json(&notes);
        return Ok(());
    }
    for n in &notes {
        println!("{}  {}", local(store, n.at), n.body);
    }
    Ok(())
}

pub fn lead(store: &mut Store, out: &Out, cmd: LeadCmd) -> Result<()> {
    match cmd {
        LeadCmd::Attach { lead, client } => {
            let (lead, client) = (client_id(store, &lead)?, client_id(store, &client)?);
            store.attach_lead(lead, client)?;
            out.done("attached to", client);
        }
        LeadCmd::Accept { lead, name } => {
            let lead = client_id(store, &lead)?;
            store.accept_lead(lead, name.as_deref())?;
            out.done("new client", lead);
        }
    }
    Ok(())
}

pub fn mailing(store: &mut Store, out: &Out, cmd: MailingCmd) -> Result<()> {
    match cmd {
        MailingCmd::Preview(_) => unreachable!("handled with the other previews"),
        MailingCmd::Send { args, name, start } => {
            let audience = crate::run::audience(store, &args)?;
            let m = store.start_mailing(NewMailing {
                name,
                channel: args.channel.parse()?,
                text: args.text,
                audience,
                start: start.as_deref().map(|s| instant(store, s)).transpose()?,
            })?;
            out.id(m.id);
        }
        MailingCmd::List => {
            let all = store.mailings()?;
            if out.json {
                let v: Vec<_> = all
                    .iter()
                    .map(|(m, p)| serde_json::json!({ "mailing": m, "progress": p }))
                    .collect();
                print_json(&v);
                return Ok(());
            }
            for (m, p) in &all {
                println!(
                    "{}  {:<24} {:<8} {}{}: {} of {} sent ({} delivered), {} waiting, {} failed, {} skipped (consent withdrawn)",
                    m.id,
                    m.name,
                    m.channel.as_str(),
                    local(store, m.start),
                    if m.cancelled { " (stopped)" } else { "" },
                    p.sent + p.delivered,
                    p.total,
                    p.delivered,
                    p.pending,
                    p.failed,
                    p.skipped
                );
            }
            if all.is_empty() {
                eprintln!("no mailings");
            }
        }
        MailingCmd::Cancel { id } => {
            let id = parse_uuid(&id, "mailing id")?;
            store.cancel_mailing(id)?;
            out.done("stopped", id);
        }
    }
    Ok(())
}
