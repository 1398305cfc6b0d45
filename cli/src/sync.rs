//! `kartka pair`, `invite`, `devices`, `sync`: the book and the sync server.

use std::cell::RefCell;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use kartka_core::Store;
use kartka_core::sync::{self, SyncReport, SyncStatus};
use serde_json::json;

use crate::args::{DevicesCmd, PairArgs};
use crate::output::Out;
use crate::run::{Result, input, parse_uuid};

pub fn pair(store: &mut Store, out: &Out, p: PairArgs) -> Result<()> {
    let paired = match p.invite {
        Some(code) => sync::join(store, &p.server, &code, &p.device_name)?,
        None => sync::create_business(store, &p.server, &p.device_name)?,
    };
    // The first sync at once: the owner's book goes up, a joining device gets the business.
    let first = sync::sync_now(&RefCell::new(&mut *store))?;
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
    let inv = sync::invite(store)?;
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
            let list = remote.devices()?;
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
            remote.revoke(id)?;
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
        let r = sync::sync_now(&access)?;
        report(out, &r, Some(&access.borrow()));
        return Ok(());
    }
    // Runs until interrupted (Ctrl-C ends the process; every applied answer is already
    // committed, so nothing is lost).
    let stop = AtomicBool::new(false);
    sync::run_loop(
        &access,
        &stop,
        Duration::from_secs(wait),
        |status| match status {
            SyncStatus::Synced { report: r } => {
                if r.pushed > 0 || r.pulled > 0 {
                    report(out, r, access.try_borrow().ok().as_deref());
                }
            }
            SyncStatus::Progress { so_far } => {
                eprint!("\rsyncing: {} received so far", so_far.pulled);
            }
            SyncStatus::Failed { error, retry_in } => {
                eprintln!("sync failed: {error}; retrying in {} s", retry_in.as_secs());
            }
        },
    )?;
    Ok(())
}
