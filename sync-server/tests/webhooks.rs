//! Webhooks through the real HTTP server: signed delivery reports, opt-out replies and the
//! Telegram bot, each valid, tampered with, and replayed.

mod common;

use common::served::{public_at, serve, twilio_sign, world};
use common::{World, local};
use kartka_core::model::{Channel, MessageStatus};
use kartka_server::storage::sqlite::SqliteStorage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_status_callbacks_and_opt_out_replies() {
    let (_d, mut w) = world().await;
    let served = serve(&w).await;
    public_at(&mut w, &served);
    let t = w.template("Запис", "Вас записано на {visit_time}", None);
    w.rule("visit_created", 0, &[Channel::Sms], t, false);
    let c = w.client("Олена", "+380671234567", &[Channel::Sms]);
    w.visit(c, local(2, 11, 0));
    w.round().await;
    let got = w.providers.received();
    assert_eq!(got.len(), 1);
    let callback = got[0]
        .callback
        .clone()
        .expect("a status callback was asked for");
    assert!(callback.starts_with(&format!("{}/v1/hooks/twilio/status?m=", served.url)));
    let sid = w.messages().await[0].gateway_ref.clone().unwrap();

    let delivered = [("MessageSid", sid.as_str()), ("MessageStatus", "delivered")];
    // Unsigned, tampered, or signed for another URL: refused, nothing changes.
    assert_eq!(served.twilio(&callback, &delivered, "").await, 403);
    let tampered = [("MessageSid", sid.as_str()), ("MessageStatus", "read")];
    assert_eq!(
        served
            .twilio(&callback, &tampered, &twilio_sign(&callback, &delivered))
            .await,
        403
    );
    assert_eq!(
        served
            .twilio(
                &callback,
                &delivered,
                &twilio_sign("http://evil/", &delivered)
            )
            .await,
        403
    );
    assert_eq!(w.messages().await[0].state, "sent");
    // Signed: applied, and the device shows it after a sync.
    assert_eq!(
        served
            .twilio(&callback, &delivered, &twilio_sign(&callback, &delivered))
            .await,
        200
    );
    assert_eq!(w.messages().await[0].state, "delivered");
    w.round().await;
    assert_eq!(
        w.book.history(c).unwrap()[0].status,
        MessageStatus::Delivered
    );
    // A late "sent" never takes a message back.
    let sent = [("MessageSid", sid.as_str()), ("MessageStatus", "sent")];
    assert_eq!(
        served
            .twilio(&callback, &sent, &twilio_sign(&callback, &sent))
            .await,
        200
    );
    assert_eq!(w.messages().await[0].state, "delivered");

    // An opt-out reply withdraws SMS consent and marketing (no more offers, however sent), with
    // the reply as evidence; a replay adds nothing.
    let inbound = format!("{}/v1/hooks/twilio/inbound", served.url);
    let stop = [
        ("MessageSid", "SMin0001"),
        ("From", "+380671234567"),
        ("Body", "STOP"),
    ];
    let evidence = |w: &World<SqliteStorage>| w.book.consent(c).unwrap().evidence.len();
    let before = evidence(&w);
    assert_eq!(served.twilio(&inbound, &stop, "bad").await, 403);
    assert_eq!(
        served
            .twilio(&inbound, &stop, &twilio_sign(&inbound, &stop))
            .await,
        200
    );
    w.sync().await;
    assert!(!w.book.get_client(c).unwrap().consent["sms"]);
    assert!(!w.book.get_client(c).unwrap().consent["marketing"]);
    assert_eq!(evidence(&w), before + 2);
    let last = w.book.consent(c).unwrap().evidence.last().unwrap().clone();
    assert!(last.note.contains("STOP"), "{last:?}");
    assert_eq!(
        served
            .twilio(&inbound, &stop, &twilio_sign(&inbound, &stop))
            .await,
        200
    );
    w.sync().await;
    assert_eq!(evidence(&w), before + 2, "a replayed reply is ignored");
    // Not a form at all.
    let bad = served
        .http
        .post(&inbound)
        .header("X-Twilio-Signature", "x")
        .body("%%%")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert!(bad.status().is_client_error());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_handshake_and_signed_statuses() {
    let (_d, mut w) = world().await;
    let served = serve(&w).await;
    let hs = |token: &str| {
        format!(
            "{}/v1/hooks/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444",
            served.url
        )
    };
    let ok = served.http.get(hs("wa-verify")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    assert_eq!(
        served.http.get(hs("guess")).send().await.unwrap().status(),
        403
    );

    let t = w.template(
        "Запис",
        "Вас записано на {visit_time}",
        Some("visit_booked:uk"),
    );
    w.rule("visit_created", 0, &[Channel::Whatsapp], t, false);
    let c = w.client("Олена", "+380671234567", &[Channel::Whatsapp]);
    w.visit(c, local(2, 11, 0));
    w.round().await;
    let wamid = w.messages().await[0].gateway_ref.clone().unwrap();
    let body = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"statuses":[{{"id":"{wamid}","status":"read","timestamp":"1"}}]}}}}]}}]}}"#
    );
    assert_eq!(served.whatsapp(&body, "someone-else").await, 403);
    assert_eq!(w.messages().await[0].state, "sent");
    assert_eq!(served.whatsapp(&body, "wa-app-secret").await, 200);
    assert_eq!(w.messages().await[0].state, "read");
    assert_eq!(
        served
            .whatsapp("{\"object\":\"page\"}", "wa-app-secret")
            .await,
        400
    );
    assert_eq!(served.whatsapp("not json", "wa-app-secret").await, 400);
    w.round().await;
    assert_eq!(w.book.history(c).unwrap()[0].status, MessageStatus::Read);
    // Free text (a template with no approved WhatsApp template) fails outside the 24 h window,
    // with a reason the master can act on; once the client writes, it goes as text.
    let free = w.template("Вільний", "Ваш майстер чекає вас о {visit_time}", None);
    let rule = w.rule("visit_created", 0, &[Channel::Whatsapp], free, false);
    let mut r = w
        .book
        .business()
        .unwrap()
        .rules
        .into_iter()
        .find(|x| x.id == rule)
        .unwrap();
    r.statuses = vec![kartka_core::model::VisitStatus::Confirmed];
    w.book
        .edit_business(kartka_core::crdt::business::SettingsEdit::PutRule(r))
        .unwrap();
    let confirmed = |w: &mut World<SqliteStorage>, day| {
        let v = w.visit(c, local(day, 15, 0));
        w.book
            .update_visit(
                v,
                kartka_core::model::VisitPatch {
                    status: Some(kartka_core::model::VisitStatus::Confirmed),
                    ..Default::default()
                },
            )
            .unwrap();
    };
    confirmed(&mut w, 3);
    w.round().await;
    let failed = w
        .messages()
        .await
        .into_iter()
        .find(|m| m.rule == rule)
        .unwrap();
    assert_eq!(failed.state, "failed");
    assert!(failed.detail.unwrap().contains("24 h"));
    let hello = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"from":"380671234567","id":"wamid.in0","type":"text","text":{"body":"Привіт!"}}]}}]}]}"#;
    assert_eq!(served.whatsapp(hello, "wa-app-secret").await, 200);
    w.sync().await;
    confirmed(&mut w, 4);
    w.round().await;
    // Inside the window both rules' messages go as the full text, the mapped one included.
    let mut texts: Vec<_> = w
        .providers
        .received()
        .into_iter()
        .filter(|r| r.template.is_none())
        .map(|r| r.text)
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        ["Вас записано на 15:00", "Ваш майстер чекає вас о 15:00"]
    );
    // An inbound "стоп" withdraws WhatsApp consent.
    let stop = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"from":"380671234567","id":"wamid.in1","type":"text","text":{"body":"Стоп"}}]}}]}]}"#;
    assert_eq!(served.whatsapp(stop, "wa-app-secret").await, 200);
    w.sync().await;
    assert!(!w.book.get_client(c).unwrap().consent["whatsapp"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_bot_binds_the_chat_and_stop_withdraws() {
    let (_d, mut w) = world().await;
    let served = serve(&w).await;
    let t = w.template("Запис", "Вас записано на {visit_time}", None);
    w.rule("visit_created", 0, &[Channel::Telegram], t, false);
    let c = w.client("Олена", "+380671234567", &[]);
    w.sync().await;
    let token = served.telegram_link(&w.token, Some(c), None).await.unwrap();
    let start = format!(
        r#"{{"update_id":1001,"message":{{"message_id":5,"chat":{{"id":777000}},"text":"/start {token}"}}}}"#
    );
    assert_eq!(served.telegram(&start, "wrong").await, 403);
    assert_eq!(served.telegram("{}", "tg-secret").await, 400);
    assert_eq!(served.telegram(&start, "tg-secret").await, 200);
    w.sync().await;
    assert!(
        w.book.get_client(c).unwrap().consent["telegram"],
        "starting the bot is consent"
    );
    w.visit(c, local(2, 11, 0));
    w.round().await;
    let got = w.providers.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].provider, "telegram");
    assert_eq!(got[0].to, "777000");
    // /stop withdraws; the next message is skipped.
    let stop =
        r#"{"update_id":1002,"message":{"message_id":6,"chat":{"id":777000},"text":"/stop"}}"#;
    assert_eq!(served.telegram(stop, "tg-secret").await, 200);
    w.sync().await;
    assert!(!w.book.get_client(c).unwrap().consent["telegram"]);
    w.visit(c, local(3, 11, 0));
    w.round().await;
    assert_eq!(w.providers.received().len(), 1);
    // A stranger's /start with a forged token binds nothing.
    let forged = r#"{"update_id":1003,"message":{"chat":{"id":1},"text":"/start AAAA"}}"#;
    assert_eq!(served.telegram(forged, "tg-secret").await, 200);
}

/// A client's reply on any provider lands in the card's history on the device, and a short
/// answer confirms or cancels their next visit there; a redelivered webhook changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_confirm_and_cancel_visits_from_every_provider() {
    use kartka_core::model::{MessageKind, VisitStatus};

    let (_d, mut w) = world().await;
    let served = serve(&w).await;
    let c = w.client("Олена", "+380671234567", &[Channel::Sms]);
    let tomorrow = w.visit(c, local(1, 10, 0));
    let friday = w.visit(c, local(3, 15, 0));
    let stranger = w.client("Ірина", "+380501112233", &[]);
    let far = w.visit(stranger, local(20, 10, 0));
    // The scheduler's pass indexes the cards' numbers, which replies are matched by.
    w.round().await;
    let status = |w: &World<SqliteStorage>, v| w.book.get_visit(v).unwrap().status;

    // SMS "Так, дякую!" confirms tomorrow's visit; a redelivery confirms nothing more.
    let inbound = format!("{}/v1/hooks/twilio/inbound", served.url);
    let yes = [
        ("MessageSid", "SMin1001"),
        ("From", "+380671234567"),
        ("Body", "Так, дякую!"),
    ];
    assert_eq!(served.twilio(&inbound, &yes, "forged").await, 403);
    for _ in 0..2 {
        assert_eq!(
            served
                .twilio(&inbound, &yes, &twilio_sign(&inbound, &yes))
                .await,
            200
        );
    }
    w.sync().await;
    assert_eq!(status(&w, tomorrow), VisitStatus::Confirmed);
    assert_eq!(
        status(&w, friday),
        VisitStatus::Booked,
        "a replay is not a second yes"
    );
    let history = w.book.history(c).unwrap();
    let reply = history
        .iter()
        .find(|m| m.kind == MessageKind::Inbound)
        .unwrap();
    assert_eq!(
        (
            reply.body.as_str(),
            reply.status,
            reply.visit_id,
            reply.channel
        ),
        (
            "Так, дякую!",
            MessageStatus::Received,
            Some(tomorrow),
            Channel::Sms
        )
    );
    assert_eq!(reply.detail.as_deref(), Some("confirmed the visit"));
    assert_eq!(
        history
            .iter()
            .filter(|m| m.kind == MessageKind::Inbound)
            .count(),
        1
    );

    // WhatsApp "2" cancels the next visit, confirmed or not.
    let no = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"from":"380671234567","id":"wamid.reply2","type":"text","text":{"body":"2"}}]}}]}]}"#;
    assert_eq!(served.whatsapp(no, "wa-app-secret").await, 200);
    w.sync().await;
    assert_eq!(status(&w, tomorrow), VisitStatus::Cancelled);
    assert_eq!(status(&w, friday), VisitStatus::Booked);

    // Telegram: once the chat is bound, "tak" confirms Friday's visit.
    let token = served.telegram_link(&w.token, Some(c), None).await.unwrap();
    let start = format!(
        r#"{{"update_id":2001,"message":{{"message_id":1,"chat":{{"id":555}},"text":"/start {token}"}}}}"#
    );
    assert_eq!(served.telegram(&start, "tg-secret").await, 200);
    w.round().await;
    let tak = r#"{"update_id":2002,"message":{"message_id":2,"chat":{"id":555},"text":"Tak!"}}"#;
    assert_eq!(served.telegram(tak, "tg-secret").await, 200);
    w.sync().await;
    assert_eq!(status(&w, friday), VisitStatus::Confirmed);

    // A question is for the master: recorded, nothing changes.
    let question = [
        ("MessageSid", "SMin1002"),
        ("From", "+380671234567"),
        ("Body", "А можна перенести на 11:00?"),
    ];
    assert_eq!(
        served
            .twilio(&inbound, &question, &twilio_sign(&inbound, &question))
            .await,
        200
    );
    // The stranger's "так" is about a visit three weeks away: recorded, not applied.
    let far_yes = [
        ("MessageSid", "SMin1003"),
        ("From", "+380501112233"),
        ("Body", "так"),
    ];
    assert_eq!(
        served
            .twilio(&inbound, &far_yes, &twilio_sign(&inbound, &far_yes))
            .await,
        200
    );
    w.sync().await;
    let replies: Vec<_> = w
        .book
        .history(c)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MessageKind::Inbound)
        .map(|m| (m.channel, m.body, m.detail))
        .collect();
    assert_eq!(
        replies,
        [
            (
                Channel::Sms,
                "Так, дякую!".to_string(),
                Some("confirmed the visit".to_string())
            ),
            (
                Channel::Whatsapp,
                "2".to_string(),
                Some("cancelled the visit".to_string())
            ),
            (
                Channel::Telegram,
                "Tak!".to_string(),
                Some("confirmed the visit".to_string())
            ),
            (
                Channel::Sms,
                "А можна перенести на 11:00?".to_string(),
                None
            ),
        ]
    );
    assert_eq!(status(&w, far), VisitStatus::Booked);
    assert_eq!(w.book.history(stranger).unwrap().len(), 1);
}

/// `{confirm_link}` in a reminder: a signed page where the client confirms or cancels, seen
/// on the device after a sync; forged links and visits that are over get no buttons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_confirmation_link_confirms_and_cancels_on_the_device() {
    use kartka_core::model::{MessageKind, VisitStatus};

    let (_d, mut w) = world().await;
    let served = serve(&w).await;
    public_at(&mut w, &served);
    let t = w.template(
        "Підтвердження",
        "Ви записані на {visit_time}. Підтвердіть: {confirm_link}",
        None,
    );
    w.rule("visit_created", 0, &[Channel::Sms], t, false);
    let c = w.client("Олена", "+380671234567", &[Channel::Sms]);
    let v = w.visit(c, local(2, 11, 0));
    w.round().await;
    let sent = w.providers.received();
    let link = sent[0]
        .text
        .split_whitespace()
        .find(|t| t.starts_with(&format!("{}/c/", served.url)))
        .expect("the reminder carries the link")
        .to_string();

    let get = |url: String| {
        let http = served.http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let post = |url: String, answer: &'static str| {
        let http = served.http.clone();
        async move {
            let r = http
                .post(url)
                .form(&[("answer", answer)])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, html) = get(link.clone()).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Студія") && html.contains("11:00") && html.contains("Підтвердити"),
        "{html}"
    );

    // A forged or altered link shows nothing of anyone.
    let mut forged = link.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(get(forged.clone()).await.0, 404);
    assert_eq!(post(forged, "confirm").await.0, 404);
    assert_eq!(post(link.clone(), "maybe").await.0, 400);

    let (status, html) = post(link.clone(), "confirm").await;
    assert_eq!(status, 200);
    assert!(html.contains("Запис підтверджено"), "{html}");
    w.sync().await;
    assert_eq!(w.book.get_visit(v).unwrap().status, VisitStatus::Confirmed);
    let answer = w
        .book
        .history(c)
        .unwrap()
        .into_iter()
        .find(|m| m.kind == MessageKind::Inbound)
        .unwrap();
    assert_eq!(
        answer.detail.as_deref(),
        Some("confirmed the visit through the link")
    );
    // Confirmed: the page says so and offers only Cancel.
    let (_, html) = get(link.clone()).await;
    assert!(
        html.contains("Запис підтверджено") && !html.contains("id=\"confirm\""),
        "{html}"
    );

    // The master cancels on the device; the link now says the visit is gone.
    w.book.set_visit_status(v, VisitStatus::Cancelled).unwrap();
    w.sync().await;
    assert_eq!(get(link.clone()).await.0, 410);
    assert_eq!(post(link.clone(), "confirm").await.0, 410);
    w.sync().await;
    assert_eq!(
        w.book.get_visit(v).unwrap().status,
        VisitStatus::Cancelled,
        "a late click changes nothing"
    );

    // A visit that has started: the link has expired.
    let past = w.visit(c, local(-1, 11, 0));
    w.sync().await;
    let past_link = kartka_server::notify::confirm::link(
        &served.url,
        &w.notifier.link_key,
        kartka_server::notify::confirm::LinkTarget {
            business: w.business,
            client: c,
            visit: past,
        },
    );
    let (status, html) = get(past_link).await;
    assert_eq!(status, 410);
    assert!(html.contains("минув"), "{html}");
}
