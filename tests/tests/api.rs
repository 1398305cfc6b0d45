//! The server's HTTP API against hostile and unlucky input, scoping between businesses, live
//! updates, conflict resolution and shutdown — all over loopback against a real server process.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ActorId, ROOT, ReadDoc};
use kartka_core::model::{Channel, ClientPatch, ConsentSource, ConsentSubject, NewClient};
use kartka_core::sync::wire::{self, Chunk, Cursor, SyncRequest, SyncResponse};
use kartka_core::{Error, sync};
use kartka_tests::{Device, Server, converge, error_code, raw_sync};
use uuid::Uuid;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_server-under-test"))
}

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(bin(), dir.path());
    (dir, s)
}

fn add_client(d: &Device, name: &str) -> Uuid {
    d.with(|s| {
        s.create_client(NewClient {
            name: name.into(),
            phones: vec![("+380671234567".into(), String::new())],
            ..Default::default()
        })
        .unwrap()
        .id
    })
}

/// Everything the server holds for the token's business, as a fresh device would get it.
fn server_state(url: &str, token: &str) -> BTreeMap<Uuid, Vec<u8>> {
    let mut cursor = Cursor::Start;
    let mut docs = BTreeMap::new();
    loop {
        let (status, body) = raw_sync(
            url,
            token,
            wire::encode(&SyncRequest {
                cursor,
                push: vec![],
            }),
        );
        assert_eq!(status, 200);
        let resp: SyncResponse = wire::decode(&body).unwrap();
        for c in resp.pull {
            docs.entry(c.doc).or_insert_with(Vec::new).extend(c.data);
        }
        cursor = resp.cursor;
        if !resp.more {
            return docs;
        }
    }
}

#[test]
fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let (_dir, server) = server();
    let owner = Device::owner(&server.url);
    let client = add_client(&owner, "Олена");
    owner.sync().unwrap();
    let token = owner.token();
    let before = server_state(&server.url, &token);
    assert_eq!(before.len(), 2);

    let good = SyncRequest {
        cursor: Cursor::Start,
        push: vec![],
    };
    let encoded = wire::encode(&good);
    let whole = owner.with(|s| s.export_doc(client).unwrap());
    let push = |data: Vec<u8>, doc: Uuid| {
        wire::encode(&SyncRequest {
            cursor: Cursor::Start,
            push: vec![Chunk { doc, data }],
        })
    };
    let mut trailing = encoded.clone();
    trailing.push(7);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty body", vec![], 400, "bad_body"),
        ("unknown version", vec![99, 0, 0], 400, "bad_body"),
        (
            "truncated encoding",
            push(whole.clone(), client)[..20].to_vec(),
            400,
            "bad_body",
        ),
        ("trailing bytes", trailing, 400, "bad_body"),
        (
            "garbage automerge",
            push(b"not automerge at all".to_vec(), client),
            422,
            "document_rejected",
        ),
        (
            "truncated document",
            push(whole[..whole.len() - 9].to_vec(), Uuid::now_v7()),
            422,
            "document_rejected",
        ),
        (
            "empty chunk",
            push(vec![], Uuid::now_v7()),
            422,
            "document_rejected",
        ),
    ];
    for (what, body, status, code) in cases {
        let (got, resp) = raw_sync(&server.url, &token, body);
        assert_eq!((got, error_code(&resp).as_str()), (status, code), "{what}");
    }
    // Oversized: refused from its declared length, before a byte of it is read. The server
    // answers 413 and closes while this client is still writing the 9 MiB, so the client sees
    // the 413 or, when the close reaches it first, a connection cut mid-write: either way the
    // body was refused (a device never sends this much: it pushes ~1 MiB at a time). That no
    // byte is read first is sync-server/tests/walls.rs's, on a raw socket.
    let oversized = reqwest::blocking::Client::new()
        .post(format!("{}/v1/sync", server.url))
        .bearer_auth(&token)
        .header("content-type", kartka_core::sync::wire::MEDIA_TYPE)
        .body(vec![1u8; 9 << 20])
        .send();
    match oversized {
        Ok(resp) => assert_eq!(resp.status().as_u16(), 413),
        Err(e) => assert!(cut_mid_write(&e), "not refused by the server: {e:?}"),
    }
    // No token, a malformed token, a well-formed unknown token.
    for t in ["", "short", &"ab".repeat(32)] {
        let (got, resp) = raw_sync(&server.url, t, encoded.clone());
        assert_eq!((got, error_code(&resp).as_str()), (401, "unauthorized"));
    }
    assert_eq!(server_state(&server.url, &token), before);
    // The device itself still syncs normally.
    owner.sync().unwrap();
}

/// The server closed the connection while the request was being written (a reset or a broken
/// pipe), as opposed to any other failure such as no server at all.
fn cut_mid_write(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            );
        }
        source = s.source();
    }
    false
}

/// `POST /v1/sync` with a zstd body of our own and no automatic inflation of the answer:
/// (status, content-encoding of the answer, body as sent).
fn zstd_sync(url: &str, token: &str, encoding: &str, body: Vec<u8>) -> (u16, String, Vec<u8>) {
    let resp = reqwest::blocking::Client::builder()
        .no_zstd()
        .build()
        .unwrap()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .header("content-type", wire::MEDIA_TYPE)
        .header("content-encoding", encoding)
        .header("accept-encoding", "zstd")
        .body(body)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    let enc = resp
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, enc, resp.bytes().unwrap().to_vec())
}

#[test]
fn sync_bodies_travel_zstd_compressed_and_bombs_are_refused() {
    let (_dir, server) = server();
    let owner = Device::owner(&server.url);
    for i in 0..10 {
        add_client(&owner, &format!("Клієнт {i}"));
    }
    owner.sync().unwrap();
    let token = owner.token();
    // A compressed push of a new client's document is accepted, and the full answer comes back
    // compressed to a client that accepts zstd.
    let client = add_client(&owner, "Ганна Шевчук");
    let data = owner.with(|s| s.export_doc(client).unwrap());
    let push = wire::encode(&SyncRequest {
        cursor: Cursor::Start,
        push: vec![Chunk { doc: client, data }],
    });
    let z = zstd::bulk::compress(&push, 3).unwrap();
    let (status, enc, body) = zstd_sync(&server.url, &token, "zstd", z);
    assert_eq!((status, enc.as_str()), (200, "zstd"));
    let answer: SyncResponse = wire::decode(&zstd::stream::decode_all(&body[..]).unwrap()).unwrap();
    assert_eq!(answer.accepted, 1);
    assert!(answer.pull.iter().any(|c| c.doc == client));
    assert!(server_state(&server.url, &token).contains_key(&client));

    let before = server_state(&server.url, &token);
    // 64 MiB of zeros in a few kilobytes: refused by the inflated size, with a JSON error.
    let bomb = zstd::bulk::compress(&vec![0u8; 64 << 20], 19).unwrap();
    assert!(bomb.len() < 64 << 10);
    let (status, _, body) = zstd_sync(&server.url, &token, "zstd", bomb);
    assert_eq!((status, error_code(&body).as_str()), (413, "too_large"));
    // A frame that does not inflate.
    let (status, _, body) = zstd_sync(
        &server.url,
        &token,
        "zstd",
        b"\x28\xb5\x2f\xfd garbage".to_vec(),
    );
    assert_eq!((status, error_code(&body).as_str()), (400, "bad_body"));
    // An encoding the server does not speak.
    let (status, _, _) = zstd_sync(&server.url, &token, "br", push);
    assert_eq!(status, 415);
    assert_eq!(server_state(&server.url, &token), before);
    // The device's own client compresses its pushes and still syncs.
    for i in 0..20 {
        add_client(&owner, &format!("Клієнтка {i}"));
    }
    owner.sync().unwrap();
    assert_eq!(server_state(&server.url, &token).len(), before.len() + 20);
    // A small answer (nothing new to this device) goes out as it is.
    let idle = wire::encode(&SyncRequest {
        cursor: answer.cursor,
        push: vec![],
    });
    let (status, enc, body) = zstd_sync(&server.url, &token, "identity", idle);
    assert_eq!((status, enc.as_str()), (200, ""));
    assert!(body.len() < 64, "the device's own pushes never come back");
}

/// A server (or proxy) that refuses compressed bodies: the client repeats the request plain and
/// sends plain from then on. The server is a bare HTTP/1.1 responder on loopback that records
/// each request's Content-Encoding.
#[test]
fn a_server_that_refuses_compressed_bodies_gets_plain_ones() {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        let ok = wire::encode(&SyncResponse {
            cursor: Cursor::Start,
            more: false,
            pull: vec![],
            accepted: 1,
            total_docs: None,
        });
        for conn in listener.incoming() {
            let mut conn = BufReader::new(conn.unwrap());
            let (mut length, mut encoding) = (0usize, "plain".to_string());
            loop {
                let mut line = String::new();
                conn.read_line(&mut line).unwrap();
                let line = line.trim_end().to_ascii_lowercase();
                if line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if let Some(v) = line.strip_prefix("content-encoding:") {
                    encoding = v.trim().to_string();
                }
            }
            let mut body = vec![0; length];
            conn.read_exact(&mut body).unwrap();
            let refused = encoding != "plain";
            log.lock().unwrap().push(encoding);
            let mut out = conn.into_inner();
            if refused {
                out.write_all(b"HTTP/1.1 415 Unsupported Media Type\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .unwrap();
            } else {
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    wire::MEDIA_TYPE,
                    ok.len()
                )
                .unwrap();
                out.write_all(&ok).unwrap();
            }
        }
    });
    let remote = sync::remote::Remote::new(&url, Some("ab".repeat(32))).unwrap();
    let big = SyncRequest {
        cursor: Cursor::Start,
        push: vec![Chunk {
            doc: Uuid::now_v7(),
            data: vec![7; 4096],
        }],
    };
    assert_eq!(remote.sync(&big, None).unwrap().accepted, 1);
    assert_eq!(remote.sync(&big, None).unwrap().accepted, 1);
    assert_eq!(*seen.lock().unwrap(), ["zstd", "plain", "plain"]);
}

#[test]
fn every_endpoint_is_scoped_to_the_tokens_business() {
    let (_dir, server) = server();
    let a = Device::owner(&server.url);
    let a_phone = Device::join(&server.url, &a);
    let a_client = add_client(&a, "Клієнтка А");
    a.sync().unwrap();
    let b = Device::owner(&server.url);
    add_client(&b, "Клієнтка Б");
    b.sync().unwrap();
    let remote_b = b.with(|s| sync::remote_of(s).unwrap());

    // Devices: B sees only its own, and cannot revoke A's.
    let listed = remote_b.devices().unwrap();
    assert_eq!(listed.len(), 1);
    let a_phone_id = a_phone.with(|s| s.sync_config().unwrap().unwrap().device_id);
    match remote_b.revoke(a_phone_id) {
        Err(Error::Server { status: 404, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(
        !a.with(|s| sync::remote_of(s).unwrap())
            .devices()
            .unwrap()
            .iter()
            .any(|d| d.revoked)
    );
    // Sync: B pulls only B's documents, and cannot push into A's.
    let b_docs = server_state(&server.url, &b.token());
    assert!(!b_docs.contains_key(&a_client));
    assert_eq!(b_docs.len(), 2);
    let stolen = a.with(|s| s.export_doc(a_client).unwrap());
    let (status, body) = raw_sync(
        &server.url,
        &b.token(),
        wire::encode(&SyncRequest {
            cursor: Cursor::Start,
            push: vec![Chunk {
                doc: a_client,
                data: stolen,
            }],
        }),
    );
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "foreign_document")
    );
    // Invites: B's code joins B, never A.
    let joined = Device::join(&server.url, &b);
    joined.sync().unwrap();
    assert_eq!(
        joined.with(|s| s.business().unwrap().id),
        b.with(|s| s.business().unwrap().id)
    );
    // Owner-only endpoints refuse a plain device.
    let remote_phone = a_phone.with(|s| sync::remote_of(s).unwrap());
    for r in [
        remote_phone.invite().map(|_| ()),
        remote_phone.revoke(a_phone_id),
    ] {
        match r {
            Err(Error::Server {
                status: 403, code, ..
            }) => assert_eq!(code, "owner_only"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_revoked_device_is_refused_and_codes_are_single_use() {
    let (_dir, server) = server();
    let owner = Device::owner(&server.url);
    let code = owner.with(|s| sync::invite(s).unwrap().code);
    let phone = Device::empty();
    phone.with(|s| sync::join(s, &server.url, &code, "phone").unwrap());
    let again = Device::empty();
    match again.with(|s| sync::join(s, &server.url, &code, "again")) {
        Err(Error::Server {
            status: 404, code, ..
        }) => assert_eq!(code, "invite_invalid"),
        other => panic!("{other:?}"),
    }
    phone.sync().unwrap();
    let id = phone.with(|s| s.sync_config().unwrap().unwrap().device_id);
    owner.with(|s| sync::remote_of(s).unwrap().revoke(id).unwrap());
    // The revoked token is refused; told so, the device erases its copy of the business.
    let (_, body) = kartka_tests::raw_sync(&server.url, &phone.token(), vec![]);
    assert_eq!(kartka_tests::error_code(&body), "device_revoked");
    match phone.sync() {
        Err(Error::Revoked) => {}
        other => panic!("{other:?}"),
    }
    let listed = owner.with(|s| sync::remote_of(s).unwrap().devices().unwrap());
    assert!(listed.iter().any(|d| d.id == id && d.revoked));
    phone.with(|s| {
        assert!(matches!(s.business(), Err(Error::NotInitialized)));
        assert!(s.sync_config().unwrap().is_none());
        assert!(kartka_tests::client_ids(s).is_empty());
    });
    assert!(matches!(phone.sync(), Err(Error::NotPaired)));
}

/// A lost phone: once revoked, its next contact with the server erases every byte of the
/// business's clients from the book's files (the database, its WAL), not just the rows.
#[test]
fn a_revoked_device_erases_every_byte_of_its_clients() {
    let (_dir, server) = server();
    let owner = Device::owner(&server.url);
    let code = owner.with(|s| sync::invite(s).unwrap().code);
    let phone = Device::empty();
    phone.with(|s| sync::join(s, &server.url, &code, "lost phone").unwrap());
    let secrets = [
        "Секретна Клієнтка",
        "+380931112233",
        "secret.client@example.com",
    ];
    owner.with(|s| {
        for i in 0..200 {
            s.create_client(kartka_core::model::NewClient {
                name: format!("{} {i}", secrets[0]),
                phones: vec![(format!("+38093{:07}", 1112233 + i), String::new())],
                email: Some(format!("{i}.{}", secrets[2])),
                ..Default::default()
            })
            .unwrap();
        }
    });
    owner.sync().unwrap();
    phone.sync().unwrap();
    let files = |d: &Device| kartka_tests::bytes_under(d.dir.path());
    let contains = kartka_tests::holds;
    assert!(
        contains(&files(&phone), secrets[0]),
        "the book held the clients"
    );
    let id = phone.with(|s| s.sync_config().unwrap().unwrap().device_id);
    owner.with(|s| sync::remote_of(s).unwrap().revoke(id).unwrap());
    assert!(matches!(phone.sync(), Err(Error::Revoked)));
    let after = files(&phone);
    for s in ["Секретна", "secret.client", "931112233", "1112233"] {
        assert!(!contains(&after, s), "{s} is still in the book's files");
    }
}

#[test]
fn pairing_is_rate_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        Server::start_configured(bin(), dir.path(), &[], "[limits]\npairing_per_minute = 2\n");
    let _a = Device::owner(&server.url);
    let _b = Device::owner(&server.url);
    let c = Device::empty();
    c.with(|s| s.init_business(kartka_tests::business()).unwrap());
    match c.with(|s| sync::create_business(s, &server.url, "third")) {
        Err(Error::Server {
            status: 429, code, ..
        }) => assert_eq!(code, "rate_limited"),
        other => panic!("{other:?}"),
    }
}

/// Behind a trusted proxy the pairing limit counts the clients the proxy names, not the proxy;
/// from anyone else the forwarded-for header is ignored.
#[test]
fn behind_a_trusted_proxy_the_pairing_limit_counts_clients() {
    let join = |url: &str, forwarded: &str| -> u16 {
        reqwest::blocking::Client::new()
            .post(format!("{url}/v1/join"))
            .header("x-forwarded-for", forwarded)
            .json(&serde_json::json!({"code": "AAAAAAAAAA", "device_name": "x"}))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let dir = tempfile::tempdir().unwrap();
    let trusted = Server::start_configured(
        bin(),
        dir.path(),
        &[],
        "[limits]\npairing_per_minute = 2\n[proxy]\ntrusted = [\"127.0.0.1\"]\n",
    );
    // Two clients behind the proxy, two attempts each: none is limited (unknown code: 404).
    for client in ["198.51.100.1", "198.51.100.2"] {
        for _ in 0..2 {
            assert_eq!(join(&trusted.url, client), 404);
        }
    }
    assert_eq!(join(&trusted.url, "198.51.100.1"), 429);

    let dir = tempfile::tempdir().unwrap();
    let untrusted =
        Server::start_configured(bin(), dir.path(), &[], "[limits]\npairing_per_minute = 2\n");
    let statuses: Vec<u16> = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .iter()
        .map(|c| join(&untrusted.url, c))
        .collect();
    assert_eq!(
        statuses,
        [404, 404, 429],
        "a forged header bought more attempts"
    );
}

#[test]
fn sync_is_rate_limited_per_device() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_configured(
        bin(),
        dir.path(),
        &[],
        "[limits]\npairing_per_minute = 100\nsync_per_second = 1\n",
    );
    let a = Device::owner(&server.url);
    let token = a.token();
    let idle = wire::encode(&SyncRequest {
        cursor: Cursor::Feed(0),
        push: vec![],
    });
    let statuses: Vec<u16> = (0..6)
        .map(|_| raw_sync(&server.url, &token, idle.clone()).0)
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    // Another device of the same business has a bucket of its own.
    let b = Device::join(&server.url, &a);
    let (status, _) = raw_sync(&server.url, &b.token(), idle);
    assert_eq!(status, 200);
}

#[test]
fn a_waiting_device_gets_a_change_made_elsewhere() {
    let (_dir, server) = server();
    let a = Device::owner(&server.url);
    let b = Device::join(&server.url, &a);
    converge(&[&a, &b]);
    let waiter = std::thread::spawn(move || {
        // Nothing is new: this waits on the server until A's change lands. Were it not woken,
        // it would return empty after the wait.
        let r = sync::sync_and_wait(&b.store, Duration::from_secs(25)).unwrap();
        (r, b)
    });
    std::thread::sleep(Duration::from_millis(300));
    let id = add_client(&a, "Нова клієнтка");
    a.sync().unwrap();
    let (report, b) = waiter.join().unwrap();
    assert_eq!(report.pulled, 1);
    assert_eq!(report.changed_clients, vec![id]);
    assert_eq!(b.with(|s| s.get_client(id).unwrap().name), "Нова клієнтка");
}

#[test]
fn concurrent_edits_resolve_the_same_everywhere_and_withdrawal_wins() {
    let (_dir, server) = server();
    let a = Device::owner(&server.url);
    let b = Device::join(&server.url, &a);
    let id = add_client(&a, "Олена");
    let sms = ConsentSubject::Channel(Channel::Sms);
    a.with(|s| {
        s.set_consent(id, sms, true, ConsentSource::Written, "form")
            .unwrap()
    });
    converge(&[&a, &b]);
    // Both offline: the same field edited differently; SMS withdrawn on A, re-granted on B.
    a.with(|s| {
        s.update_client(
            id,
            ClientPatch {
                comment: Some(Some("з A".into())),
                ..Default::default()
            },
        )
        .unwrap();
        s.set_consent(id, sms, false, ConsentSource::Verbal, "asked to stop")
            .unwrap();
    });
    b.with(|s| {
        s.update_client(
            id,
            ClientPatch {
                comment: Some(Some("з B".into())),
                ..Default::default()
            },
        )
        .unwrap();
        s.set_consent(id, sms, true, ConsentSource::Written, "renewed")
            .unwrap();
    });
    b.sync().unwrap();
    let report = a.sync().unwrap();
    assert_eq!(report.concurrent, 1);
    converge(&[&a, &b]);
    let fresh = Device::join(&server.url, &a);
    fresh.sync().unwrap();
    let comment = a.with(|s| s.get_client(id).unwrap().comment);
    assert!(comment.as_deref() == Some("з A") || comment.as_deref() == Some("з B"));
    for d in [&a, &b, &fresh] {
        assert_eq!(d.with(|s| s.get_client(id).unwrap().comment), comment);
        assert!(!d.with(|s| s.consent(id).unwrap().granted(Channel::Sms)));
        assert_eq!(d.with(|s| s.consent(id).unwrap().evidence.len()), 3);
    }
}

#[test]
fn fields_of_a_newer_schema_survive_an_older_device() {
    let (_dir, server) = server();
    let a = Device::owner(&server.url);
    let old = Device::join(&server.url, &a);
    let id = add_client(&a, "Олена");
    converge(&[&a, &old]);
    // A newer app version writes a field this code does not know, as its own actor.
    let bytes = a.with(|s| s.export_doc(id).unwrap());
    let mut doc = automerge::Automerge::load(&bytes)
        .unwrap()
        .with_actor(ActorId::random());
    let heads = doc.get_heads();
    let mut tx = doc.transaction();
    tx.put(ROOT, "loyalty_tier_v2", "gold").unwrap();
    tx.commit();
    let change = doc.save_after(&heads);
    let (status, _) = raw_sync(
        &server.url,
        &a.token(),
        wire::encode(&SyncRequest {
            cursor: Cursor::Start,
            push: vec![Chunk {
                doc: id,
                data: change,
            }],
        }),
    );
    assert_eq!(status, 200);
    // The older device reads it, edits the card, and syncs back.
    old.sync().unwrap();
    old.with(|s| {
        s.update_client(
            id,
            ClientPatch {
                comment: Some(Some("стара версія".into())),
                ..Default::default()
            },
        )
        .unwrap()
    });
    converge(&[&a, &old]);
    let fresh = Device::join(&server.url, &a);
    fresh.sync().unwrap();
    let doc = automerge::Automerge::load(&fresh.with(|s| s.export_doc(id).unwrap())).unwrap();
    let tier = doc
        .get(ROOT, "loyalty_tier_v2")
        .unwrap()
        .map(|(v, _)| v.to_string());
    assert_eq!(tier.as_deref(), Some("\"gold\""));
    assert_eq!(
        fresh.with(|s| s.get_client(id).unwrap().comment).as_deref(),
        Some("стара версія")
    );
}

#[test]
fn health_metrics_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let admin = format!("127.0.0.1:{}", Server::free_port());
    let mut server = Server::start_configured(
        bin(),
        dir.path(),
        &[],
        &format!("[admin]\nbind = \"{admin}\"\n"),
    );
    let http = reqwest::blocking::Client::new();
    let health = http.get(format!("{}/healthz", server.url)).send().unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    // Metrics are the operator's: on the admin address, not the public port.
    let public = http.get(format!("{}/metrics", server.url)).send().unwrap();
    assert_eq!(public.status(), 404);
    let a = Device::owner(&server.url);
    let b = Device::join(&server.url, &a);
    add_client(&a, "Олена");
    converge(&[&a, &b]);
    let metrics = http
        .get(format!("http://{admin}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("kartka_http_requests_total{route=\"/v1/sync\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kartka_docs_accepted_total 2"),
        "{metrics}"
    );
    // A long-poll in flight is answered when the server stops, and the server exits cleanly.
    let waiter = std::thread::spawn(move || sync::sync_and_wait(&b.store, Duration::from_secs(25)));
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.terminate().success());
    let r = waiter.join().unwrap().unwrap();
    assert_eq!(r.pulled, 0);
}
