//! Encryption at rest: the book as an SQLCipher database (AES-256, a page-level HMAC), opened
//! with a raw 256-bit key. The app keeps the key (Android Keystore, iOS Keychain) and hands it
//! to [`Store::open_encrypted`]; the core never stores it.
//!
//! A raw key (`x'…'`) skips SQLCipher's passphrase derivation: the key is already random, so
//! opening costs nothing extra. A plain book from before is encrypted in place on its first
//! encrypted open: exported into a new encrypted file beside it, which then replaces it by
//! rename, so a crash at any point leaves either the plain book or the encrypted one, whole.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use super::Store;
use crate::error::{Error, Result};

/// A book's key: 32 random bytes.
#[derive(Clone)]
pub struct BookKey([u8; 32]);

impl BookKey {
    pub fn new(bytes: [u8; 32]) -> BookKey {
        BookKey(bytes)
    }

    /// From a slice (the FFI passes bytes): exactly 32 of them.
    pub fn from_slice(bytes: &[u8]) -> Result<BookKey> {
        let b: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::validation("key", "must be 32 bytes (256 bits)"))?;
        Ok(BookKey(b))
    }

    /// From 64 hexadecimal digits (a key file, an environment variable).
    pub fn from_hex(s: &str) -> Result<BookKey> {
        let s = s.trim();
        let bytes = (0..s.len())
            .step_by(2)
            .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| Error::validation("key", "must be 64 hexadecimal digits"))?;
        BookKey::from_slice(&bytes)
            .map_err(|_| Error::validation("key", "must be 64 hexadecimal digits"))
    }

    /// SQLCipher's form of a raw key.
    fn sql(&self) -> String {
        let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        format!("x'{hex}'")
    }
}

impl std::fmt::Debug for BookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BookKey(…)")
    }
}

/// Makes sure SQLite, and SQLCipher with it, is initialised before a connection is opened.
///
/// SQLCipher finishes its own set-up (its mutexes, its private heap, its random seed) in
/// SQLite's `SQLITE_EXTRA_INIT` hook, which SQLite runs *after* it has marked itself initialised
/// and let go of its init mutex. A second thread opening a connection in that window skips
/// initialisation, and its `PRAGMA key` fails ("An error occurred with PRAGMA key or rekey"):
/// seen in CI when a test binary's threads opened their first books at the same moment
/// (reproduced by `tests/cipher_first_open.rs`). Running the initialisation once behind a
/// `OnceLock`, which every other thread waits on, closes the window.
pub(crate) fn sqlite_ready() -> Result<()> {
    use rusqlite::ffi;
    // Opening a connection initialises SQLite on this thread, SQLCipher's hook included, before
    // it returns; the connection itself is not needed.
    static INITIALISED: std::sync::OnceLock<std::result::Result<(), ffi::Error>> =
        std::sync::OnceLock::new();
    let outcome = INITIALISED.get_or_init(|| {
        Connection::open_in_memory().map(drop).map_err(|e| {
            e.sqlite_error()
                .copied()
                .unwrap_or(ffi::Error::new(ffi::SQLITE_ERROR))
        })
    });
    outcome.map_err(|e| rusqlite::Error::SqliteFailure(e, None).into())
}

/// Keys `conn` and proves the key right by reading the schema: SQLCipher accepts any key and
/// fails only at the first read.
pub(crate) fn apply_key(conn: &Connection, key: &BookKey) -> Result<()> {
    // A wrong key is reported as `WrongKey`; SQLCipher's own log would print it to stderr
    // (logcat on Android) as well.
    conn.pragma_update(None, "cipher_log_level", "NONE")?;
    conn.pragma_update(None, "key", key.sql())?;
    settings(conn, "main")?;
    check_readable(conn)
}

/// The page HMAC and its key derivation use SHA-256 rather than SQLCipher's default SHA-512:
/// phones' ARMv8 cores have SHA-256 instructions (SHA-512 only from ARMv8.2), and the HMAC of
/// every page read or written was the largest cost of encryption (measured: BENCHMARKS.md).
/// Every connection to a book, and the one that encrypts a plain book, must agree.
fn settings(conn: &Connection, schema: &str) -> Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA {schema}.cipher_hmac_algorithm = HMAC_SHA256;
         PRAGMA {schema}.cipher_kdf_algorithm = PBKDF2_HMAC_SHA256;"
    ))?;
    Ok(())
}

/// Reading the schema is the first thing that fails on an encrypted file opened without its
/// key (or with the wrong one): a clear error instead of SQLite's "file is not a database".
pub(crate) fn check_readable(conn: &Connection) -> Result<()> {
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())) {
        Ok(()) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => Err(Error::WrongKey),
        Err(e) => Err(e.into()),
    }
}

/// Whether `path` holds a plain (unencrypted) SQLite database: its header is in the clear.
fn is_plain(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let n = f.read(&mut header)?;
    Ok(n == 16 && &header == b"SQLite format 3\0")
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Encrypts the plain book at `path` in place (see the module's comment).
fn encrypt_in_place(path: &Path, key: &BookKey) -> Result<()> {
    let tmp = sibling(path, ".encrypting");
    // Left by an attempt that crashed: the plain book is still the one in place.
    let _ = std::fs::remove_file(&tmp);
    sqlite_ready()?;
    {
        // CREATE: the attached database is created through this connection.
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let target = tmp
            .to_str()
            .ok_or_else(|| Error::validation("path", "must be valid UTF-8"))?;
        conn.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            params![target, key.sql()],
        )?;
        settings(&conn, "encrypted")?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        // sqlcipher_export copies tables and indexes, not the schema version.
        conn.execute_batch(&format!("PRAGMA encrypted.user_version = {version}"))?;
        conn.execute_batch("DETACH DATABASE encrypted")?;
    }
    std::fs::File::open(&tmp)?.sync_all()?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(path, suffix));
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename is durable once the directory is.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    tracing::info!("the book was encrypted in place");
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the encrypted book at `path` with its key. A plain book is
    /// encrypted in place first. A wrong key is [`Error::WrongKey`], with the file untouched.
    pub fn open_encrypted(path: impl AsRef<Path>, key: &BookKey) -> Result<Store> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        if is_plain(path)? {
            encrypt_in_place(path, key)?;
        }
        let conn = Store::connect(path)?;
        apply_key(&conn, key)?;
        Store::from_connection(
            conn,
            path,
            super::schema::CURRENT_VERSION,
            Some(key.clone()),
        )
    }
}
