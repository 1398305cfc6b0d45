//! Schema migrations for the local store, versioned with `PRAGMA user_version`.
//!
//! Migrations are numbered files under `core/migrations/`, applied in order inside one IMMEDIATE
//! transaction, so a crash leaves the database at the old version or the new one, never between.
//! A database written by a newer Kartka is refused rather than risked.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// Migration `i` brings a database from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[include_str!("../../migrations/001_init.sql")];

pub const CURRENT_VERSION: u32 = MIGRATIONS.len() as u32;

pub(crate) fn user_version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the database up to `target` (the current version unless a test asks for an older one).
pub(crate) fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let found = user_version(conn)?;
    if found > CURRENT_VERSION {
        return Err(Error::SchemaTooNew { found, supported: CURRENT_VERSION });
    }
    if found >= target {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Re-read under the write lock: another process may have migrated meanwhile.
    let found = user_version(&tx)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target as usize).skip(found as usize) {
        tracing::info!(from = i, to = i + 1, "migrating the local store");
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", target.max(found))?;
    tx.commit()?;
    Ok(())
}
