//! A mass mailing of 5,000 clients with consent mixed in, on SQLite and on PostgreSQL: exactly
//! the clients in the audience who consent to marketing and to SMS get it, once each, in
//! working hours; a client who unsubscribes before their turn does not; a client who joins
//! after the mailing started does not; and every device counts the same progress.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{World, local};
use kartka_core::model::{Audience, Channel, NewClient};
use kartka_core::store::{NewMailing, Page};
use kartka_server::notify::inbound::{self, Inbound};
use kartka_server::storage::Storage;
use kartka_server::storage::sqlite::SqliteStorage;

const CLIENTS: usize = 5000;

/// Numbers unique to this run: PostgreSQL keeps earlier runs' businesses, and an inbound
/// message reaches every card with its number, in any business.
fn number(run: u16, i: usize) -> String {
    format!("+38067{run:03}{i:04}")
}

/// The business's own SMS number: on a server of several businesses (the PostgreSQL run) a
/// message to the shared one from someone no business has written to yet is nobody's.
const OWN: &str = "+15550000009";

async fn mailing_reaches_exactly_the_consenting<S: Storage>(mut w: World<S>) {
    w.set_senders(vec![kartka_server::config::Sender {
        business: w.business,
        sms: Some(OWN.into()),
        whatsapp: None,
    }]);
    // 20:30: after closing, so the mailing waits for the morning.
    w.set_now(local(1, 20, 30));
    let run = rand::random::<u16>() % 1000;
    let new: Vec<NewClient> = (0..CLIENTS)
        .map(|i| NewClient {
            name: format!("Клієнтка {i}"),
            phones: vec![(number(run, i), "mobile".into())],
            // Four in five are in the audience.
            tags: if i % 5 == 4 {
                vec![]
            } else {
                vec!["весна".into()]
            },
            ..Default::default()
        })
        .collect();
    let ids = w.book.create_clients(new).unwrap();
    let mut expected = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let marketing = i % 3 != 0;
        let sms = i % 4 != 0;
        if marketing {
            w.consent(*id, Channel::Marketing, true);
        }
        if sms {
            w.consent(*id, Channel::Sms, true);
        }
        if marketing && sms && i % 5 != 4 {
            expected.insert(number(run, i));
        }
    }
    let audience = Audience {
        tag: Some("весна".into()),
        ..Default::default()
    };
    let text = "{client_name}, весняна знижка 10% до неділі";
    let preview = w
        .book
        .mailing_preview(&audience, Channel::Sms, text)
        .unwrap();
    assert_eq!(preview.matched as usize, CLIENTS * 4 / 5);
    assert_eq!(preview.recipients.len(), expected.len());
    let mailing = w
        .book
        .start_mailing(NewMailing {
            name: "Весна".into(),
            channel: Channel::Sms,
            text: text.into(),
            audience,
            start: None,
        })
        .unwrap();
    // Joins after the mailing started, with every consent: not part of it.
    w.set_now(w.now() + chrono::Duration::minutes(1));
    let late = w.client(
        "Пізня",
        "+380509999999",
        &[Channel::Sms, Channel::Marketing],
    );
    w.book
        .update_client(
            late,
            kartka_core::model::ClientPatch {
                add_tags: vec!["весна".into()],
                ..Default::default()
            },
        )
        .unwrap();
    w.round().await;
    assert_eq!(w.providers.count(), 0, "nothing before opening time");
    let p = w.book.mailing_progress(mailing.id).unwrap();
    assert_eq!((p.pending as usize, p.sent), (expected.len(), 0), "{p:?}");

    // One recipient unsubscribes before the morning.
    let quitter = expected.iter().next().unwrap().clone();
    let got = inbound::receive(
        &w.notifier,
        Inbound {
            provider_id: "twilio:SMunsub".into(),
            contact_kind: "phone",
            from: &quitter,
            channel: Channel::Sms,
            text: "ВІДПИСАТИСЯ",
            to: Some(OWN),
            name: None,
        },
    )
    .await
    .unwrap();
    assert!(got.opted_out && got.cards == 1);

    w.set_now(local(2, 9, 0));
    for _ in 0..3 {
        w.round().await;
    }
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for r in w.providers.received() {
        assert_eq!(
            r.text.split(", ").nth(1),
            Some("весняна знижка 10% до неділі")
        );
        *sent.entry(r.to).or_default() += 1;
    }
    let mut want = expected.clone();
    want.remove(&quitter);
    let got: BTreeSet<String> = sent.keys().cloned().collect();
    let extra: Vec<_> = got.difference(&want).take(5).collect();
    let missing: Vec<_> = want.difference(&got).take(5).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{} sent, {} expected; sent to others: {extra:?}; not sent: {missing:?}",
        got.len(),
        want.len()
    );
    assert!(sent.values().all(|n| *n == 1), "each exactly once");

    // Progress, as every device counts it from the histories.
    let p = w.book.mailing_progress(mailing.id).unwrap();
    assert_eq!(p.sent as usize, want.len(), "{p:?}");
    assert_eq!(p.total as usize, want.len(), "{p:?}");
    assert!(p.finished(), "{p:?}");
    let log = w
        .book
        .message_log(
            &kartka_core::store::MessageFilter {
                rule: Some(mailing.id),
                ..Default::default()
            },
            Page {
                offset: 0,
                limit: 10,
            },
        )
        .unwrap();
    assert!(
        log.iter()
            .all(|l| l.message.kind == kartka_core::model::MessageKind::Mailing)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    mailing_reaches_exactly_the_consenting(World::new(s).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    let Some(s) = common::postgres().await else {
        return;
    };
    mailing_reaches_exactly_the_consenting(World::new(s).await).await;
}
