//! Encryption at rest: an encrypted book holds nothing readable without its key, a wrong key is
//! a clear error that changes nothing, and a plain book becomes an encrypted one in place with
//! everything in it.

mod common;

use common::{business, client, files, holds};
use kartka_core::Error;
use kartka_core::store::{BookKey, Page, Store};

fn key(n: u8) -> BookKey {
    BookKey::new([n; 32])
}

#[test]
fn an_encrypted_book_opens_only_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.db");
    let id = {
        let mut s = Store::open_encrypted(&path, &key(7)).unwrap();
        s.init_business(business()).unwrap();
        let c = s
            .create_client(client("Зашифрована Клієнтка", &["+380671234567"]))
            .unwrap();
        s.checkpoint().unwrap();
        c.id
    };
    let bytes = files(dir.path());
    assert!(
        !holds(&bytes, "SQLite format 3"),
        "the header is in the clear"
    );
    for s in ["Зашифрована", "671234567", "Салон"] {
        assert!(!holds(&bytes, s), "{s} is readable in the file");
    }

    let before = std::fs::read(&path).unwrap();
    assert!(matches!(
        Store::open_encrypted(&path, &key(8)),
        Err(Error::WrongKey)
    ));
    assert!(matches!(Store::open(&path), Err(Error::WrongKey)));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a failed open changed the file"
    );

    let s = Store::open_encrypted(&path, &key(7)).unwrap();
    assert_eq!(s.get_client(id).unwrap().name, "Зашифрована Клієнтка");
    assert_eq!(
        s.search(
            "зашифр",
            Page {
                offset: 0,
                limit: 5
            }
        )
        .unwrap()
        .len(),
        1
    );
}

#[test]
fn a_plain_book_is_encrypted_in_place_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.db");
    let snapshot = {
        let mut s = Store::open(&path).unwrap();
        s.init_business(business()).unwrap();
        for i in 0..300 {
            s.create_client(client(
                &format!("Клієнтка Відкрита {i}"),
                &["+380501112233"],
            ))
            .unwrap();
        }
        s.projection_snapshot().unwrap()
    };
    assert!(holds(&files(dir.path()), "Відкрита"));
    // What a crash in an earlier attempt would have left beside the book.
    std::fs::write(dir.path().join("book.db.encrypting"), b"half written").unwrap();

    let s = Store::open_encrypted(&path, &key(3)).unwrap();
    assert_eq!(s.projection_snapshot().unwrap(), snapshot);
    assert_eq!(
        s.search(
            "відкрита 29",
            Page {
                offset: 0,
                limit: 50
            }
        )
        .unwrap()
        .len(),
        11
    );
    drop(s);
    assert!(!dir.path().join("book.db.encrypting").exists());
    let bytes = files(dir.path());
    assert!(!holds(&bytes, "Відкрита"));
    assert!(!holds(&bytes, "SQLite format 3"));
    assert!(matches!(Store::open(&path), Err(Error::WrongKey)));
    let mut s = Store::open_encrypted(&path, &key(3)).unwrap();
    assert_eq!(s.projection_snapshot().unwrap(), snapshot);
    s.create_client(client("Після шифрування", &[])).unwrap();
}

#[test]
fn keys_are_checked() {
    assert!(BookKey::from_hex(&"ab".repeat(32)).is_ok());
    for bad in [
        "",
        "abc",
        &"zz".repeat(32),
        &"ab".repeat(31),
        &"ab".repeat(33),
    ] {
        assert!(
            matches!(
                BookKey::from_hex(bad),
                Err(Error::Validation { field: "key", .. })
            ),
            "{bad}"
        );
    }
    assert!(BookKey::from_slice(&[1; 16]).is_err());
    assert_eq!(format!("{:?}", key(9)), "BookKey(…)");
}

/// The book's cipher settings (SHA-256 page HMAC) hold for new books and for books encrypted
/// in place: SQLCipher's defaults do not open either.
#[test]
fn books_use_sha256_page_hmacs() {
    let dir = tempfile::tempdir().unwrap();
    let opens = |path: &std::path::Path, sha256: bool| {
        let c = rusqlite::Connection::open(path).unwrap();
        c.pragma_update(None, "cipher_log_level", "NONE").unwrap();
        c.pragma_update(None, "key", format!("x'{}'", "07".repeat(32)))
            .unwrap();
        if sha256 {
            c.execute_batch(
                "PRAGMA cipher_hmac_algorithm = HMAC_SHA256;
                 PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA256;",
            )
            .unwrap();
        }
        c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .is_ok()
    };
    let fresh = dir.path().join("fresh.db");
    Store::open_encrypted(&fresh, &key(7)).unwrap();
    let migrated = dir.path().join("migrated.db");
    Store::open(&migrated).unwrap();
    Store::open_encrypted(&migrated, &key(7)).unwrap();
    for p in [&fresh, &migrated] {
        assert!(opens(p, true));
        assert!(!opens(p, false));
    }
}
