//! The storage conformance suite: every backend must pass every case here. The cases are plain
//! async functions over a [`Storage`]; `tests/conformance.rs` runs them against SQLite and
//! PostgreSQL. Documents are real Kartka documents made by the core's store.

use std::time::Duration;

use kartka_core::Store;
use kartka_core::model::{ClientPatch, NewBusiness, NewClient};
use kartka_core::sync::wire::{Chunk, Cursor};
use uuid::Uuid;

use super::{NewDevice, Storage, StorageError};
use crate::auth;

/// The PostgreSQL the tests use (`KARTKA_TEST_POSTGRES`), or `None` to skip its cases, which
/// is refused when `KARTKA_REQUIRE_POSTGRES=1` (CI and `scripts/test-all` set it): there a
/// missing PostgreSQL fails the run instead of skipping.
pub fn test_postgres_url() -> Option<String> {
    match std::env::var("KARTKA_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var("KARTKA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "KARTKA_REQUIRE_POSTGRES=1 but KARTKA_TEST_POSTGRES is not set"
            );
            eprintln!("PostgreSQL cases skipped: KARTKA_TEST_POSTGRES is not set");
            None
        }
    }
}

/// A device's book with a business and `clients` clients, and its documents ready to push.
pub struct Book {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub business: Uuid,
}

impl Book {
    pub fn new(clients: usize) -> Book {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(dir.path().join("book.db")).expect("open");
        let business = store
            .init_business(NewBusiness {
                name: "Conformance".into(),
                region: "UA".into(),
                zone: "Europe/Kyiv".into(),
                currency: "UAH".into(),
                locale: None,
            })
            .expect("init")
            .id;
        for i in 0..clients {
            store
                .create_client(NewClient {
                    name: format!("Клієнтка {i}"),
                    phones: vec![(format!("+38067{:07}", i), String::new())],
                    ..Default::default()
                })
                .expect("client");
        }
        Book {
            _dir: dir,
            store,
            business,
        }
    }

    /// Every document whole.
    pub fn chunks(&self) -> Vec<Chunk> {
        self.store
            .doc_ids()
            .expect("ids")
            .into_iter()
            .map(|doc| Chunk {
                doc,
                data: self.store.export_doc(doc).expect("export"),
            })
            .collect()
    }

    pub fn client_ids(&self) -> Vec<Uuid> {
        self.store
            .doc_ids()
            .expect("ids")
            .into_iter()
            .filter(|d| *d != self.business)
            .collect()
    }
}

fn device(name: &str) -> (NewDevice, String) {
    let token = auth::new_token();
    (
        NewDevice {
            id: Uuid::now_v7(),
            name: name.into(),
            token_hash: auth::hash(&token),
            at_ms: chrono::Utc::now().timestamp_millis(),
        },
        token,
    )
}

/// Creates the book's business on the server; returns the owner device's id.
pub async fn register<S: Storage>(s: &S, book: &Book) -> Uuid {
    let (owner, _) = device("owner");
    let id = owner.id;
    s.create_business(book.business, "Conformance", owner)
        .await
        .expect("create business");
    id
}

/// Pulls from `cursor` until `more` is false; returns every chunk and the final cursor.
pub async fn pull_all<S: Storage>(
    s: &S,
    business: Uuid,
    mut cursor: Cursor,
    exclude: Option<Uuid>,
    budget: usize,
) -> (Vec<Chunk>, Cursor, usize) {
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let p = s
            .pull(business, cursor, exclude, budget)
            .await
            .expect("pull");
        pages += 1;
        all.extend(p.chunks);
        cursor = p.cursor;
        if !p.more {
            return (all, cursor, pages);
        }
        assert!(pages < 10_000, "paging does not end");
    }
}

pub async fn businesses_devices_and_tokens<S: Storage>(s: &S) {
    let book = Book::new(0);
    let (owner, token) = device("owner");
    let owner_id = owner.id;
    s.create_business(book.business, "A", owner).await.unwrap();
    let d = s
        .device_by_token(auth::hash(&token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.id, d.business_id, d.owner, d.revoked),
        (owner_id, book.business, true, false)
    );
    assert!(
        s.device_by_token(auth::hash("nope"))
            .await
            .unwrap()
            .is_none()
    );
    let (again, _) = device("again");
    assert!(matches!(
        s.create_business(book.business, "A", again).await,
        Err(StorageError::BusinessExists)
    ));
    s.touch_device(owner_id, 1_000).await.unwrap();
    let list = s.list_devices(book.business).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].last_seen.map(|t| t.timestamp_millis()), Some(1_000));
}

pub async fn invites_are_single_use_short_lived_and_scoped<S: Storage>(s: &S) {
    let a = Book::new(0);
    let b = Book::new(0);
    let owner_a = register(s, &a).await;
    let owner_b = register(s, &b).await;
    let now = chrono::Utc::now().timestamp_millis();
    let code = auth::new_invite_code();
    s.create_invite(a.business, owner_a, auth::hash(&code), now + 60_000)
        .await
        .unwrap();
    let (dev, token) = device("phone 2");
    assert_eq!(
        s.redeem_invite(auth::hash(&code), dev).await.unwrap(),
        a.business
    );
    let joined = s
        .device_by_token(auth::hash(&token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((joined.business_id, joined.owner), (a.business, false));
    let (dev, _) = device("phone 3");
    assert!(matches!(
        s.redeem_invite(auth::hash(&code), dev).await,
        Err(StorageError::InviteInvalid)
    ));
    let expired = auth::new_invite_code();
    s.create_invite(b.business, owner_b, auth::hash(&expired), now - 1)
        .await
        .unwrap();
    let (dev, _) = device("late");
    assert!(matches!(
        s.redeem_invite(auth::hash(&expired), dev).await,
        Err(StorageError::InviteInvalid)
    ));
    assert_eq!(s.list_devices(a.business).await.unwrap().len(), 2);
    assert_eq!(s.list_devices(b.business).await.unwrap().len(), 1);
}

pub async fn revocation_is_scoped_to_the_business<S: Storage>(s: &S) {
    let a = Book::new(0);
    let b = Book::new(0);
    let owner_a = register(s, &a).await;
    let _owner_b = register(s, &b).await;
    assert!(matches!(
        s.revoke_device(b.business, owner_a, 1).await,
        Err(StorageError::NotFound)
    ));
    let listed = s.list_devices(a.business).await.unwrap();
    assert!(!listed[0].revoked);
    s.revoke_device(a.business, owner_a, 1).await.unwrap();
    assert!(s.list_devices(a.business).await.unwrap()[0].revoked);
}

pub async fn a_fresh_device_pages_through_whole_documents<S: Storage>(s: &S) {
    let book = Book::new(40);
    let owner = register(s, &book).await;
    let chunks = book.chunks();
    let sizes: usize = chunks.iter().map(|c| c.data.len()).sum();
    let out = s
        .push(book.business, Some(owner), chunks.clone())
        .await
        .unwrap();
    assert_eq!(out.accepted, 41);
    // A small budget forces many pages; every document arrives exactly as stored.
    let (pulled, cursor, pages) = pull_all(s, book.business, Cursor::Start, None, 2_000).await;
    assert!(pages > 3, "{pages} pages");
    assert_eq!(cursor, Cursor::Feed(41));
    let mut got: Vec<Uuid> = pulled.iter().map(|c| c.doc).collect();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 41);
    let pulled_size: usize = pulled.iter().map(|c| c.data.len()).sum();
    assert!(pulled_size <= sizes * 3 / 2, "{pulled_size} vs {sizes}");
    // What a fresh device builds from them equals the original.
    let dir = tempfile::tempdir().unwrap();
    let mut fresh = Store::open(dir.path().join("b.db")).unwrap();
    for c in &pulled {
        fresh.apply_remote(c.doc, &c.data).unwrap();
    }
    assert_eq!(
        fresh.projection_snapshot().unwrap(),
        book.store.projection_snapshot().unwrap()
    );
}

pub async fn the_feed_carries_only_what_is_new_and_never_echoes<S: Storage>(s: &S) {
    let mut book = Book::new(3);
    let owner = register(s, &book).await;
    s.push(book.business, Some(owner), book.chunks())
        .await
        .unwrap();
    let (_, cursor, _) = pull_all(s, book.business, Cursor::Start, None, 1 << 20).await;
    // The same push again is harmless: nothing new, no feed row.
    assert_eq!(
        s.push(book.business, Some(owner), book.chunks())
            .await
            .unwrap()
            .accepted,
        0
    );
    let idle = s.pull(book.business, cursor, None, 1 << 20).await.unwrap();
    assert!(idle.chunks.is_empty() && !idle.more);
    assert_eq!(idle.cursor, cursor);
    // One edit by another device arrives as a small run of changes.
    let client = book.client_ids()[0];
    let before = book.store.export_doc(client).unwrap();
    let before_heads = kartka_core::crdt::load_strict(client, &before)
        .unwrap()
        .get_heads();
    book.store
        .update_client(
            client,
            ClientPatch {
                comment: Some(Some("фарбування".into())),
                ..Default::default()
            },
        )
        .unwrap();
    let doc =
        kartka_core::crdt::load_strict(client, &book.store.export_doc(client).unwrap()).unwrap();
    let change = doc.save_after(&before_heads);
    let other = Uuid::now_v7();
    let out = s
        .push(
            book.business,
            Some(other),
            vec![Chunk {
                doc: client,
                data: change.clone(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(out.accepted, 1);
    let p = s
        .pull(book.business, cursor, Some(owner), 1 << 20)
        .await
        .unwrap();
    assert_eq!(p.chunks.len(), 1);
    assert_eq!(p.chunks[0].doc, client);
    assert!(
        p.chunks[0].data.len() < 400,
        "{} bytes",
        p.chunks[0].data.len()
    );
    // The device that pushed it does not get it back, but its cursor moves on.
    let own = s
        .pull(book.business, cursor, Some(other), 1 << 20)
        .await
        .unwrap();
    assert!(own.chunks.is_empty());
    assert_eq!(own.cursor, p.cursor);
    assert_ne!(own.cursor, cursor);
}

pub async fn bad_documents_are_refused_and_nothing_is_kept<S: Storage>(s: &S) {
    let book = Book::new(2);
    let owner = register(s, &book).await;
    let good = book.chunks();
    let client = book.client_ids()[0];
    let whole = book.store.export_doc(client).unwrap();
    for bad in [
        vec![0xde, 0xad, 0xbe, 0xef],
        whole[..whole.len() / 2].to_vec(),
        Vec::new(),
    ] {
        let mut batch = good.clone();
        batch.push(Chunk {
            doc: Uuid::now_v7(),
            data: bad,
        });
        let err = s.push(book.business, Some(owner), batch).await.unwrap_err();
        assert!(matches!(err, StorageError::Rejected { .. }), "{err:?}");
    }
    // All or nothing: the good chunks of the refused batches were not kept either.
    let (pulled, _, _) = pull_all(s, book.business, Cursor::Start, None, 1 << 20).await;
    assert!(pulled.is_empty());
    assert!(s.read_doc(book.business, client).await.unwrap().is_none());
    // A settings document under another id is refused.
    let other = Book::new(0);
    let err = s
        .push(
            book.business,
            Some(owner),
            vec![Chunk {
                doc: other.business,
                data: other.store.export_doc(other.business).unwrap(),
            }],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Rejected { .. }), "{err:?}");
}

pub async fn documents_of_another_business_are_out_of_reach<S: Storage>(s: &S) {
    let a = Book::new(2);
    let b = Book::new(0);
    let owner_a = register(s, &a).await;
    let owner_b = register(s, &b).await;
    s.push(a.business, Some(owner_a), a.chunks()).await.unwrap();
    let target = a.client_ids()[0];
    let stored = s.read_doc(a.business, target).await.unwrap().unwrap();
    // B pushes into A's document id: refused, A's document unchanged.
    let err = s
        .push(
            b.business,
            Some(owner_b),
            vec![Chunk {
                doc: target,
                data: a.store.export_doc(target).unwrap(),
            }],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::ForeignDocument { doc } if doc == target),
        "{err:?}"
    );
    assert_eq!(
        s.read_doc(a.business, target).await.unwrap().unwrap(),
        stored
    );
    assert!(s.read_doc(b.business, target).await.unwrap().is_none());
    let (pulled, _, _) = pull_all(s, b.business, Cursor::Start, None, 1 << 20).await;
    assert!(pulled.is_empty());
    // A business that does not exist has nothing and accepts nothing.
    assert!(matches!(
        s.push(Uuid::now_v7(), None, a.chunks()).await,
        Err(StorageError::NotFound)
    ));
}

pub async fn a_cursor_from_the_future_starts_over<S: Storage>(s: &S) {
    let book = Book::new(1);
    let owner = register(s, &book).await;
    s.push(book.business, Some(owner), book.chunks())
        .await
        .unwrap();
    let p = s
        .pull(book.business, Cursor::Feed(1_000), None, 1 << 20)
        .await
        .unwrap();
    assert_eq!((p.cursor, p.more), (Cursor::Full(0), true));
}

pub async fn pushes_are_announced<S: Storage>(s: &S) {
    let book = Book::new(1);
    let owner = register(s, &book).await;
    let mut rx = s.subscribe();
    s.push(book.business, Some(owner), book.chunks())
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match rx.recv().await {
                Ok(b) if b == book.business => return b,
                Ok(_) => continue,
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("announced");
    assert_eq!(got, book.business);
}

/// Many concurrent pushers: every change lands once, the feed has no gaps, and a reader
/// following the feed misses nothing.
pub async fn concurrent_pushes_make_a_gapless_feed<S: Storage + Clone>(s: &S) {
    let book = Book::new(20);
    let owner = register(s, &book).await;
    let chunks = book.chunks();
    let mut tasks = Vec::new();
    for c in chunks.clone() {
        let s = s.clone();
        let business = book.business;
        tasks.push(tokio::spawn(async move {
            s.push(business, Some(owner), vec![c])
                .await
                .unwrap()
                .accepted
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    assert_eq!(accepted, 21);
    let (feed, cursor, _) = pull_all(s, book.business, Cursor::Feed(0), None, 1 << 20).await;
    assert_eq!(cursor, Cursor::Feed(21));
    let mut docs: Vec<Uuid> = feed.iter().map(|c| c.doc).collect();
    docs.sort();
    docs.dedup();
    assert_eq!(docs.len(), 21);
}

/// The server writes into a client's document as its own actor (a delivery status); the device
/// that owns the card pulls it like any other change and shows it in the history.
pub async fn server_writes_reach_devices<S: Storage>(s: &S) {
    use kartka_core::model::{Channel, MessageKind, MessageRecord, MessageStatus};

    let mut book = Book::new(1);
    let owner = register(s, &book).await;
    s.push(book.business, Some(owner), book.chunks())
        .await
        .unwrap();
    let (_, cursor, _) = pull_all(s, book.business, Cursor::Start, Some(owner), 1 << 20).await;
    let client = book.client_ids()[0];
    let writer = crate::writer::ServerWriter::default();
    let at = chrono::Utc::now();
    let msg = MessageRecord {
        id: Uuid::now_v7(),
        client_id: client,
        channel: Channel::Sms,
        kind: MessageKind::Automatic,
        body: "Нагадуємо про візит".into(),
        at,
        staff_id: None,
        device_id: None,
        visit_id: None,
        template_id: None,
        rule_id: None,
        status: MessageStatus::Sent,
        status_at: at,
        detail: None,
    };
    let m = msg.clone();
    let done = writer
        .edit(s, book.business, client, |doc| {
            kartka_core::crdt::client::put_message(doc, &m)
        })
        .await
        .unwrap();
    assert!(done.is_some());
    // Not this business's document: nothing to edit.
    let other = writer
        .edit(s, Uuid::now_v7(), client, |_| Ok(()))
        .await
        .unwrap();
    assert!(other.is_none());
    let p = s
        .pull(book.business, cursor, Some(owner), 1 << 20)
        .await
        .unwrap();
    assert_eq!(p.chunks.len(), 1);
    assert!(book.store.apply_remote(client, &p.chunks[0].data).unwrap());
    let history = book.store.history(client).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].status, MessageStatus::Sent);
    assert_eq!(history[0].body, "Нагадуємо про візит");
}

/// Concurrent pushes, one of them garbage: the garbage is refused alone, every other push lands
/// (PostgreSQL commits concurrent pushes of a business together; each stays all-or-nothing).
pub async fn a_bad_push_among_concurrent_ones_is_refused_alone<S: Storage + Clone>(s: &S) {
    let book = Book::new(10);
    let owner = register(s, &book).await;
    let mut tasks = Vec::new();
    for (n, c) in book.chunks().into_iter().enumerate() {
        let s = s.clone();
        let business = book.business;
        let chunk = if n == 5 {
            Chunk {
                doc: c.doc,
                data: b"garbage".to_vec(),
            }
        } else {
            c
        };
        tasks.push(tokio::spawn(async move {
            s.push(business, Some(owner), vec![chunk]).await
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(o) => ok += o.accepted,
            Err(StorageError::Rejected { .. }) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((ok, refused), (10, 1));
    let (feed, cursor, _) = pull_all(s, book.business, Cursor::Feed(0), None, 1 << 20).await;
    assert_eq!(cursor, Cursor::Feed(10));
    assert_eq!(feed.len(), 10);
}

/// Who wrote to an address, per business, and the messages kept for no business.
pub async fn who_wrote_where_and_what_is_kept_for_no_business<S: Storage>(s: &S) {
    use super::outbox::{Unattributed, Writer};
    let (a, b) = (Book::new(1), Book::new(1));
    let by = register(s, &a).await;
    register(s, &b).await;
    s.push(a.business, Some(by), a.chunks())
        .await
        .expect("push");
    let client_of = |book: &Book| {
        book.store
            .doc_ids()
            .expect("ids")
            .into_iter()
            .find(|d| *d != book.business)
            .expect("a client")
    };
    let (ca, cb) = (client_of(&a), client_of(&b));
    // Unique per run: PostgreSQL keeps what earlier runs wrote.
    let address = format!("+38099{:07}", rand::random::<u32>() % 10_000_000);
    let wrote = |business, client, visit, at_ms| Writer {
        address: address.clone(),
        channel: "sms".into(),
        business,
        client,
        visit,
        at_ms,
    };
    let visit = Uuid::now_v7();
    s.note_writer(wrote(a.business, ca, None, 1_000))
        .await
        .expect("note");
    s.note_writer(wrote(b.business, cb, None, 2_000))
        .await
        .expect("note");
    // A writes again: its own row moves, B's is left alone.
    s.note_writer(wrote(a.business, ca, Some(visit), 3_000))
        .await
        .expect("note");
    let ws = s.writers(address.clone()).await.expect("writers");
    assert_eq!(
        ws,
        vec![
            wrote(a.business, ca, Some(visit), 3_000),
            wrote(b.business, cb, None, 2_000)
        ],
        "one row per business, the latest first"
    );

    let kept = |id: &str, channel: &str, at_ms| Unattributed {
        provider_id: id.into(),
        address: address.clone(),
        channel: channel.into(),
        contact_kind: "phone".into(),
        body: "Так".into(),
        name: None,
        at_ms,
    };
    let id = |n: &str| format!("{address}:{n}");
    assert!(
        s.keep_unattributed(kept(&id("2"), "sms", 20))
            .await
            .expect("keep")
    );
    assert!(
        s.keep_unattributed(kept(&id("1"), "sms", 10))
            .await
            .expect("keep")
    );
    assert!(
        !s.keep_unattributed(kept(&id("1"), "sms", 10))
            .await
            .expect("keep"),
        "a redelivery is kept once"
    );
    assert!(
        s.keep_unattributed(kept(&id("3"), "whatsapp", 30))
            .await
            .expect("keep")
    );
    let taken = s
        .take_unattributed(address.clone(), "sms".into())
        .await
        .expect("take");
    assert_eq!(
        taken,
        vec![kept(&id("1"), "sms", 10), kept(&id("2"), "sms", 20)]
    );
    assert!(
        s.take_unattributed(address.clone(), "sms".into())
            .await
            .expect("take")
            .is_empty(),
        "taken once"
    );
    assert_eq!(
        s.take_unattributed(address.clone(), "whatsapp".into())
            .await
            .expect("take")
            .len(),
        1
    );

    // Forgetting A's client forgets that A wrote to it; B's row stays.
    assert_eq!(
        s.erase(a.business, by, vec![ca], 4_000)
            .await
            .expect("erase"),
        1
    );
    let ws = s.writers(address.clone()).await.expect("writers");
    assert_eq!(ws, vec![wrote(b.business, cb, None, 2_000)]);
}
