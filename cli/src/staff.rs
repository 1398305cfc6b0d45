//! `kartka staff`: the business's staff, where their alerts go, and finding one by name.

use kartka_core::Store;
use kartka_core::crdt::business::SettingsEdit;
use uuid::Uuid;

use crate::args::StaffCmd;
use crate::output::Out;
use crate::run::{Result, input};

/// A staff member by id or by name (case-insensitive, whole name).
pub fn find(store: &Store, s: &str) -> Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(s.trim()) {
        return Ok(store.staff_member(id)?.id);
    }
    let staff = store.business()?.staff;
    let named: Vec<Uuid> = staff
        .iter()
        .filter(|m| m.name.to_lowercase() == s.trim().to_lowercase())
        .map(|m| m.id)
        .collect();
    match named.as_slice() {
        [id] => Ok(*id),
        [] => Err(input(format!("no staff member is called {s}"))),
        _ => Err(input(format!(
            "several staff members are called {s}: use the id"
        ))),
    }
}

pub fn run(store: &mut Store, out: &Out, cmd: StaffCmd) -> Result<()> {
    match cmd {
        StaffCmd::Add {
            name,
            email,
            telegram,
        } => {
            let id = store.add_staff(&name)?;
            if email.is_some() || telegram.is_some() {
                let mut member = store
                    .business()?
                    .staff
                    .into_iter()
                    .find(|m| m.id == id)
                    .expect("just added");
                member.email = email
                    .map(|e| e.trim().to_string())
                    .filter(|e| !e.is_empty());
                member.telegram = telegram
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty());
                store.edit_business(SettingsEdit::PutStaff(member))?;
            }
            out.id(id);
        }
        StaffCmd::List => out.staff(&store.business()?.staff),
        StaffCmd::TelegramLink { staff } => {
            let link = kartka_core::sync::staff_telegram_link(store, find(store, &staff)?)?;
            if out.json {
                println!("{}", serde_json::json!({ "link": link }));
            } else {
                println!("{link}");
            }
        }
    }
    Ok(())
}
