//! Commands of the client card's actions and of importing: call, message, history, templates,
//! import of vCard and CSV files, and merging two cards.

use std::io::{IsTerminal, Write};
use std::path::Path;

use kartka_core::Store;
use kartka_core::crdt::business::SettingsEdit;
use kartka_core::import::Contact;
use kartka_core::messaging::deeplink::Platform;
use kartka_core::model::{Channel, ClientSource, ConsentSource, Template};
use kartka_core::store::{BatchConsent, MessageText};
use serde_json::json;
use uuid::Uuid;

use crate::args::{ExportCmd, ImportArgs, ImportCmd, MergeArgs, MessageArgs, TemplateCmd};
use crate::output::Out;
use crate::run::{CliError, client_id, input};

type Result<T> = std::result::Result<T, CliError>;

pub fn call(store: &Store, out: &Out, client: &str) -> Result<()> {
    let link = store.call_link(client_id(store, client)?)?;
    if out.json {
        println!("{}", json!({ "link": link }));
    } else {
        println!("{link}");
    }
    Ok(())
}

pub fn message(store: &mut Store, out: &Out, a: MessageArgs) -> Result<()> {
    let client = client_id(store, &a.client)?;
    let channel: Channel = a.channel.parse()?;
    let platform: Platform = a
        .platform
        .parse()
        .map_err(|_| input("invalid platform: expected android or ios"))?;
    let text = match (a.template, a.text) {
        (Some(t), None) => MessageText::Template(template_id(store, &t)?),
        (None, Some(t)) => MessageText::Text(t),
        _ => return Err(input("give --template or --text")),
    };
    let visit = a
        .visit
        .as_deref()
        .map(|v| Uuid::parse_str(v).map_err(|_| input("invalid visit id")))
        .transpose()?;
    let m = store.quick_message(client, channel, text, visit, platform)?;
    if !a.no_record {
        store.record_message(client, channel, &m.text, visit, m.template_id)?;
    }
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&m).expect("serialisable")
        );
        return Ok(());
    }
    println!("{}", m.link);
    println!("to       {}", m.to);
    println!("text     {}", m.text);
    if let Some(s) = m.sms {
        let enc = match s.encoding {
            kartka_core::messaging::segments::SmsEncoding::Gsm7 => "GSM-7",
            kartka_core::messaging::segments::SmsEncoding::Ucs2 => "UCS-2",
        };
        println!(
            "sms      {enc}, {} segment(s), {} left in the last",
            s.segments, s.remaining
        );
    }
    Ok(())
}

/// Writes to `--out FILE`, or to stdout.
fn sink(out: Option<&Path>) -> Result<Box<dyn std::io::Write>> {
    Ok(match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| input(format!("cannot write {}: {e}", p.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

pub fn export(store: &Store, cmd: ExportCmd) -> Result<()> {
    match cmd {
        ExportCmd::Client { client, out } => {
            let data = store.export_client(client_id(store, &client)?)?;
            let mut w = sink(out.as_deref())?;
            serde_json::to_writer_pretty(&mut w, &data).map_err(|e| input(e.to_string()))?;
            writeln!(w).map_err(|e| input(e.to_string()))?;
        }
        ExportCmd::Book { format, out } => {
            let mut w = sink(out.as_deref())?;
            let n = match format.as_str() {
                "json" => store.export_book_json(&mut w)?,
                "csv" => store.export_book_csv(&mut w)?,
                _ => return Err(input("invalid format: expected json or csv")),
            };
            w.flush().map_err(|e| input(e.to_string()))?;
            eprintln!("exported {n} clients");
        }
    }
    Ok(())
}

pub fn telegram_link(store: &Store, out: &Out, client: &str) -> Result<()> {
    let link = kartka_core::sync::client_telegram_link(store, client_id(store, client)?)?;
    if out.json {
        println!("{}", json!({ "link": link }));
    } else {
        println!("{link}");
    }
    Ok(())
}

/// `kartka messages`: the business's log, newest first.
pub fn message_log(
    store: &Store,
    out: &Out,
    filter: &kartka_core::store::MessageFilter,
    limit: u32,
) -> Result<()> {
    let log = store.message_log(filter, kartka_core::store::Page { offset: 0, limit })?;
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&log).expect("serialisable")
        );
        return Ok(());
    }
    let zone = store.zone().ok();
    for l in &log {
        let m = &l.message;
        let at = crate::output::local(m.at, zone);
        let dir = if m.kind == kartka_core::model::MessageKind::Inbound {
            "←"
        } else {
            "→"
        };
        println!(
            "{at}  {dir} {:<20} {:<9} {:<18} {}",
            l.client_name,
            m.channel.as_str(),
            m.status.as_str(),
            m.body.replace('\n', " ⏎ ")
        );
        if let Some(d) = &m.detail {
            println!("{:>18}└ {d}", "");
        }
    }
    if log.is_empty() {
        eprintln!("no messages");
    }
    Ok(())
}

pub fn history(store: &Store, out: &Out, client: &str) -> Result<()> {
    let h = store.history(client_id(store, client)?)?;
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&h).expect("serialisable")
        );
        return Ok(());
    }
    let zone = store.zone().ok();
    for m in &h {
        let at = crate::output::local(m.at, zone);
        let who = match m.kind {
            kartka_core::model::MessageKind::Automatic => "auto",
            kartka_core::model::MessageKind::Inbound => "in",
            kartka_core::model::MessageKind::Manual => "",
            kartka_core::model::MessageKind::Reply => "re",
            kartka_core::model::MessageKind::Mailing => "mail",
            kartka_core::model::MessageKind::Staff => "staf",
        };
        println!(
            "{at}  {:<9} {:<4} {:<18} {}",
            m.channel.as_str(),
            who,
            m.status.as_str(),
            m.body.replace('\n', " ⏎ ")
        );
        if let Some(d) = &m.detail {
            println!("{:>18}└ {d}", "");
        }
    }
    if h.is_empty() {
        println!("(no messages)");
    }
    Ok(())
}

pub(crate) fn template_id(store: &Store, s: &str) -> Result<Uuid> {
    let templates = store.business()?.templates;
    if let Ok(id) = Uuid::parse_str(s) {
        return Ok(id);
    }
    templates
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(s.trim()))
        .map(|t| t.id)
        .ok_or_else(|| input(format!("no template named \"{s}\"")))
}

pub fn templates(store: &mut Store, out: &Out, cmd: TemplateCmd) -> Result<()> {
    match cmd {
        TemplateCmd::Add {
            name,
            channel,
            body,
            whatsapp,
        } => {
            let channel = channel.as_deref().map(str::parse::<Channel>).transpose()?;
            let id = Uuid::now_v7();
            store.edit_business(SettingsEdit::PutTemplate(Template {
                id,
                name,
                channel,
                body,
                whatsapp,
            }))?;
            out.id(id);
        }
        TemplateCmd::Remove { id } => {
            let id = template_id(store, &id)?;
            store.edit_business(SettingsEdit::RemoveTemplate(id))?;
            out.done("removed", id);
        }
        TemplateCmd::List => {
            let ts = store.business()?.templates;
            if out.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&ts).expect("serialisable")
                );
            } else {
                for t in ts {
                    let ch = t
                        .channel
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "any".into());
                    println!(
                        "{}  {}  [{ch}]  {}",
                        t.id,
                        t.name,
                        t.body.replace('\n', " ⏎ ")
                    );
                }
            }
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| input(format!("cannot read {}: {e}", path.display())))
}

pub fn import(store: &mut Store, out: &Out, cmd: ImportCmd) -> Result<()> {
    let (args, contacts, problems, source) = match cmd {
        ImportCmd::Vcf(a) => {
            let parsed = kartka_core::import::vcard::parse(&read(&a.file)?)
                .map_err(|e| input(e.to_string()))?;
            (a, parsed.contacts, parsed.problems, ClientSource::Vcard)
        }
        ImportCmd::Csv(a) => {
            let parsed = kartka_core::import::csv::parse(&read(&a.file)?)
                .map_err(|e| input(e.to_string()))?;
            (a, parsed.contacts, parsed.problems, ClientSource::Csv)
        }
    };
    for p in &problems {
        eprintln!("warning: line {}: {}", p.line, p.message);
    }
    if args.dry_run {
        let preview = store.preview_import(&contacts)?;
        if out.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&preview).expect("serialisable")
            );
        } else {
            for i in &preview.items {
                let phones: Vec<String> = i
                    .phones
                    .iter()
                    .map(|p| {
                        p.e164
                            .clone()
                            .unwrap_or_else(|| format!("{} (unparsed)", p.raw))
                    })
                    .collect();
                println!(
                    "{:>4}  {:<15} {}  {}  — {}",
                    i.row,
                    format!("{:?}", i.status).to_lowercase(),
                    i.name.as_deref().unwrap_or("(no name)"),
                    phones.join(", "),
                    i.reason
                );
            }
            println!(
                "new {} · duplicate {} · merge candidate {} · invalid {}",
                preview.new, preview.duplicate, preview.merge_candidate, preview.invalid
            );
        }
        return Ok(());
    }
    import_rows(store, out, &args, &contacts, source)
}

fn import_rows(
    store: &mut Store,
    out: &Out,
    args: &ImportArgs,
    contacts: &[Contact],
    source: ClientSource,
) -> Result<()> {
    let consent = if args.consent.is_empty() {
        None
    } else {
        let channels = args
            .consent
            .iter()
            .map(|c| c.parse::<Channel>())
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let source: ConsentSource = args.consent_source.parse()?;
        if args.consent_note.trim().is_empty() {
            return Err(input(
                "consent for a batch needs its evidence: give --consent-note",
            ));
        }
        Some(BatchConsent {
            channels,
            source,
            note: args.consent_note.clone(),
        })
    };
    let picked: Option<Vec<usize>> = args.pick.as_deref().map(parse_rows).transpose()?;
    let show_bar = !out.json && std::io::stderr().is_terminal();
    let bar = show_bar.then(|| indicatif::ProgressBar::new(0));
    let mut progress = |done: usize, total: usize| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    };
    let preview = store.preview_import(contacts)?;
    let outcome = store.import_contacts(
        contacts,
        picked.as_deref(),
        source,
        consent.as_ref(),
        &mut progress,
    )?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let counts = json!({
        "imported": outcome.created.len(),
        "skipped": outcome.skipped,
        "new": preview.new,
        "duplicate": preview.duplicate,
        "merge_candidate": preview.merge_candidate,
        "invalid": preview.invalid,
        "created": outcome.created,
    });
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&counts).expect("serialisable")
        );
    } else {
        println!(
            "imported {} · new {} · duplicate {} · merge candidate {} · invalid {}",
            outcome.created.len(),
            preview.new,
            preview.duplicate,
            preview.merge_candidate,
            preview.invalid
        );
    }
    Ok(())
}

fn parse_rows(s: &str) -> Result<Vec<usize>> {
    s.split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| {
            x.trim()
                .parse::<usize>()
                .map_err(|_| input("invalid --pick: expected row numbers such as 0,3,7"))
        })
        .collect()
}

pub fn merge(store: &mut Store, out: &Out, a: MergeArgs) -> Result<()> {
    let keep = client_id(store, &a.keep)?;
    let other = client_id(store, &a.other)?;
    let preview = store.preview_merge(keep, other)?;
    if a.preview {
        if out.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&preview).expect("serialisable")
            );
        } else {
            println!("{} ← {}", preview.name, other);
            println!(
                "phones   {}",
                preview
                    .phones
                    .iter()
                    .map(|p| p.e164.clone().unwrap_or_else(|| p.raw.clone()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!(
                "visits   {} · messages {}",
                preview.visits, preview.messages
            );
            if !preview.withdrawn.is_empty() {
                let w: Vec<&str> = preview.withdrawn.iter().map(|c| c.as_str()).collect();
                println!(
                    "consent  withdrawn on merge (the other card had none): {}",
                    w.join(", ")
                );
            }
        }
        return Ok(());
    }
    let outcome = store.merge_clients(keep, other)?;
    if out.json {
        println!(
            "{}",
            json!({ "kept": keep, "merged": other, "undo": outcome.undo })
        );
    } else {
        println!(
            "merged {other} into {keep}; undo with: kartka client undo-merge {}",
            outcome.undo
        );
    }
    Ok(())
}

pub fn undo_merge(store: &mut Store, out: &Out, undo: &str) -> Result<()> {
    let id = Uuid::parse_str(undo.trim()).map_err(|_| input("invalid undo id"))?;
    store.undo_merge(id)?;
    out.done("undone", id);
    Ok(())
}
