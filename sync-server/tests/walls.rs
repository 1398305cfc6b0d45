//! Walls between businesses on one server, tried from the attacker's side with the providers'
//! real signatures: two businesses each have a client with the same number on the server's
//! shared SMS number, and a reply from that number must reach exactly one of them, or none.
//! Every case runs on SQLite and on PostgreSQL (`KARTKA_TEST_POSTGRES`).

mod common;

use common::served::{Served, serve, serve_with, twilio_sign};
use common::{World, local};
use kartka_core::model::{Channel, ConsentSubject, MessageKind, VisitStatus};
use kartka_server::config::Sender;
use kartka_server::storage::Storage;
use kartka_server::storage::sqlite::SqliteStorage;
use uuid::Uuid;

/// A number of its own per case: on PostgreSQL every case shares one database, and who wrote
/// to a number is remembered across them.
fn number() -> String {
    format!("+38067{:07}", rand::random::<u32>() % 10_000_000)
}
/// The server's shared Twilio number (the gateway's `from` in `common::gateways`).
const SHARED: &str = "+15550000001";

/// A business on `storage` with a client at `number` (SMS consent) booked for tomorrow.
async fn business<S: Storage>(storage: &S, name: &str, number: &str) -> (World<S>, Uuid, Uuid) {
    let mut w = World::new(storage.clone()).await;
    let c = w.client(name, number, &[Channel::Sms]);
    let v = w.visit(c, local(1, 10, 0));
    // Seen before any rule: the business has not written about it.
    w.round().await;
    (w, c, v)
}

/// The business books its client a second visit, the day after tomorrow, and writes to them
/// about it ("you are booked") through its gateway. Returns that visit: the one it asked about.
async fn writes<S: Storage>(w: &mut World<S>, client: Uuid) -> Uuid {
    let t = w.template("booked", "Вас записано на {visit_time}", None);
    w.rule("visit_created", 0, &[Channel::Sms], t, false);
    let v = w.visit(client, local(2, 12, 0));
    w.round().await;
    assert_eq!(w.providers.count(), 1, "the business wrote");
    v
}

async fn sms(served: &Served, from: &str, sid: &str, to: &str, text: &str) {
    let url = format!("{}/v1/hooks/twilio/inbound", served.url);
    let sid = format!("{sid}{}", &from[4..]);
    let p = [
        ("MessageSid", sid.as_str()),
        ("From", from),
        ("To", to),
        ("Body", text),
    ];
    assert_eq!(served.twilio(&url, &p, &twilio_sign(&url, &p)).await, 200);
}

fn inbound<S: Storage>(w: &World<S>, client: Uuid) -> Vec<String> {
    w.book
        .history(client)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MessageKind::Inbound)
        .map(|m| m.body)
        .collect()
}

fn status<S: Storage>(w: &World<S>, visit: Uuid) -> VisitStatus {
    w.book.get_visit(visit).unwrap().status
}

async fn a_yes_on_the_shared_number_confirms_only_the_visit_of_the_business_that_asked<
    S: Storage,
>(
    storage: S,
) {
    let n = number();
    let (mut a, ca, va) = business(&storage, "Олена", &n).await;
    let (mut b, cb, vb) = business(&storage, "Олена К.", &n).await;
    b.round().await;
    let asked = writes(&mut a, ca).await;
    assert_eq!(a.providers.received()[0].to, n);
    let served = serve(&a).await;

    sms(&served, &n, "SMwall1", SHARED, "Так").await;
    a.sync().await;
    b.sync().await;
    assert_eq!(status(&a, asked), VisitStatus::Confirmed);
    assert_eq!(
        status(&a, va),
        VisitStatus::Booked,
        "the sooner visit was not asked about"
    );
    assert_eq!(inbound(&a, ca), ["Так"]);
    assert_eq!(
        status(&b, vb),
        VisitStatus::Booked,
        "the other business's visit"
    );
    assert!(
        inbound(&b, cb).is_empty(),
        "nothing of it in the other book"
    );
}

async fn a_message_no_business_asked_for_is_kept_for_none_until_one_writes<S: Storage>(storage: S) {
    let n = number();
    let (mut a, ca, va) = business(&storage, "Олена", &n).await;
    let (mut b, cb, vb) = business(&storage, "Олена К.", &n).await;
    a.round().await;
    b.round().await;
    let served = serve(&a).await;

    sms(&served, &n, "SMwall2", SHARED, "Так").await;
    sms(&served, &n, "SMwall2", SHARED, "Так").await; // Twilio delivers it again
    a.sync().await;
    b.sync().await;
    assert!(inbound(&a, ca).is_empty() && inbound(&b, cb).is_empty());
    assert_eq!(status(&a, va), VisitStatus::Booked);
    assert_eq!(status(&b, vb), VisitStatus::Booked);

    // B writes to the number: the kept message is B's now, once, and answers nothing it was
    // sent before B asked.
    let asked = writes(&mut b, cb).await;
    b.sync().await;
    a.sync().await;
    assert_eq!(inbound(&b, cb), ["Так"]);
    assert_eq!(status(&b, vb), VisitStatus::Booked);
    assert_eq!(status(&b, asked), VisitStatus::Booked);
    assert!(inbound(&a, ca).is_empty());
}

async fn stop_withdraws_consent_in_every_business_that_wrote_and_only_there<S: Storage>(
    storage: S,
) {
    let n = number();
    let (mut a, ca, _) = business(&storage, "Олена", &n).await;
    let (mut b, cb, _) = business(&storage, "Олена К.", &n).await;
    let (mut c, cc, _) = business(&storage, "Олена Ш.", &n).await;
    c.round().await;
    writes(&mut a, ca).await;
    writes(&mut b, cb).await;
    let served = serve(&a).await;

    sms(&served, &n, "SMwall3", SHARED, "STOP").await;
    for w in [&mut a, &mut b, &mut c] {
        w.sync().await;
    }
    let sms_consent = |w: &World<S>, client| w.book.consent(client).unwrap().granted(Channel::Sms);
    assert!(!sms_consent(&a, ca) && !sms_consent(&b, cb));
    assert!(sms_consent(&c, cc), "a business that never wrote there");
    // The words went to the business that wrote last, and nowhere else.
    assert_eq!(inbound(&b, cb), ["STOP"]);
    assert!(inbound(&a, ca).is_empty() && inbound(&c, cc).is_empty());
    let evidence = a.book.consent(ca).unwrap();
    assert!(
        evidence
            .evidence
            .iter()
            .any(|e| e.subject == ConsentSubject::Channel(Channel::Sms) && !e.granted)
    );
}

async fn a_business_s_own_number_is_its_own_whoever_wrote_last<S: Storage>(storage: S) {
    const OWN: &str = "+15550000002";
    let n = number();
    let (mut a, ca, va) = business(&storage, "Олена", &n).await;
    let (mut b, cb, vb) = business(&storage, "Олена К.", &n).await;
    let own = Sender {
        business: a.business,
        sms: Some(OWN.into()),
        whatsapp: None,
    };
    a.set_senders(vec![own.clone()]);
    b.set_senders(vec![own.clone()]);
    let asked_a = writes(&mut a, ca).await;
    assert_eq!(
        a.providers.received()[0].from.as_deref(),
        Some(OWN),
        "sent from A's own"
    );
    let asked_b = writes(&mut b, cb).await;
    assert_eq!(b.providers.received()[0].from.as_deref(), Some(SHARED));
    let served = serve_with(&a, |n| n.senders = vec![own]).await;

    // B wrote last, but the answer came to A's own number.
    sms(&served, &n, "SMwall4", OWN, "Так").await;
    a.sync().await;
    b.sync().await;
    assert_eq!(status(&a, asked_a), VisitStatus::Confirmed);
    assert_eq!(status(&a, va), VisitStatus::Booked);
    assert_eq!(status(&b, asked_b), VisitStatus::Booked);
    assert_eq!(status(&b, vb), VisitStatus::Booked);
    assert!(inbound(&b, cb).is_empty());
    // And on the shared number, the business that wrote there last.
    sms(&served, &n, "SMwall5", SHARED, "Ні").await;
    a.sync().await;
    b.sync().await;
    assert_eq!(status(&b, asked_b), VisitStatus::Cancelled);
    assert_eq!(status(&b, vb), VisitStatus::Booked);
    assert_eq!(inbound(&a, ca), ["Так"]);
}

/// The unsigned start token of old (base64url of the business's id and a client's or staff
/// member's): every book that ever synced, a revoked device's too, holds those ids.
fn rebuilt(business: Uuid, id: Uuid) -> String {
    use base64::Engine;
    let mut b = business.as_bytes().to_vec();
    b.extend_from_slice(id.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The Telegram chat the server holds bound to the client's card.
async fn bound_chat<S: Storage>(w: &World<S>, client: Uuid) -> Option<String> {
    let bytes = w.storage.read_doc(w.business, client).await.unwrap()?;
    let doc = automerge::Automerge::load(&bytes).unwrap();
    kartka_core::crdt::client::telegram_chat(&doc)
}

async fn forged_start_tokens_bind_no_chat_and_grant_no_consent<S: Storage>(storage: S) {
    let n = number();
    let (mut a, ca, _) = business(&storage, "Олена", &n).await;
    let staff = a.book.add_staff("Марія").unwrap();
    a.sync().await;
    let served = serve(&a).await;
    let chat_of = |w: &World<S>| w.book.staff_member(staff).unwrap().telegram;
    let stranger = 666_000_001;

    // Rebuilt from ids: nothing happens.
    let update = rand::random::<u32>() as i64;
    assert_eq!(
        served
            .telegram_start(update, stranger, &rebuilt(a.business, staff))
            .await,
        200
    );
    assert_eq!(
        served
            .telegram_start(update + 1, stranger, &rebuilt(a.business, ca))
            .await,
        200
    );
    // A genuine staff link with one character changed, or the other kind's, is nothing either.
    let genuine = served
        .telegram_link(&a.token, None, Some(staff))
        .await
        .unwrap();
    let mut bent = genuine.clone().into_bytes();
    bent[20] = if bent[20] == b'A' { b'B' } else { b'A' };
    let bent = String::from_utf8(bent).unwrap();
    assert_eq!(
        served.telegram_start(update + 2, stranger, &bent).await,
        200
    );
    a.sync().await;
    assert_eq!(chat_of(&a), None, "no stranger gets the staff alerts");
    assert_eq!(bound_chat(&a, ca).await, None);
    assert!(!a.book.consent(ca).unwrap().granted(Channel::Telegram));

    // Another business's device cannot have a link made for A's people.
    let (b, _, _) = business(&storage, "Олена К.", &n).await;
    assert_eq!(
        served.telegram_link(&b.token, None, Some(staff)).await,
        Err(404)
    );
    assert_eq!(
        served.telegram_link(&b.token, Some(ca), None).await,
        Err(404)
    );
    assert_eq!(
        served
            .telegram_link("0".repeat(64).as_str(), Some(ca), None)
            .await,
        Err(401)
    );

    // The genuine staff link binds once; used again (seen over a shoulder) it binds nothing.
    let (mine, other) = (111_000_001, 222_000_001);
    assert_eq!(served.telegram_start(update + 3, mine, &genuine).await, 200);
    assert_eq!(
        served.telegram_start(update + 4, stranger, &genuine).await,
        200
    );
    a.sync().await;
    assert_eq!(chat_of(&a), Some(mine.to_string()));
    // A new link moves the alerts, and the chat that had them is told.
    let again = served
        .telegram_link(&a.token, None, Some(staff))
        .await
        .unwrap();
    assert_eq!(served.telegram_start(update + 5, other, &again).await, 200);
    a.sync().await;
    assert_eq!(chat_of(&a), Some(other.to_string()));
    let told = a.providers.received();
    assert!(
        told.iter()
            .any(|m| m.provider == "telegram" && m.to == mine.to_string())
    );

    // The client's genuine link binds and grants Telegram, with the link as the evidence.
    let link = served
        .telegram_link(&a.token, Some(ca), None)
        .await
        .unwrap();
    assert_eq!(
        served.telegram_start(update + 6, 333_000_001, &link).await,
        200
    );
    a.sync().await;
    assert_eq!(bound_chat(&a, ca).await.as_deref(), Some("333000001"));
    let consent = a.book.consent(ca).unwrap();
    assert!(consent.granted(Channel::Telegram));
    let ev = consent.evidence.last().unwrap();
    assert!(ev.note.contains("signed link"), "{}", ev.note);
}

/// Asserts the headers every answer carries, page or not.
fn walled(h: &reqwest::header::HeaderMap, what: &str) {
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    assert!(
        get("content-security-policy").contains("frame-ancestors 'none'"),
        "{what}: {h:?}"
    );
    assert!(
        get("content-security-policy").starts_with("default-src 'none'"),
        "{what}: {h:?}"
    );
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(get("cache-control"), "no-store", "{what}");
}

async fn every_answer_refuses_framing_sniffing_referrers_and_caches<S: Storage>(storage: S) {
    let n = number();
    let (a, ca, va) = business(&storage, "Олена", &n).await;
    let served = serve(&a).await;
    let link = kartka_server::notify::confirm::link(
        &served.url,
        &a.notifier.link_key,
        kartka_server::notify::confirm::LinkTarget {
            business: a.business,
            client: ca,
            visit: va,
        },
    );
    let page = served.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    walled(page.headers(), "the confirmation page");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        !csp.contains("script-src") && !csp.contains("unsafe"),
        "{csp}"
    );
    let hook = served
        .http
        .post(format!("{}/v1/hooks/twilio/inbound", served.url))
        .header("X-Twilio-Signature", "forged")
        .form(&[("From", n.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 403);
    walled(hook.headers(), "a webhook's answer");
    for path in ["/healthz", "/v1/devices", "/no/such/route", "/c/forged"] {
        let r = served
            .http
            .get(format!("{}{path}", served.url))
            .send()
            .await
            .unwrap();
        walled(r.headers(), path);
    }
}

/// Sends only the headers of a request declaring a huge body and reads the answer: it must
/// come before a byte of the body is sent.
async fn declared(url: &str, path: &str, token: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: 9999999999\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    // Not a timing assertion: only a guard so a server waiting for the body fails the test
    // instead of hanging it.
    let got = tokio::time::timeout(std::time::Duration::from_secs(60), tcp.read(&mut answer))
        .await
        .expect("the server waited for the body")
        .unwrap();
    String::from_utf8_lossy(&answer[..got]).to_string()
}

async fn a_huge_declared_length_is_refused_before_the_body<S: Storage>(storage: S) {
    let n = number();
    let (a, _, _) = business(&storage, "Олена", &n).await;
    let served = serve(&a).await;
    for path in [
        "/v1/sync",
        "/v1/businesses",
        "/v1/hooks/twilio/inbound",
        "/v1/telegram-links",
        "/v1/confirm-links",
        "/c/anything",
        "/v1/no-such-route",
    ] {
        let answer = declared(&served.url, path, &a.token).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
    }
}

async fn metrics_are_not_on_the_public_port<S: Storage>(storage: S) {
    let n = number();
    let (a, _, _) = business(&storage, "Олена", &n).await;
    let served = serve(&a).await;
    let public = served
        .http
        .get(format!("{}/metrics", served.url))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404, "not served by default");
    // With an admin address, there and only there.
    let dir = tempfile::tempdir().unwrap();
    let running = kartka_server::start_with(
        storage.clone(),
        kartka_server::Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            admin: kartka_server::config::Admin {
                bind: Some("127.0.0.1:0".parse().unwrap()),
            },
            notify: kartka_server::config::Notify {
                enabled: false,
                ..common::notify_config(dir.path())
            },
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let admin = format!("http://{}", running.admin.unwrap());
    let health = served
        .http
        .get(format!("{}/healthz", running.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let on_admin = served
        .http
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_admin.status(), 200);
    assert!(
        on_admin
            .text()
            .await
            .unwrap()
            .contains("kartka_http_requests_total")
    );
    let on_public = served
        .http
        .get(format!("{}/metrics", running.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(on_public.status(), 404);
    running.shutdown().await.unwrap();
}

fn sqlite() -> (tempfile::TempDir, SqliteStorage) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    (dir, s)
}

/// PostgreSQL cases share one database and claims are global: one at a time.
static PG: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod on_sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (_dir, s) = sqlite();
                    super::$case(s).await;
                }
            )*
        }
        mod on_postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let _one_at_a_time = PG.lock().await;
                    if let Some(s) = common::postgres().await {
                        super::$case(s).await;
                    }
                }
            )*
        }
    };
}

on_both!(
    a_yes_on_the_shared_number_confirms_only_the_visit_of_the_business_that_asked,
    a_message_no_business_asked_for_is_kept_for_none_until_one_writes,
    stop_withdraws_consent_in_every_business_that_wrote_and_only_there,
    a_business_s_own_number_is_its_own_whoever_wrote_last,
    forged_start_tokens_bind_no_chat_and_grant_no_consent,
    every_answer_refuses_framing_sniffing_referrers_and_caches,
    a_huge_declared_length_is_refused_before_the_body,
    metrics_are_not_on_the_public_port,
);
