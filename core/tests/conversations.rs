//! Conversations, leads and mailings through the store's public API, on real SQLite files. What
//! the server writes (a client's message, a lead) is made here with the same document functions
//! the server uses and arrives as a sync would bring it.

mod common;

use std::sync::{Arc, Mutex};

use automerge::{ActorId, Automerge};
use chrono::{DateTime, Duration, Utc};
use common::{at, book, client, second_device, sync_into};
use kartka_core::Error;
use kartka_core::crdt::business::SettingsEdit;
use kartka_core::crdt::client::{self as client_doc, Card};
use kartka_core::model::{
    Audience, Channel, ClientClass, ClientSource, ConsentSource, ConsentSubject, Conversation,
    ConversationStatus, MessageKind, MessageRecord, MessageStatus, Template,
};
use kartka_core::store::{ConversationChange, NewMailing, Page, ReplyText, Store};
use uuid::Uuid;

fn all() -> Page {
    Page {
        offset: 0,
        limit: 100,
    }
}

fn clock(store: &mut Store, start: DateTime<Utc>) -> Arc<Mutex<DateTime<Utc>>> {
    let now = Arc::new(Mutex::new(start));
    let c = now.clone();
    store.set_clock(Arc::new(move || *c.lock().unwrap()));
    now
}

fn consent(s: &mut Store, c: Uuid, ch: Channel) {
    s.set_consent(
        c,
        ConsentSubject::Channel(ch),
        true,
        ConsentSource::Written,
        "signed form",
    )
    .unwrap();
}

/// What the server does when a client writes: the message into the history, the conversation
/// unanswered, (on WhatsApp) the window opened. Applied as a sync would.
fn client_writes(s: &mut Store, client: Uuid, ch: Channel, text: &str, when: DateTime<Utc>) {
    let mut doc = Automerge::load(&s.export_doc(client).unwrap())
        .unwrap()
        .with_actor(ActorId::random());
    client_doc::put_message(
        &mut doc,
        &MessageRecord {
            id: Uuid::now_v7(),
            client_id: client,
            channel: ch,
            kind: MessageKind::Inbound,
            body: text.into(),
            at: when,
            staff_id: None,
            device_id: None,
            visit_id: None,
            template_id: None,
            rule_id: None,
            status: MessageStatus::Received,
            status_at: when,
            detail: None,
        },
    )
    .unwrap();
    if ch == Channel::Whatsapp {
        client_doc::set_whatsapp_last_inbound(&mut doc, when).unwrap();
    }
    client_doc::set_conversation(
        &mut doc,
        &Conversation {
            status: ConversationStatus::Unanswered,
            since: when,
            until: None,
            staff_id: None,
        },
    )
    .unwrap();
    s.apply_remote(client, &doc.save()).unwrap();
}

#[test]
fn a_reply_is_queued_with_consent_and_an_address_and_opens_the_conversation() {
    let (_d, mut s) = book();
    let now = clock(&mut s, at(2027, 3, 10, 10, 0));
    let staff = s.add_staff("Олена").unwrap();
    s.set_current_staff(Some(staff)).unwrap();
    let c = s
        .create_client(client("Ірина", &["0671234567"]))
        .unwrap()
        .id;
    client_writes(
        &mut s,
        c,
        Channel::Sms,
        "Можна на п'ятницю?",
        *now.lock().unwrap(),
    );
    assert_eq!(
        s.inbox(Some(ConversationStatus::Unanswered), all())
            .unwrap()[0]
            .client_id,
        c
    );

    // No consent: refused, nothing written.
    let err = s
        .reply(c, Channel::Sms, ReplyText::Text("Так, о 15:00".into()))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NoConsent {
                channel: Channel::Sms
            }
        ),
        "{err}"
    );
    assert_eq!(s.history(c).unwrap().len(), 1);
    // Email consent without an address: refused.
    consent(&mut s, c, Channel::Email);
    assert!(matches!(
        s.reply(c, Channel::Email, ReplyText::Text("Так".into())),
        Err(Error::NoAddress { .. })
    ));
    // Viber has no gateway.
    assert!(matches!(
        s.reply(c, Channel::Viber, ReplyText::Text("Так".into())),
        Err(Error::Validation {
            field: "channel",
            ..
        })
    ));

    consent(&mut s, c, Channel::Sms);
    let r = s
        .reply(c, Channel::Sms, ReplyText::Text(" Так, о 15:00 ".into()))
        .unwrap();
    assert_eq!(
        (r.kind, r.status),
        (MessageKind::Reply, MessageStatus::Queued)
    );
    assert_eq!(r.body, "Так, о 15:00");
    assert_eq!(r.staff_id, Some(staff));
    let history = s.history(c).unwrap();
    assert_eq!(history.last().unwrap(), &r);
    let inbox = s.inbox(None, all()).unwrap();
    assert_eq!(inbox[0].status, ConversationStatus::Open);
    assert_eq!(
        inbox[0].staff_id,
        Some(staff),
        "the one who answers takes it"
    );
    assert_eq!(inbox[0].last_body.as_deref(), Some("Так, о 15:00"));
    assert!(
        s.inbox(Some(ConversationStatus::Unanswered), all())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn whatsapp_free_text_only_within_24_hours_of_the_client_s_last_message() {
    let (_d, mut s) = book();
    let now = clock(&mut s, at(2027, 3, 10, 10, 0));
    let c = s
        .create_client(client("Ірина", &["0671234567"]))
        .unwrap()
        .id;
    consent(&mut s, c, Channel::Whatsapp);
    assert_eq!(s.whatsapp_window(c).unwrap(), None);
    assert!(matches!(
        s.reply(c, Channel::Whatsapp, ReplyText::Text("Добрий день".into())),
        Err(Error::WhatsAppWindowClosed)
    ));
    // An approved template goes outside the window; an unapproved one does not.
    let plain = Uuid::now_v7();
    let approved = Uuid::now_v7();
    for (id, wa) in [
        (plain, None),
        (approved, Some("visit_reminder:uk".to_string())),
    ] {
        s.edit_business(SettingsEdit::PutTemplate(Template {
            id,
            name: "Нагадування".into(),
            channel: None,
            body: "Чекаємо вас, {client_name}".into(),
            whatsapp: wa,
        }))
        .unwrap();
    }
    assert!(matches!(
        s.reply(c, Channel::Whatsapp, ReplyText::Template(plain)),
        Err(Error::WhatsAppWindowClosed)
    ));
    let r = s
        .reply(c, Channel::Whatsapp, ReplyText::Template(approved))
        .unwrap();
    assert_eq!(r.body, "Чекаємо вас, Ірина");
    assert_eq!(r.template_id, Some(approved));

    let wrote = at(2027, 3, 10, 9, 0);
    client_writes(&mut s, c, Channel::Whatsapp, "Привіт", wrote);
    assert_eq!(
        s.whatsapp_window(c).unwrap(),
        Some(wrote + Duration::hours(24))
    );
    s.reply(c, Channel::Whatsapp, ReplyText::Text("Добрий день".into()))
        .unwrap();
    *now.lock().unwrap() = wrote + Duration::hours(24);
    assert_eq!(s.whatsapp_window(c).unwrap(), None);
    assert!(matches!(
        s.reply(c, Channel::Whatsapp, ReplyText::Text("Ще тут?".into())),
        Err(Error::WhatsAppWindowClosed)
    ));
}

#[test]
fn status_assignment_and_notes_reach_every_device_and_a_postponement_runs_out() {
    let (_d, mut s) = book();
    let now = clock(&mut s, at(2027, 3, 10, 10, 0));
    let olena = s.add_staff("Олена").unwrap();
    let maria = s.add_staff("Марія").unwrap();
    s.set_current_staff(Some(olena)).unwrap();
    let c = s
        .create_client(client("Ірина", &["0671234567"]))
        .unwrap()
        .id;
    client_writes(&mut s, c, Channel::Sms, "Питання", *now.lock().unwrap());

    s.change_conversation(
        c,
        ConversationChange {
            assign: Some(Some(olena)),
            ..Default::default()
        },
    )
    .unwrap();
    s.change_conversation(
        c,
        ConversationChange {
            status: Some(ConversationStatus::Postponed),
            until: Some(at(2027, 3, 11, 9, 0)),
            assign: Some(Some(maria)),
        },
    )
    .unwrap();
    s.add_note(c, "Передзвонити після обіду").unwrap();
    // A postponement into the past is refused.
    assert!(
        s.change_conversation(
            c,
            ConversationChange {
                status: Some(ConversationStatus::Postponed),
                until: Some(at(2027, 3, 9, 9, 0)),
                ..Default::default()
            },
        )
        .is_err()
    );

    let (_d2, mut other) = second_device(&s);
    sync_into(&s, &mut other);
    let notes: Vec<String> = other
        .notes(c)
        .unwrap()
        .into_iter()
        .map(|n| n.body)
        .collect();
    assert_eq!(
        notes,
        [
            "Олена took the conversation",
            "Олена gave the conversation to Марія",
            "Олена postponed the conversation until 2027-03-11 11:00",
            "Передзвонити після обіду",
        ]
    );
    let e = &other.inbox(None, all()).unwrap()[0];
    assert_eq!(
        (e.status, e.staff_id),
        (ConversationStatus::Postponed, Some(maria))
    );
    // Notes are never messages: nothing in the history but the client's own.
    assert_eq!(other.history(c).unwrap().len(), 1);

    // At its time the postponed conversation reads as unanswered again.
    *now.lock().unwrap() = at(2027, 3, 11, 9, 0);
    let e = &s
        .inbox(Some(ConversationStatus::Unanswered), all())
        .unwrap()[0];
    assert_eq!(e.client_id, c);
    s.change_conversation(
        c,
        ConversationChange {
            status: Some(ConversationStatus::Closed),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        s.inbox(Some(ConversationStatus::Unanswered), all())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.notes(c).unwrap().last().unwrap().body,
        "Олена closed the conversation"
    );
}

/// A lead as the server makes it for an unknown sender.
fn lead(s: &mut Store, phone: &str, text: &str, when: DateTime<Utc>) -> Uuid {
    let id = Uuid::now_v7();
    let card = Card {
        name: phone.into(),
        given_name: None,
        family_name: None,
        phones: vec![kartka_core::model::Phone {
            raw: phone.into(),
            e164: Some(phone.into()),
            label: "mobile".into(),
            primary: true,
        }],
        email: None,
        birthday: None,
        comment: None,
        class: ClientClass::Regular,
        tags: vec![],
        loyalty_card: None,
        discount_percent: 0,
        source: ClientSource::Manual,
    };
    let mut doc = client_doc::create(ActorId::random(), id, &card, when).unwrap();
    client_doc::set_lead(&mut doc, true, when).unwrap();
    s.apply_remote(id, &doc.save()).unwrap();
    client_writes(s, id, Channel::Whatsapp, text, when);
    id
}

#[test]
fn an_unknown_sender_is_a_lead_outside_the_book_until_attached_or_taken_in() {
    let (_d, mut s) = book();
    let now = clock(&mut s, at(2027, 3, 10, 10, 0));
    let c = s
        .create_client(client("Ірина", &["0501112233"]))
        .unwrap()
        .id;
    let l = lead(
        &mut s,
        "+380679998877",
        "Це Ірина, новий номер",
        *now.lock().unwrap(),
    );

    // Not in the book: not listed, not found, not counted.
    let listed = s
        .list_clients(&Default::default(), all())
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect::<Vec<_>>();
    assert_eq!(listed, [c]);
    assert!(s.search("998877", all()).unwrap().is_empty());
    let inbox = s.inbox(None, all()).unwrap();
    assert_eq!(inbox.len(), 1);
    assert!(inbox[0].lead);
    assert_eq!(inbox[0].last_body.as_deref(), Some("Це Ірина, новий номер"));

    // A lead cannot be attached to another lead, nor a client used as a lead.
    assert!(s.attach_lead(c, l).is_err());
    s.attach_lead(l, c).unwrap();
    let card = s.get_client(c).unwrap();
    assert!(
        card.phones
            .iter()
            .any(|p| p.e164.as_deref() == Some("+380679998877"))
    );
    assert_eq!(s.history(c).unwrap()[0].body, "Це Ірина, новий номер");
    // Writing to the business is not consent.
    assert!(!card.consent[&"whatsapp".to_string()]);
    let inbox = s.inbox(None, all()).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!((inbox[0].client_id, inbox[0].lead), (c, false));
    // The window the lead's message opened carries over.
    assert!(s.whatsapp_window(c).unwrap().is_some());

    // Another stranger, taken in as a new client.
    let l2 = lead(&mut s, "+380631234567", "Добрий день", *now.lock().unwrap());
    s.accept_lead(l2, Some("Марта")).unwrap();
    let m = s.get_client(l2).unwrap();
    assert_eq!(m.name, "Марта");
    assert_eq!(s.search("Марта", all()).unwrap()[0].id, l2);
    assert!(!s.inbox(None, all()).unwrap().iter().any(|e| e.lead));
}

#[test]
fn a_mailing_is_checked_like_its_preview_and_its_progress_is_read_from_the_history() {
    let (_d, mut s) = book();
    clock(&mut s, at(2027, 3, 10, 10, 0));
    let c = s
        .create_client(client("Ірина", &["0671234567"]))
        .unwrap()
        .id;
    assert!(
        s.start_mailing(NewMailing {
            name: "Весна".into(),
            channel: Channel::Sms,
            text: "Знижка {nonsense}".into(),
            audience: Audience::default(),
            start: None,
        })
        .is_err(),
        "an unknown placeholder is refused before anything is sent"
    );
    let m = s
        .start_mailing(NewMailing {
            name: "Весна".into(),
            channel: Channel::Sms,
            text: "{client_name}, знижка 10% до неділі".into(),
            audience: Audience {
                tag: Some("брови".into()),
                ..Default::default()
            },
            start: None,
        })
        .unwrap();
    let (_d2, other) = second_device(&s);
    let listed = other.mailings().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, m);
    assert_eq!(listed[0].1.total, 0);

    // The server's history entries, as they arrive on a device.
    let mut doc = Automerge::load(&s.export_doc(c).unwrap())
        .unwrap()
        .with_actor(ActorId::random());
    for status in [
        MessageStatus::Sent,
        MessageStatus::Scheduled,
        MessageStatus::SkippedNoConsent,
    ] {
        client_doc::put_message(
            &mut doc,
            &MessageRecord {
                id: Uuid::now_v7(),
                client_id: c,
                channel: Channel::Sms,
                kind: MessageKind::Mailing,
                body: "Ірина, знижка 10% до неділі".into(),
                at: at(2027, 3, 10, 10, 1),
                staff_id: None,
                device_id: None,
                visit_id: None,
                template_id: None,
                rule_id: Some(m.id),
                status,
                status_at: at(2027, 3, 10, 10, 1),
                detail: None,
            },
        )
        .unwrap();
    }
    s.apply_remote(c, &doc.save()).unwrap();
    let p = s.mailing_progress(m.id).unwrap();
    assert_eq!(
        (p.total, p.sent, p.pending, p.skipped),
        (3, 1, 1, 1),
        "{p:?}"
    );
    assert!(!p.finished());

    s.cancel_mailing(m.id).unwrap();
    assert!(s.mailings().unwrap()[0].0.cancelled);
    assert!(matches!(
        s.cancel_mailing(Uuid::now_v7()),
        Err(Error::NotFound { .. })
    ));
}
