//! `kartka pair`, `invite`, `devices`, `sync`: the book and the sync server.

use std::cell::RefCell;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use kartka_core::Store;
use kartka_core::sync::{self, SyncReport, SyncStatus};
use serde_json::json;

use crate::args::{DevicesCmd, PairArgs};
use crate::output::Out;
use crate::run::{CliError, Result, input, parse_uuid};

/// A request that failed: when the server was not there, say what the book keeps, with the
/// exit status of its own (cli/README.md, "Exit codes").
fn offline(store: &Store) -> impl Fn(kartka_core::Error) -> CliError + '_ {
    move |error| {
        if !error.is_offline() {
            return error.into();
        }
        let paired = matches!(store.sync_config(), Ok(Some(_)));
        CliError::Offline {
            pending: paired.then(|| store.unsynced_docs().ok()).flatten(),
            error: Box::new(error),
        }
    }
}

pub fn pair(store: &mut Store, out: &Out, p: PairArgs) -> Result<()> {
    let paired = match p.invite {
        Some(code) => sync::join(store, &p.server, &code, &p.device_name),
        None => sync::create_business(store, &p.server, &p.device_name),
    }
    .map_err(offline(store))?;
    // The first sync at once: the owner's book goes up, a joining device gets the business.
    let first = sync::sync_now(&RefCell::new(&mut *store));
    let first = first.map_err(offline(store))?;
    if out.json {
        println!(
            "{}",
            json!({
                "business_id": paired.business_id,
                "device_id": paired.device_id,
                "pushed": first.pushed,
                "pulled": first.pulled,
            })
        );
    } else {
        println!(
            "paired: business {} as device {} ({} sent, {} received)",
            paired.business_id, paired.device_id, first.pushed, first.pulled
        );
    }
    Ok(())
}

pub fn invite(store: &Store, out: &Out) -> Result<()> {
    let inv = sync::invite(store).map_err(offline(store))?;
    if out.json {
        println!(
            "{}",
            serde_json::to_string(&inv).map_err(|e| input(e.to_string()))?
        );
    } else {
        println!(
            "{}  (valid until {}, once)",
            inv.code,
            inv.expires_at.format("%H:%M UTC")
        );
    }
    Ok(())
}

pub fn devices(store: &Store, out: &Out, cmd: DevicesCmd) -> Result<()> {
    let remote = sync::remote_of(store)?;
    match cmd {
        DevicesCmd::List => {
            let list = remote.devices().map_err(offline(store))?;
            if out.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).map_err(|e| input(e.to_string()))?
                );
            } else {
                for d in list {
                    println!(
                        "{}  {}{}{}",
                        d.id,
                        d.name,
                        if d.owner { "  (owner)" } else { "" },
                        if d.revoked { "  (revoked)" } else { "" }
                    );
                }
            }
        }
        DevicesCmd::Revoke { id } => {
            let id = parse_uuid(&id, "device id")?;
            remote.revoke(id).map_err(offline(store))?;
            out.done("revoked", id);
        }
    }
    Ok(())
}

fn report(out: &Out, r: &SyncReport, store: Option<&Store>) {
    if out.json {
        println!(
            "{}",
            json!({
                "pushed": r.pushed,
                "pulled": r.pulled,
                "concurrent": r.concurrent,
                "round_trips": r.round_trips,
                "changed_clients": r.changed_clients,
                "staff_alerts_moved": r.staff_alerts_moved,
            })
        );
    } else {
        println!(
            "synced: {} sent, {} received, {} merged with local edits",
            r.pushed, r.pulled, r.concurrent
        );
        // A staff link opened in a new chat: whoever holds that chat now gets the alerts.
        let staff = store.and_then(|s| s.business().ok()).map(|b| b.staff);
        for id in &r.staff_alerts_moved {
            let name = staff
                .iter()
                .flatten()
                .find(|s| s.id == *id)
                .map_or_else(|| id.to_string(), |s| s.name.clone());
            println!(
                "the Telegram alerts of {name} now go to another chat; if that was not them, \
                 make a new link: kartka staff telegram-link \"{name}\""
            );
        }
    }
}

pub fn sync(store: Store, out: &Out, watch: bool, wait: u64) -> Result<()> {
    let access = RefCell::new(store);
    if !watch {
        let r = sync::sync_now(&access);
        let r = r.map_err(offline(&access.borrow()))?;
        report(out, &r, Some(&access.borrow()));
        return Ok(());
    }
    // Said once when the server is back after failures, not on every quiet long-poll.
    let mut failing = false;
    // Runs until interrupted (Ctrl-C ends the process; every applied answer is already
    // committed, so nothing is lost).
    let stop = AtomicBool::new(false);
    sync::run_loop(
        &access,
        &stop,
        Duration::from_secs(wait),
        |status| match status {
            SyncStatus::Synced { report: r } => {
                if std::mem::take(&mut failing) {
                    let server = access.try_borrow().ok().and_then(|s| s.sync_state().ok());
                    let server = server.and_then(|s| s.server).unwrap_or_default();
                    eprintln!("reconnected to {server}");
                }
                if r.pushed > 0 || r.pulled > 0 {
                    report(out, r, access.try_borrow().ok().as_deref());
                }
            }
            SyncStatus::Progress { so_far } => {
                eprint!("\rsyncing: {} received so far", so_far.pulled);
            }
            SyncStatus::Failed { error, retry_in } => {
                failing = true;
                let pending = access
                    .try_borrow()
                    .ok()
                    .and_then(|s| s.unsynced_docs().ok());
                let kept = match pending {
                    Some(n) if n > 0 => format!("; {n} waiting in this book"),
                    _ => String::new(),
                };
                eprintln!("{error}{kept}; retrying in {} s", retry_in.as_secs().max(1));
            }
        },
    )?;
    Ok(())
}

/// `kartka status`: what the book knows of its sync, read from the book (no network).
pub fn status(store: &Store, out: &Out) -> Result<()> {
    use kartka_core::sync::status::{Activity, Link};
    let st = store.sync_state()?;
    let ts =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    if out.json {
        let (connected, since) = match st.link {
            Link::Unknown => (None, None),
            Link::Connected { since } => (Some(true), Some(ts(since))),
            Link::Offline { since } => (Some(false), Some(ts(since))),
        };
        println!(
            "{}",
            json!({
                "paired": st.server.is_some(),
                "server": st.server,
                "connected": connected,
                "since": since,
                "last_synced_at": st.last_synced_at.map(ts),
                "has_synced": st.has_synced(),
                "pending": st.pending,
                "syncing": st.activity == Activity::Syncing,
                "receiving": st.receiving.map(|r| json!({"received": r.received, "total": r.total})),
                "last_error": st.last_error.as_ref().map(|p| json!({
                    "kind": p.kind.as_str(), "detail": p.detail, "at": ts(p.at),
                })),
            })
        );
        return Ok(());
    }
    let Some(server) = &st.server else {
        println!("not paired with a sync server: kartka pair --server URL");
        if st.pending > 0 {
            println!(
                "{} records in this book, none sent anywhere yet",
                st.pending
            );
        }
        return Ok(());
    };
    let now = chrono::Utc::now();
    let zone = store.zone().ok();
    let when = |t| {
        format!(
            "{} ({})",
            crate::output::local(t, zone),
            ago(now.signed_duration_since(t))
        )
    };
    match st.link {
        Link::Unknown => println!("server     {server} (not tried yet)"),
        Link::Connected { since } => {
            println!("server     {server}, connected since {}", when(since))
        }
        Link::Offline { since } => println!("server     {server}, offline since {}", when(since)),
    }
    match st.last_synced_at {
        Some(t) => println!("last sync  {}", when(t)),
        None => println!("last sync  never"),
    }
    match st.pending {
        0 => println!("waiting    nothing: the server has every edit of this book"),
        1 => println!("waiting    1 change, kept in this book until it syncs"),
        n => println!("waiting    {n} changes, kept in this book until they sync"),
    }
    if let Some(r) = st.receiving {
        match r.total {
            Some(t) => println!(
                "receiving  {} of {t} records so far; the next sync goes on",
                r.received
            ),
            None => println!(
                "receiving  {} records so far; the next sync goes on",
                r.received
            ),
        }
    }
    if let Some(p) = &st.last_error {
        println!("last error {} ({})", p.detail, when(p.at));
    }
    Ok(())
}

/// "2 min ago", "3 h ago": how long ago, in the largest unit that fits.
fn ago(d: chrono::TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => "just now".to_string(),
        60..3600 => format!("{} min ago", s / 60),
        3600..86400 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86400),
    }
}
