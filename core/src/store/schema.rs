//! Schema migrations for the local store, versioned with `PRAGMA user_version`.
//!
//! Migrations are numbered files under `core/migrations/`, applied in order inside one IMMEDIATE
//! transaction, so a crash leaves the database at the old version or the new one, never between.
//! A database written by a newer Kartka is refused rather than risked.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// Migration `i` brings a database from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/001_init.sql"),
    include_str!("../../migrations/002_history.sql"),
    include_str!("../../migrations/003_sync.sql"),
    include_str!("../../migrations/004_erasure.sql"),
    include_str!("../../migrations/005_message_log.sql"),
    include_str!("../../migrations/006_conversations.sql"),
    include_str!("../../migrations/007_phone_corrections.sql"),
    include_str!("../../migrations/008_phone_digits.sql"),
    include_str!("../../migrations/009_pending_count.sql"),
];

pub const CURRENT_VERSION: u32 = MIGRATIONS.len() as u32;

pub(crate) fn user_version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the database up to `target` (the current version unless a test asks for an older one).
/// Returns whether an existing book was upgraded: its projection must then be rebuilt, since a
/// new projection table may have data waiting in the documents (an older device keeps the
/// fields it does not know, such as messages synced from a newer one).
pub(crate) fn migrate_to(conn: &mut Connection, target: u32) -> Result<bool> {
    let found = user_version(conn)?;
    if found > CURRENT_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: CURRENT_VERSION,
        });
    }
    if found >= target {
        return Ok(false);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Re-read under the write lock: another process may have migrated meanwhile.
    let found = user_version(&tx)?;
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(found as usize)
    {
        tracing::info!(from = i, to = i + 1, "migrating the local store");
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", target.max(found))?;
    tx.commit()?;
    Ok(found > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn schema_of(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare("SELECT name, coalesce(sql, '') FROM sqlite_schema ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn upgrading_from_every_old_version_equals_a_fresh_create() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = Store::open(dir.path().join("fresh.db")).unwrap();
        let expected = schema_of(fresh.conn());
        for start in 0..CURRENT_VERSION {
            let path = dir.path().join(format!("from-{start}.db"));
            let mut conn = Connection::open(&path).unwrap();
            migrate_to(&mut conn, start).unwrap();
            assert_eq!(user_version(&conn).unwrap(), start);
            let upgraded = Store::open(&path).unwrap();
            assert_eq!(user_version(upgraded.conn()).unwrap(), CURRENT_VERSION);
            assert_eq!(
                schema_of(upgraded.conn()),
                expected,
                "upgrade from {start} differs"
            );
        }
    }

    #[test]
    fn a_database_from_a_newer_kartka_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", CURRENT_VERSION + 1)
            .unwrap();
        drop(conn);
        match Store::open(&path) {
            Err(Error::SchemaTooNew { found, supported }) => {
                assert_eq!((found, supported), (CURRENT_VERSION + 1, CURRENT_VERSION));
            }
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("opened a database from the future"),
        }
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), CURRENT_VERSION + 1);
    }
}
