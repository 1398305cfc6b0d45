//! The notification scheduler and dispatcher end to end, in process: a real book syncing with
//! real server storage, gateways speaking each provider's protocol to loopback doubles, and a
//! clock the test moves. The same cases run on SQLite and on PostgreSQL.

mod common;

use chrono::Duration;
use common::{World, local, show};
use kartka_core::model::{
    Channel, ConsentSubject, MessageStatus, NotificationKind, VisitPatch, VisitStatus,
};
use kartka_server::notify::doubles::Behaviour;
use kartka_server::storage::Storage;
use kartka_server::storage::sqlite::SqliteStorage;

const REMINDER: &str =
    "{client_first_name}, нагадуємо: {visit_date} о {visit_time}, {services}. {business_name}";

/// A reminder is scheduled at the last working minute before its moment, moves when the visit
/// moves, is sent once when due with the business locale's date, and its outcome reaches the
/// client's history on the device.
pub async fn reminder_moves_with_the_visit_and_is_sent_once<S: Storage>(mut w: World<S>) {
    let t = w.template("Нагадування", REMINDER, None);
    w.rule("reminder_before", 12 * 60, &[Channel::Sms], t, true);
    let c = w.client("Олена Коваль", "+380671234567", &[Channel::Sms]);
    // A visit at 10:00 in four days: 12 h before is 22:00, after closing; the last working
    // minute before it is 18:59 the day before.
    let v = w.visit(c, local(4, 10, 0));
    w.round().await;
    let m = w.messages().await;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].state, "scheduled");
    assert_eq!(
        show(chrono::DateTime::from_timestamp_millis(m[0].due_ms).unwrap()),
        show(local(3, 18, 59))
    );
    // Moved within the day, to 16:00: 12 h before is 04:00, still 18:59 the evening before;
    // to 20:00: 08:00, the same. The same message stays.
    w.book
        .update_visit(
            v,
            VisitPatch {
                start: Some(local(4, 20, 0)),
                ..Default::default()
            },
        )
        .unwrap();
    w.round().await;
    assert_eq!(w.messages().await, m);
    // Moved to the next day at 20:00: the reminder for that day (one per client per day) is
    // due at 18:59 the evening before, and the old day's is cancelled.
    w.book
        .update_visit(
            v,
            VisitPatch {
                start: Some(local(5, 20, 0)),
                ..Default::default()
            },
        )
        .unwrap();
    w.round().await;
    let moved = w.messages().await;
    assert_eq!(moved.len(), 2);
    assert_eq!(
        moved.iter().find(|x| x.id == m[0].id).unwrap().state,
        "cancelled"
    );
    let moved: Vec<_> = moved
        .into_iter()
        .filter(|x| x.state == "scheduled")
        .collect();
    assert_eq!(moved.len(), 1);
    assert_eq!(
        show(chrono::DateTime::from_timestamp_millis(moved[0].due_ms).unwrap()),
        show(local(4, 18, 59))
    );
    // Not due yet: nothing sent.
    w.set_now(local(4, 18, 0));
    w.round().await;
    assert!(w.providers.received().is_empty());
    // Due: sent once, with the date written the Ukrainian way.
    w.set_now(local(4, 19, 0));
    w.round().await;
    w.round().await;
    let got = w.providers.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, "+380671234567");
    let date = local(5, 20, 0)
        .with_timezone(&common::kyiv())
        .format_localized("%-d %B %Y", chrono::Locale::uk_UA)
        .to_string();
    assert_eq!(
        got[0].text,
        format!("Олена, нагадуємо: {date} о 20:00, Манікюр. Студія Олени")
    );
    let m: Vec<_> = w
        .messages()
        .await
        .into_iter()
        .filter(|x| x.state != "cancelled")
        .collect();
    assert_eq!(m[0].state, "sent");
    assert!(
        m[0].gateway_ref
            .as_deref()
            .is_some_and(|r| r.starts_with("SM"))
    );
    let history = w.book.history(c).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].status, MessageStatus::Sent);
    assert_eq!(history[0].body, got[0].text);
    // Time passes, the visit happens: nothing more.
    w.set_now(local(6, 12, 0));
    w.round().await;
    assert_eq!(w.providers.received().len(), 1);
}

/// Consent is checked at the moment of sending: withdrawn after scheduling, nothing is sent
/// and the history says why; an opt-out of reminders alone does the same.
pub async fn consent_is_checked_when_sending<S: Storage>(mut w: World<S>) {
    let t = w.template("Нагадування", REMINDER, None);
    w.rule("reminder_before", 24 * 60, &[Channel::Sms], t, false);
    let a = w.client("Олена", "+380671234567", &[Channel::Sms]);
    let b = w.client("Ірина", "+380671234568", &[Channel::Sms]);
    let never = w.client("Марта", "+380671234569", &[]);
    w.visit(a, local(3, 12, 0));
    w.visit(b, local(3, 13, 0));
    w.visit(never, local(3, 14, 0));
    w.round().await;
    assert_eq!(w.messages().await.len(), 3);
    w.consent(a, Channel::Sms, false);
    w.book
        .set_consent(
            b,
            ConsentSubject::Notification(NotificationKind::Reminder),
            false,
            kartka_core::model::ConsentSource::Verbal,
            "no reminders please",
        )
        .unwrap();
    w.sync().await;
    w.set_now(local(2, 15, 0));
    w.round().await;
    assert!(
        w.providers.received().is_empty(),
        "{:?}",
        w.providers.received()
    );
    let states: Vec<String> = w.messages().await.into_iter().map(|m| m.state).collect();
    assert_eq!(states, ["skipped_no_consent"; 3]);
    let h = w.book.history(a).unwrap();
    assert_eq!(h[0].status, MessageStatus::SkippedNoConsent);
    assert_eq!(h[0].detail.as_deref(), Some("no consent to sms"));
    assert!(
        w.book.history(b).unwrap()[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("reminder")
    );
}

/// Two visits on one day: one reminder, for the earlier. Cancelling that visit moves the
/// reminder to the other; cancelling both cancels it; a cancellation rule tells the client.
pub async fn one_reminder_a_day_and_cancellation<S: Storage>(mut w: World<S>) {
    let t = w.template("Нагадування", REMINDER, None);
    let cancelled = w.template(
        "Скасовано",
        "{client_name}, ваш візит {visit_date} скасовано",
        None,
    );
    w.rule("reminder_before", 24 * 60, &[Channel::Sms], t, false);
    w.rule("visit_cancelled", 0, &[Channel::Sms], cancelled, false);
    let c = w.client("Олена", "+380671234567", &[Channel::Sms]);
    let early = w.visit(c, local(3, 10, 0));
    let late = w.visit(c, local(3, 16, 0));
    w.round().await;
    let m = w.messages().await;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].visit, Some(early));
    w.book
        .update_visit(
            early,
            VisitPatch {
                status: Some(VisitStatus::Cancelled),
                ..Default::default()
            },
        )
        .unwrap();
    w.round().await;
    let m = w.messages().await;
    let reminder = m.iter().find(|x| x.kind == "reminder").unwrap();
    assert_eq!(reminder.visit, Some(late));
    assert_eq!(reminder.state, "scheduled");
    let notice = m.iter().find(|x| x.kind == "visit_cancelled").unwrap();
    assert_eq!(notice.state, "sent");
    assert_eq!(w.providers.received().len(), 1);
    assert!(w.providers.received()[0].text.contains("скасовано"));
    w.book
        .update_visit(
            late,
            VisitPatch {
                deleted: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    w.round().await;
    let m = w.messages().await;
    assert_eq!(
        m.iter().find(|x| x.kind == "reminder").unwrap().state,
        "cancelled"
    );
    // The day comes: nothing else is sent.
    w.set_now(local(3, 9, 0));
    w.round().await;
    assert_eq!(w.providers.received().len(), 1);
}

/// Event rules fire once per event: a visit booked, then confirmed; pushing the same documents
/// again, or the scheduler running twice, sends nothing more.
pub async fn events_fire_once<S: Storage>(mut w: World<S>) {
    let booked = w.template("Запис", "Вас записано на {visit_date} о {visit_time}", None);
    let confirmed = w.template("Підтверджено", "Візит {visit_time} підтверджено", None);
    w.rule("visit_created", 0, &[Channel::Sms], booked, false);
    w.rule(
        "status_changed:confirmed",
        0,
        &[Channel::Sms],
        confirmed,
        false,
    );
    let c = w.client("Олена", "+380671234567", &[Channel::Sms]);
    let v = w.visit(c, local(2, 11, 0));
    w.round().await;
    w.round().await;
    assert_eq!(w.providers.received().len(), 1);
    w.book
        .update_visit(
            v,
            VisitPatch {
                status: Some(VisitStatus::Confirmed),
                ..Default::default()
            },
        )
        .unwrap();
    w.round().await;
    w.sync().await;
    w.round().await;
    let got = w.providers.received();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[1].text.contains("підтверджено"));
}

/// Every gateway speaks its provider's protocol: WhatsApp with the approved template and our
/// placeholders as its parameters, email over SMTP, Telegram once the client started the bot.
pub async fn every_channel_reaches_its_provider<S: Storage>(mut w: World<S>) {
    let t = w.template(
        "Візит",
        "{client_first_name}, чекаємо вас о {visit_time}",
        Some("visit_booked:uk"),
    );
    w.rule(
        "visit_created",
        0,
        &[
            Channel::Sms,
            Channel::Whatsapp,
            Channel::Email,
            Channel::Telegram,
        ],
        t,
        false,
    );
    let c = w.client(
        "Олена Коваль",
        "+380671234567",
        &[Channel::Sms, Channel::Whatsapp, Channel::Email],
    );
    w.visit(c, local(2, 11, 0));
    w.round().await;
    let got = w.providers.received();
    let by = |p: &str| {
        got.iter()
            .filter(|r| r.provider == p)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(by("twilio").len(), 1);
    assert_eq!(by("twilio")[0].text, "Олена, чекаємо вас о 11:00");
    let wa = by("whatsapp");
    assert_eq!(wa.len(), 1);
    assert_eq!(wa[0].to, "380671234567");
    assert_eq!(wa[0].template.as_deref(), Some("visit_booked"));
    assert_eq!(wa[0].text, "Олена|11:00");
    let mails = w.smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["380671234567@example.com"]);
    assert!(
        mails[0].data.contains("Subject: =?utf-8?"),
        "{}",
        mails[0].data
    );
    // Telegram: no consent and no chat yet.
    let m = w.messages().await;
    let tg = m.iter().find(|x| x.channel == "telegram").unwrap();
    assert_eq!(tg.state, "skipped_no_consent");
    assert!(by("telegram").is_empty());
}

/// A provider that throttles (429 with Retry-After) gets the message again later, once; a
/// provider that says the recipient unsubscribed fails it and withdraws the consent.
pub async fn throttling_is_retried_and_opt_outs_withdraw_consent<S: Storage>(mut w: World<S>) {
    let t = w.template("Запис", "Вас записано на {visit_time}", None);
    w.rule("visit_created", 0, &[Channel::Sms], t, false);
    w.providers.set(Behaviour {
        throttle_first: 1,
        refuse: [("+380671234568".to_string(), 21610)].into(),
        ..Default::default()
    });
    let a = w.client("Олена", "+380671234567", &[Channel::Sms]);
    let b = w.client("Ірина", "+380671234568", &[Channel::Sms]);
    w.visit(a, local(2, 11, 0));
    w.round().await;
    w.visit(b, local(2, 12, 0));
    w.round().await;
    let m = w.messages().await;
    let of = |c| m.iter().find(|x| x.client == c).unwrap().clone();
    assert_eq!(of(a).state, "scheduled", "throttled: tried again later");
    assert_eq!(of(b).state, "failed");
    assert!(of(b).detail.unwrap().contains("21610"));
    assert!(
        !w.book.get_client(b).unwrap().consent["sms"],
        "the opt-out reached the device"
    );
    w.set_now(w.now() + Duration::seconds(2));
    w.round().await;
    let m = w.messages().await;
    assert_eq!(m.iter().find(|x| x.client == a).unwrap().state, "sent");
    assert_eq!(w.providers.received().len(), 1);
}

/// A message a dead process left `sending` is recovered after the lease: the provider is asked
/// (Twilio lists messages); sent if it has it, sent now if it has not — never twice.
pub async fn interrupted_sends_are_recovered_without_duplicates<S: Storage>(mut w: World<S>) {
    let t = w.template("Запис", "Вас записано на {visit_time}", None);
    w.rule("visit_created", 0, &[Channel::Sms], t, false);
    let a = w.client("Олена", "+380671234567", &[Channel::Sms]);
    let b = w.client("Ірина", "+380671234568", &[Channel::Sms]);
    w.visit(a, local(2, 11, 0));
    w.visit(b, local(2, 12, 0));
    w.sync().await;
    w.notifier.schedule_all().await.unwrap();
    // Another process claims both and dies; before dying it got one out to the provider.
    let dead = uuid::Uuid::now_v7();
    let claimed = w
        .storage
        .claim_due(w.now().timestamp_millis(), 10, dead)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let mut prov = kartka_server::notify::gateway::OutMessage {
        id: claimed[0].id,
        business: w.business,
        channel: Channel::Sms,
        to: String::new(),
        from: None,
        text: "Вас записано на 11:00".into(),
        subject: String::new(),
        whatsapp: None,
        claimed_at: w.now(),
    };
    prov.to = if claimed[0].client == a {
        "+380671234567"
    } else {
        "+380671234568"
    }
    .into();
    prov.text = format!(
        "Вас записано на {}",
        if claimed[0].client == a {
            "11:00"
        } else {
            "12:00"
        }
    );
    let gw = w.notifier.gateways.get(Channel::Sms).unwrap();
    assert!(matches!(
        gw.gateway.send(&prov).await,
        kartka_server::notify::gateway::SendOutcome::Sent { .. }
    ));
    // Within the lease nothing happens.
    w.round().await;
    assert_eq!(w.providers.received().len(), 1);
    // After it, the provider is asked: one was sent (kept), the other was not (sent now).
    w.set_now(w.now() + Duration::seconds(61));
    w.round().await;
    w.round().await;
    let got = w.providers.received();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_ne!(got[0].to, got[1].to);
    assert!(w.messages().await.iter().all(|m| m.state == "sent"));
}

/// A device not yet upgraded stored a number with the old reading (issue 23: `+49 89 12345678`
/// in a Russian or Ukrainian book became `+49912345678`, a stranger's). The server reads what
/// was typed again before sending and, where it differs, sends nothing and says why.
pub async fn a_number_stored_with_the_old_reading_is_never_sent_to<S: Storage>(mut w: World<S>) {
    let t = w.template("Нагадування", REMINDER, None);
    w.rule("reminder_before", 24 * 60, &[Channel::Sms], t, false);
    let c = w.client("Ганна", "+49 89 12345678", &[Channel::Sms]);
    let ok = w.client("Олена", "+380671234567", &[Channel::Sms]);
    w.visit(c, local(3, 12, 0));
    w.visit(ok, local(3, 13, 0));
    // The old device's edit: the same typed number, the wrong E.164 beside it.
    let mut doc = automerge::Automerge::load(&w.book.export_doc(c).unwrap()).unwrap();
    doc.set_actor(automerge::ActorId::random());
    let card = kartka_core::crdt::client::read(&doc, c).unwrap().card;
    let mut wrong = card.clone();
    wrong.phones[0].e164 = Some("+49912345678".into());
    kartka_core::crdt::client::edit_card(&mut doc, &card, &wrong, w.now()).unwrap();
    w.book.apply_remote(c, &doc.save()).unwrap();
    w.round().await;
    w.set_now(local(2, 15, 0));
    w.round().await;
    let sent: Vec<String> = w.providers.received().into_iter().map(|r| r.to).collect();
    assert_eq!(sent, ["+380671234567"]);
    let h = w.book.history(c).unwrap();
    assert_eq!(h[0].status, MessageStatus::Failed);
    let why = h[0].detail.as_deref().unwrap();
    assert!(
        why.contains("+498912345678") && why.contains("+49912345678"),
        "{why}"
    );
}

async fn sqlite() -> (tempfile::TempDir, SqliteStorage) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    (dir, s)
}

/// PostgreSQL cases share one database and claims are global, so they run one at a time and
/// start from an outbox with nothing pending.
static PG: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

use common::postgres;

macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        mod on_sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (_dir, s) = sqlite().await;
                    super::$case(World::new(s).await).await;
                }
            )*
        }
        mod on_postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let _one_at_a_time = PG.lock().await;
                    let Some(s) = postgres().await else { return };
                    super::$case(World::new(s).await).await;
                }
            )*
        }
    };
}

cases!(
    reminder_moves_with_the_visit_and_is_sent_once,
    consent_is_checked_when_sending,
    one_reminder_a_day_and_cancellation,
    events_fire_once,
    every_channel_reaches_its_provider,
    throttling_is_retried_and_opt_outs_withdraw_consent,
    interrupted_sends_are_recovered_without_duplicates,
    a_number_stored_with_the_old_reading_is_never_sent_to,
);
