//! Conversations end to end: a master's reply leaves through the real provider protocol once,
//! WhatsApp's 24-hour window is judged when the reply is sent, an unknown sender becomes a
//! lead a master attaches, and staff are alerted on Telegram and by email about what someone
//! else did; all through the real HTTP server's webhooks and a device's real book.

mod common;

use common::served::{serve, twilio_sign, world};
use common::{World, local};
use kartka_core::Store;
use kartka_core::model::{
    Channel, ConversationStatus, MessageKind, MessageStatus, NewVisit, ServiceLine,
};
use kartka_core::store::{Page, ReplyText};
use kartka_server::notify::doubles::{Behaviour, Received};
use kartka_server::notify::inbound::{self, Inbound};
use kartka_server::storage::Storage;
use kartka_server::storage::sqlite::SqliteStorage;
use uuid::Uuid;

fn all() -> Page {
    Page {
        offset: 0,
        limit: 100,
    }
}

/// What one provider's remote end received, in order.
fn sent_by<S: Storage>(w: &World<S>, provider: &str) -> Vec<Received> {
    w.providers
        .received()
        .into_iter()
        .filter(|m| m.provider == provider)
        .collect()
}

fn wa_message(id: &str, from: &str, text: &str, name: &str) -> String {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"value":{{"contacts":[{{"wa_id":"{from}","profile":{{"name":"{name}"}}}}],"messages":[{{"from":"{from}","id":"{id}","type":"text","text":{{"body":"{text}"}}}}]}}}}]}}]}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_leaves_once_through_the_gateway_and_whatsapp_s_window_is_judged_at_sending() {
    let (_d, mut w) = world().await;
    // The webhook server's clock is the real one: so is the world's here.
    let served = serve(&w).await;
    let c = w.client("Ірина", "+380671234567", &[Channel::Sms, Channel::Whatsapp]);
    // The scheduler's pass learns the card's number.
    w.round().await;

    let inbound = format!("{}/v1/hooks/twilio/inbound", served.url);
    let ask = [
        ("MessageSid", "SMq1"),
        ("From", "+380671234567"),
        ("Body", "Можна на п'ятницю після 15?"),
    ];
    assert_eq!(
        served
            .twilio(&inbound, &ask, &twilio_sign(&inbound, &ask))
            .await,
        200
    );
    w.sync().await;
    let e = &w.book.inbox(None, all()).unwrap()[0];
    assert_eq!((e.client_id, e.status), (c, ConversationStatus::Unanswered));

    let r = w
        .book
        .reply(c, Channel::Sms, ReplyText::Text("Так, о 15:30".into()))
        .unwrap();
    for _ in 0..3 {
        w.round().await;
    }
    let sms = sent_by(&w, "twilio");
    assert_eq!(sms.len(), 1, "sent once, however many rounds");
    assert_eq!(
        (sms[0].to.as_str(), sms[0].text.as_str()),
        ("+380671234567", "Так, о 15:30")
    );
    let entry = w
        .book
        .history(c)
        .unwrap()
        .into_iter()
        .find(|m| m.id == r.id)
        .unwrap();
    assert_eq!(entry.status, MessageStatus::Sent);
    assert_eq!(
        (entry.kind, entry.body.as_str()),
        (MessageKind::Reply, "Так, о 15:30"),
        "the server's record keeps what the master wrote"
    );
    assert_eq!(
        w.book.inbox(None, all()).unwrap()[0].status,
        ConversationStatus::Open
    );

    // WhatsApp: the client wrote, so free text may go for 24 hours.
    let hi = wa_message("wamid.q2", "380671234567", "Дякую! А адреса?", "Ірина К.");
    assert_eq!(served.whatsapp(&hi, "wa-app-secret").await, 200);
    w.sync().await;
    assert!(w.book.whatsapp_window(c).unwrap().is_some());
    w.book
        .reply(
            c,
            Channel::Whatsapp,
            ReplyText::Text("вул. Січова, 5".into()),
        )
        .unwrap();
    w.round().await;
    let wa = sent_by(&w, "whatsapp");
    assert_eq!(wa.len(), 1);
    assert_eq!(
        (wa[0].text.as_str(), wa[0].template.as_deref()),
        ("вул. Січова, 5", None)
    );

    // Written within the window on a phone that synced only after it closed: not sent as free
    // text (WhatsApp would refuse it), and the master is told why.
    w.set_now(w.now() + chrono::Duration::hours(23) + chrono::Duration::minutes(59));
    let late = w
        .book
        .reply(c, Channel::Whatsapp, ReplyText::Text("Ви ще тут?".into()))
        .unwrap();
    w.set_now(w.now() + chrono::Duration::minutes(5));
    w.round().await;
    let entry = w
        .book
        .history(c)
        .unwrap()
        .into_iter()
        .find(|m| m.id == late.id)
        .unwrap();
    assert_eq!(entry.status, MessageStatus::Failed);
    assert!(entry.detail.unwrap().contains("24 h"));
    assert_eq!(sent_by(&w, "whatsapp").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_becomes_a_lead_that_a_master_attaches_to_a_client() {
    let (_d, mut w) = world().await;
    // The webhook server's clock is the real one: so is the world's here.
    let served = serve(&w).await;
    let c = w.client("Ірина", "+380501112233", &[Channel::Whatsapp]);
    w.round().await;

    // Two messages from a number no card has, before any scheduling pass: one lead.
    for (id, text) in [
        ("wamid.s1", "Добрий день"),
        ("wamid.s2", "Це Ірина, новий номер"),
    ] {
        let body = wa_message(id, "380679998877", text, "Ірина Коваль");
        assert_eq!(served.whatsapp(&body, "wa-app-secret").await, 200);
    }
    w.sync().await;
    let inbox = w.book.inbox(None, all()).unwrap();
    assert_eq!(inbox.len(), 1);
    let lead = inbox[0].client_id;
    assert!(inbox[0].lead);
    assert_eq!(inbox[0].name, "Ірина Коваль", "the provider's profile name");
    assert_eq!(w.book.history(lead).unwrap().len(), 2);
    assert!(
        w.book
            .list_clients(&Default::default(), all())
            .unwrap()
            .iter()
            .all(|x| x.id != lead),
        "a lead is not in the book"
    );
    // Nothing automatic ever goes to a lead, and a reply needs consent like any other.
    assert!(
        w.book
            .reply(lead, Channel::Whatsapp, ReplyText::Text("Вітаю".into()))
            .is_err()
    );

    w.book.attach_lead(lead, c).unwrap();
    w.round().await;
    // The window the stranger's messages opened is the client's now: free text goes, back to
    // the number they wrote from (the lead's messages carried it), not the primary one.
    w.book
        .reply(
            c,
            Channel::Whatsapp,
            ReplyText::Text("Вітаю! Записала новий номер".into()),
        )
        .unwrap();
    w.round().await;
    let wa = sent_by(&w, "whatsapp");
    assert_eq!((wa.len(), wa[0].to.as_str()), (1, "380679998877"));
    // The next message from that number is the client's.
    let again = wa_message(
        "wamid.s3",
        "380679998877",
        "Коли можна прийти?",
        "Ірина Коваль",
    );
    assert_eq!(served.whatsapp(&again, "wa-app-secret").await, 200);
    w.sync().await;
    // (The world's clock stands still, so the reply sorts by its own time: compare what the
    // client wrote.)
    let written: Vec<String> = w
        .book
        .history(c)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MessageKind::Inbound)
        .map(|m| m.body)
        .collect();
    assert_eq!(
        written,
        ["Добрий день", "Це Ірина, новий номер", "Коли можна прийти?"]
    );
    let inbox = w.book.inbox(None, all()).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!((inbox[0].client_id, inbox[0].lead), (c, false));
    w.book
        .reply(
            c,
            Channel::Whatsapp,
            ReplyText::Text("Завтра о 12:00".into()),
        )
        .unwrap();
    w.round().await;
    let wa = sent_by(&w, "whatsapp");
    assert_eq!((wa.len(), wa[1].to.as_str()), (2, "380679998877"));

    // A Telegram stranger: a lead with the chat, named as Telegram names them.
    let tg = r#"{"update_id":7001,"message":{"message_id":1,"chat":{"id":4242},"from":{"id":4242,"first_name":"Марта","last_name":"Б."},"text":"Привіт, є вільні вікна?"}}"#;
    assert_eq!(served.telegram(tg, "tg-secret").await, 200);
    w.sync().await;
    let lead2 = w
        .book
        .inbox(Some(ConversationStatus::Unanswered), all())
        .unwrap()
        .into_iter()
        .find(|e| e.lead)
        .unwrap();
    assert_eq!(lead2.name, "Марта Б.");
    w.book.accept_lead(lead2.client_id, None).unwrap();
    assert_eq!(
        w.book.search("Марта", all()).unwrap()[0].id,
        lead2.client_id
    );
}

/// A second device of the business, where another staff member works.
fn second_device(w: &World<SqliteStorage>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut other = Store::open(dir.path().join("book.db")).unwrap();
    let c = w.clock.clone();
    other.set_clock(std::sync::Arc::new(move || *c.lock().unwrap()));
    for id in w.book.doc_ids().unwrap() {
        other
            .apply_remote(id, &w.book.export_doc(id).unwrap())
            .unwrap();
    }
    (dir, other)
}

async fn push(w: &World<SqliteStorage>, book: &Store) {
    let chunks = book
        .doc_ids()
        .unwrap()
        .into_iter()
        .map(|doc| kartka_core::sync::wire::Chunk {
            doc,
            data: book.export_doc(doc).unwrap(),
        })
        .collect();
    w.storage.push(w.business, None, chunks).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_hear_of_what_someone_else_did_on_telegram_and_by_email_never_the_client() {
    let (_d, mut w) = world().await;
    // The webhook server's clock is the real one: so is the world's here.
    let served = serve(&w).await;
    let olena = w.book.add_staff("Олена").unwrap();
    let maria = w.book.add_staff("Марія").unwrap();
    w.book.set_current_staff(Some(olena)).unwrap();
    let mut m = w
        .book
        .business()
        .unwrap()
        .staff
        .into_iter()
        .find(|s| s.id == maria)
        .unwrap();
    m.email = Some("maria@example.com".into());
    w.book
        .edit_business(kartka_core::crdt::business::SettingsEdit::PutStaff(m))
        .unwrap();
    let c = w.client("Ірина", "+380671234567", &[Channel::Sms]);
    w.round().await;
    // Olena opens her staff link to the bot: her chat is bound to her staff record.
    let token = served
        .telegram_link(&w.token, None, Some(olena))
        .await
        .unwrap();
    assert_eq!(served.telegram_start(9001, 777, &token).await, 200);
    w.sync().await;
    let staff = w.book.business().unwrap().staff;
    assert_eq!(
        staff
            .iter()
            .find(|s| s.id == olena)
            .unwrap()
            .telegram
            .as_deref(),
        Some("777")
    );
    assert!(
        w.book
            .consent(c)
            .unwrap()
            .evidence
            .iter()
            .all(|e| e.subject != kartka_core::model::ConsentSubject::Channel(Channel::Telegram)),
        "a staff link is not a client's consent"
    );

    let booked = w.template("booking", "Новий запис: {client_name}, {visit_time}", None);
    let replied = w.template("Відповідь", "{client_name} написала", None);
    let failed = w.template("failure", "Не дійшло до {client_name}", None);
    let sms = w.template("Нагадування", "Чекаємо вас {visit_time}", None);
    for (trigger, template, to) in [
        ("visit_created", booked, vec![]),
        ("client_replied", replied, vec![olena]),
        ("message_failed", failed, vec![maria]),
    ] {
        w.book
            .edit_business(kartka_core::crdt::business::SettingsEdit::PutRule(
                kartka_core::model::Rule {
                    id: Uuid::now_v7(),
                    name: trigger.into(),
                    trigger: trigger.into(),
                    offset_min: 0,
                    channels: vec![Channel::Telegram, Channel::Email],
                    template_id: Some(template),
                    channel_templates: vec![],
                    working_hours_only: false,
                    statuses: vec![],
                    enabled: true,
                    staff: Some(to),
                },
            ))
            .unwrap();
    }
    // A client rule, so one message to the client can fail.
    w.rule("visit_created", 0, &[Channel::Sms], sms, false);
    // A staff rule may not write on SMS, nor may a client rule use a staff-only trigger.
    let mut bad = w.book.business().unwrap().rules[0].clone();
    bad.id = Uuid::now_v7();
    bad.channels = vec![Channel::Sms];
    assert!(
        w.book
            .edit_business(kartka_core::crdt::business::SettingsEdit::PutRule(
                bad.clone()
            ))
            .is_err()
    );
    bad.channels = vec![Channel::Email];
    bad.trigger = "client_replied".into();
    bad.staff = None;
    assert!(
        w.book
            .edit_business(kartka_core::crdt::business::SettingsEdit::PutRule(bad))
            .is_err()
    );
    w.round().await;

    // Olena books on her own phone: Maria hears of it by email, Olena nothing.
    w.providers.set(Behaviour {
        refuse: [("+380671234567".to_string(), 21610)].into(),
        ..Default::default()
    });
    w.visit(c, local(3, 12, 0));
    w.round().await;
    w.round().await;
    let mails = w.smtp.mails();
    let to_maria: Vec<_> = mails
        .iter()
        .filter(|m| m.to.iter().any(|t| t.contains("maria@example.com")))
        .collect();
    assert_eq!(
        to_maria.len(),
        2,
        "the booking, and the client's SMS that failed"
    );
    // (Bodies are encoded; the subjects are the templates' names.)
    assert!(to_maria.iter().any(|m| m.data.contains("Subject: booking")));
    assert!(to_maria.iter().any(|m| m.data.contains("Subject: failure")));
    let to_olena = sent_by(&w, "telegram");
    assert!(to_olena.is_empty(), "her own booking: {to_olena:?}");

    // Maria books on her phone: Olena hears of it on Telegram.
    let (_d2, mut phone2) = second_device(&w);
    phone2.set_current_staff(Some(maria)).unwrap();
    phone2
        .add_visit(NewVisit::booked(
            c,
            local(4, 12, 0),
            60,
            vec![ServiceLine {
                name: "Педикюр".into(),
                price: 90000,
                quantity: 1,
            }],
        ))
        .unwrap();
    push(&w, &phone2).await;
    w.round().await;
    let tg = sent_by(&w, "telegram");
    assert_eq!(tg.len(), 1);
    assert_eq!(tg[0].to, "777");
    assert!(tg[0].text.starts_with("Новий запис: Ірина"));

    // The client writes: Olena is told.
    let inbound = format!("{}/v1/hooks/twilio/inbound", served.url);
    let q = [
        ("MessageSid", "SMst1"),
        ("From", "+380671234567"),
        ("Body", "Можна трохи раніше?"),
    ];
    assert_eq!(
        served
            .twilio(&inbound, &q, &twilio_sign(&inbound, &q))
            .await,
        200
    );
    w.round().await;
    let tg = sent_by(&w, "telegram");
    assert_eq!(tg.len(), 2);
    assert_eq!(tg[1].text, "Ірина написала");

    // Every alert is in the client's history as a staff message; none went to the client.
    let history = w.book.history(c).unwrap();
    let staff_msgs = history
        .iter()
        .filter(|m| m.kind == MessageKind::Staff)
        .count();
    assert_eq!(staff_msgs, 4);
    let to_client: Vec<_> = w
        .providers
        .received()
        .into_iter()
        .filter(|m| m.to == "+380671234567")
        .collect();
    assert!(
        to_client
            .iter()
            .all(|m| m.provider == "twilio" && m.text.starts_with("Чекаємо")),
        "{to_client:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_strangers_makes_no_more_leads_than_the_business_takes_an_hour() {
    let (_d, w) = world().await;
    let config = kartka_server::config::Notify {
        leads_per_hour: 3,
        ..common::notify_config(w.dir.path())
    };
    let n = kartka_server::notify::Notifier::new(
        w.storage.clone(),
        config.clone(),
        kartka_server::notify::Gateways::new(&common::gateways(&w.providers, &w.smtp), &config)
            .unwrap(),
        std::sync::Arc::new(kartka_server::metrics::Metrics::new()),
        std::sync::Arc::new(chrono::Utc::now),
    );
    let write = |i: usize, from: String| {
        let n = n.clone();
        async move {
            inbound::receive(
                &n,
                Inbound {
                    provider_id: format!("twilio:SMspam{i}"),
                    contact_kind: "phone",
                    from: &from,
                    channel: Channel::Sms,
                    text: "Дешеві кредити!",
                    to: None,
                    name: None,
                },
            )
            .await
            .unwrap()
        }
    };
    let mut leads = Vec::new();
    for i in 0..5 {
        leads.push(write(i, format!("+38063000000{i}")).await.lead);
    }
    assert_eq!(leads.iter().filter(|l| l.is_some()).count(), 3, "{leads:?}");
    assert!(leads[3].is_none() && leads[4].is_none());
    // A stranger already in the inbox is not limited: their next message reaches their lead.
    let again = write(9, "+380630000000".into()).await;
    assert_eq!((again.lead, again.cards), (leads[0], 1));
}
