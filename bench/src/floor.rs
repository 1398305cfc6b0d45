//! The physical floor: the same records as plain SQLite rows with the indexes a hand-written
//! app would add, and the same operations done on them directly. Every Kartka figure is quoted
//! beside the floor's, measured in the same run.

use kartka_core::model::{NewClient, NewVisit};
use rusqlite::{Connection, params};
use uuid::Uuid;

pub const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS clients (
        id BLOB PRIMARY KEY, name TEXT NOT NULL, given TEXT, family TEXT, phone TEXT, email TEXT,
        birthday TEXT, comment TEXT, class TEXT NOT NULL, tags TEXT NOT NULL, loyalty TEXT,
        discount INTEGER NOT NULL, source TEXT NOT NULL, created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL, deleted INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS clients_name ON clients (name);
    CREATE INDEX IF NOT EXISTS clients_phone ON clients (phone);
    CREATE TABLE IF NOT EXISTS visits (
        id BLOB PRIMARY KEY, client_id BLOB NOT NULL, start_at INTEGER NOT NULL, zone TEXT NOT NULL,
        duration_min INTEGER NOT NULL, services TEXT NOT NULL, total INTEGER NOT NULL,
        paid INTEGER NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL, deleted INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS visits_client ON visits (client_id, start_at);
";

pub fn open(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    conn
}

/// Inserts one client row (phone as its E.164 form, as a hand-written app would store it).
pub fn insert_client(conn: &Connection, id: Uuid, c: &NewClient, e164: &str, now: i64) {
    conn.prepare_cached(
        "INSERT INTO clients VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, 0)",
    )
    .unwrap()
    .execute(params![
        id,
        c.name,
        c.given_name,
        c.family_name,
        e164,
        c.email,
        c.birthday.map(|b| b.to_string()),
        c.comment,
        c.class.as_ref().map(|c| c.as_str().to_string()).unwrap_or_else(|| "regular".into()),
        serde_json::to_string(&c.tags).unwrap(),
        c.loyalty_card,
        c.discount_percent.unwrap_or(0),
        "manual",
        now,
    ])
    .unwrap();
}

pub fn insert_visit(conn: &Connection, client: Uuid, v: &NewVisit, now: i64) {
    conn.prepare_cached(
        "INSERT INTO visits VALUES (?1, ?2, ?3, 'Europe/Kyiv', ?4, ?5, ?6, ?7, ?8, ?9, ?9, 0)",
    )
    .unwrap()
    .execute(params![
        Uuid::now_v7(),
        client,
        v.start.timestamp_millis(),
        v.duration_min,
        serde_json::to_string(&v.services).unwrap(),
        v.total.unwrap_or_else(|| v
            .services
            .iter()
            .map(|s| s.price * i64::from(s.quantity))
            .sum()),
        v.paid,
        v.status.as_str(),
        now,
    ])
    .unwrap();
}

/// Name prefix lookup, as typed (no folding: the floor does the least work).
pub fn search_name(conn: &Connection, prefix: &str) -> usize {
    let mut end = prefix.to_string();
    end.push(char::MAX);
    let mut stmt = conn
        .prepare_cached("SELECT id, name, phone FROM clients WHERE name >= ?1 AND name < ?2 ORDER BY name LIMIT 50")
        .unwrap();
    stmt.query_map(params![prefix, end], |_| Ok(()))
        .unwrap()
        .count()
}

pub fn search_phone(conn: &Connection, e164_prefix: &str) -> usize {
    let mut end = e164_prefix.to_string();
    end.push(char::MAX);
    let mut stmt = conn
        .prepare_cached("SELECT id, name, phone FROM clients WHERE phone >= ?1 AND phone < ?2 ORDER BY phone LIMIT 50")
        .unwrap();
    stmt.query_map(params![e164_prefix, end], |_| Ok(()))
        .unwrap()
        .count()
}

/// Digits anywhere in the number: a scan of every row (no index a hand-written app would add
/// finds a substring).
pub fn search_phone_inside(conn: &Connection, digits: &str) -> usize {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, name, phone FROM clients WHERE instr(phone, ?1) > 0 ORDER BY name LIMIT 50",
        )
        .unwrap();
    stmt.query_map(params![digits], |_| Ok(())).unwrap().count()
}

pub fn first_page(conn: &Connection) -> usize {
    let mut stmt = conn
        .prepare_cached("SELECT * FROM clients WHERE deleted = 0 ORDER BY name LIMIT 50")
        .unwrap();
    stmt.query_map([], |_| Ok(())).unwrap().count()
}
