//! A world for the notification tests: a device's book (a real SQLite book from the core), the
//! server's storage (a real SQLite file, or PostgreSQL), a notifier driven by a clock the test
//! moves, and the providers' remote ends on loopback.

#![allow(dead_code)]

pub mod served;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use kartka_core::Store;
use kartka_core::crdt::business::SettingsEdit;
use kartka_core::model::{
    Channel, ConsentSource, ConsentSubject, NewBusiness, NewClient, NewVisit, Rule, ServiceLine,
    Template,
};
use kartka_core::sync::wire::Cursor;
use kartka_server::config::{Gateways, Notify};
use kartka_server::metrics::Metrics;
use kartka_server::notify::doubles::{Providers, SmtpSink};
use kartka_server::notify::{self, Clock, Notifier, dispatch, record};
use kartka_server::storage::outbox::Message;
use kartka_server::storage::{NewDevice, Storage};
use uuid::Uuid;

pub const ZONE: &str = "Europe/Kyiv";

/// The test PostgreSQL (when configured), migrated, with nothing pending in its outbox: claims
/// are global, and what an earlier test left scheduled must not reach this world's providers.
pub async fn postgres() -> Option<kartka_server::storage::postgres::PgStorage> {
    let url = kartka_server::storage::conformance::test_postgres_url()?;
    let s = kartka_server::storage::postgres::PgStorage::connect(&url, 8)
        .await
        .expect("connect to PostgreSQL");
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .execute(
            "UPDATE messages SET state = 'cancelled' WHERE state IN ('scheduled', 'sending')",
            &[],
        )
        .await
        .unwrap();
    Some(s)
}

pub fn kyiv() -> Tz {
    ZONE.parse().unwrap()
}

/// A local wall time in Kyiv, `days` from today.
pub fn local(days: i64, hh: u32, mm: u32) -> DateTime<Utc> {
    let today = Utc::now().with_timezone(&kyiv()).date_naive();
    let d: NaiveDate = today + Duration::days(days);
    kyiv()
        .from_local_datetime(&d.and_time(NaiveTime::from_hms_opt(hh, mm, 0).unwrap()))
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

pub fn show(t: DateTime<Utc>) -> String {
    t.with_timezone(&kyiv())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub struct World<S: Storage> {
    pub dir: tempfile::TempDir,
    pub storage: S,
    pub notifier: Arc<Notifier<S>>,
    pub clock: Arc<Mutex<DateTime<Utc>>>,
    pub book: Store,
    pub business: Uuid,
    pub device: Uuid,
    /// The device's bearer token, for the HTTP API.
    pub token: String,
    pub cursor: Cursor,
    pub providers: Providers,
    pub smtp: SmtpSink,
}

/// Every channel on a real provider protocol, each pointed at the loopback doubles.
pub fn gateways(p: &Providers, smtp: &SmtpSink) -> Gateways {
    let t: kartka_server::Config = toml::from_str(&format!(
        r#"
        [gateways.sms]
        kind = "twilio"
        base_url = "{url}"
        account_sid = "AC00000000000000000000000000000001"
        auth_token = "twilio-secret"
        from = "+15550000001"
        rate_per_second = 1000
        [gateways.whatsapp]
        kind = "whatsapp_cloud"
        base_url = "{url}/wa"
        phone_number_id = "1234567890"
        access_token = "wa-token"
        app_secret = "wa-app-secret"
        verify_token = "wa-verify"
        rate_per_second = 1000
        [gateways.email]
        kind = "smtp"
        host = "127.0.0.1"
        port = {smtp_port}
        security = "none"
        from = "Студія Олени <studio@example.com>"
        rate_per_second = 1000
        [gateways.telegram]
        kind = "telegram"
        base_url = "{url}/tg"
        bot_token = "123:abc"
        bot_username = "kartka_test_bot"
        webhook_secret = "tg-secret"
        rate_per_second = 1000
        "#,
        url = p.url,
        smtp_port = smtp.addr.port()
    ))
    .unwrap();
    t.gateways
}

pub fn notify_config(dir: &std::path::Path) -> Notify {
    Notify {
        outbox: dir.join("outbox.jsonl"),
        gateway_timeout_secs: 5,
        lease_secs: 60,
        ..Notify::default()
    }
}

impl<S: Storage> World<S> {
    pub async fn new(storage: S) -> World<S> {
        Self::with_gateways(storage, None).await
    }

    /// `gateways`: `None` for every channel on its provider double; or a config of the test's.
    pub async fn with_gateways(storage: S, gateways: Option<Gateways>) -> World<S> {
        let dir = tempfile::tempdir().unwrap();
        let providers = Providers::start().await;
        let smtp = SmtpSink::start().await;
        let clock = Arc::new(Mutex::new(Utc::now()));
        let c = clock.clone();
        let clock_fn: Clock = Arc::new(move || *c.lock().unwrap());
        let gw = gateways.unwrap_or_else(|| self::gateways(&providers, &smtp));
        let config = notify_config(dir.path());
        let notifier = Notifier::new(
            storage.clone(),
            config.clone(),
            notify::Gateways::new(&gw, &config).unwrap(),
            Arc::new(Metrics::new()),
            clock_fn,
        );
        let mut book = Store::open(dir.path().join("book.db")).unwrap();
        // The book lives in the test's time too: visits are booked "now", as the server sees it.
        let c = clock.clone();
        book.set_clock(Arc::new(move || *c.lock().unwrap()));
        let business = book
            .init_business(NewBusiness {
                name: "Студія Олени".into(),
                region: "UA".into(),
                zone: ZONE.into(),
                currency: "UAH".into(),
                locale: Some("uk".into()),
            })
            .unwrap()
            .id;
        for day in 0..7 {
            book.edit_business(SettingsEdit::Hours {
                weekday: day,
                hours: "09:00-19:00".into(),
            })
            .unwrap();
        }
        let device = Uuid::now_v7();
        let token = kartka_server::auth::new_token();
        storage
            .create_business(
                business,
                "Студія Олени",
                NewDevice {
                    id: device,
                    name: "phone".into(),
                    token_hash: kartka_server::auth::hash(&token),
                    at_ms: Utc::now().timestamp_millis(),
                },
            )
            .await
            .unwrap();
        let mut w = World {
            dir,
            storage,
            notifier,
            clock,
            book,
            business,
            device,
            token,
            cursor: Cursor::Feed(0),
            providers,
            smtp,
        };
        w.sync().await;
        w
    }

    /// The world's notifier again, with the test's own business senders.
    pub fn set_senders(&mut self, senders: Vec<kartka_server::config::Sender>) {
        let config = Notify {
            senders,
            ..notify_config(self.dir.path())
        };
        self.notifier = Notifier::new(
            self.storage.clone(),
            config.clone(),
            notify::Gateways::new(&gateways(&self.providers, &self.smtp), &config).unwrap(),
            Arc::new(Metrics::new()),
            {
                let c = self.clock.clone();
                Arc::new(move || *c.lock().unwrap())
            },
        );
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.clock.lock().unwrap()
    }

    pub fn set_now(&self, t: DateTime<Utc>) {
        *self.clock.lock().unwrap() = t;
    }

    /// Pushes every document whole (the server keeps only what is new) and pulls what the
    /// server wrote, like a device's sync.
    pub async fn sync(&mut self) {
        let chunks: Vec<_> = self
            .book
            .doc_ids()
            .unwrap()
            .into_iter()
            .map(|doc| kartka_core::sync::wire::Chunk {
                doc,
                data: self.book.export_doc(doc).unwrap(),
            })
            .collect();
        self.storage
            .push(self.business, Some(self.device), chunks)
            .await
            .unwrap();
        loop {
            let p = self
                .storage
                .pull(self.business, self.cursor, Some(self.device), 1 << 20)
                .await
                .unwrap();
            for c in &p.chunks {
                self.book.apply_remote(c.doc, &c.data).unwrap();
            }
            self.cursor = p.cursor;
            if !p.more {
                break;
            }
        }
    }

    /// Schedules, dispatches everything due and records outcomes, as the server's loops do.
    pub async fn step(&mut self) {
        self.notifier.schedule_all().await.unwrap();
        dispatch::recover(&self.notifier).await.unwrap();
        while dispatch::run_once(&self.notifier).await.unwrap() > 0 {}
        while record::run_once(&self.notifier).await.unwrap() > 0 {}
    }

    /// Syncs, then steps, then syncs again (so the book sees what the server recorded).
    pub async fn round(&mut self) {
        self.sync().await;
        self.step().await;
        self.sync().await;
    }

    pub async fn messages(&self) -> Vec<Message> {
        self.storage.messages_of(self.business).await.unwrap()
    }

    pub fn template(&mut self, name: &str, body: &str, whatsapp: Option<&str>) -> Uuid {
        let id = Uuid::now_v7();
        self.book
            .edit_business(SettingsEdit::PutTemplate(Template {
                id,
                name: name.into(),
                channel: None,
                body: body.into(),
                whatsapp: whatsapp.map(str::to_string),
            }))
            .unwrap();
        id
    }

    pub fn rule(
        &mut self,
        trigger: &str,
        offset_min: i64,
        channels: &[Channel],
        template: Uuid,
        working_hours_only: bool,
    ) -> Uuid {
        let id = Uuid::now_v7();
        self.book
            .edit_business(SettingsEdit::PutRule(Rule {
                id,
                name: format!("{trigger} {offset_min}"),
                trigger: trigger.into(),
                offset_min,
                channels: channels.to_vec(),
                template_id: Some(template),
                channel_templates: Vec::new(),
                working_hours_only,
                statuses: Vec::new(),
                enabled: true,
                staff: None,
            }))
            .unwrap();
        id
    }

    /// A client with a Ukrainian number, an email, and consent to `channels`.
    pub fn client(&mut self, name: &str, phone: &str, channels: &[Channel]) -> Uuid {
        let c = self
            .book
            .create_client(NewClient {
                name: name.into(),
                phones: vec![(phone.into(), "mobile".into())],
                email: Some(format!(
                    "{}@example.com",
                    phone
                        .chars()
                        .filter(char::is_ascii_digit)
                        .collect::<String>()
                )),
                ..Default::default()
            })
            .unwrap();
        for ch in channels {
            self.consent(c.id, *ch, true);
        }
        c.id
    }

    pub fn consent(&mut self, client: Uuid, channel: Channel, granted: bool) {
        self.book
            .set_consent(
                client,
                ConsentSubject::Channel(channel),
                granted,
                ConsentSource::Written,
                "signed form",
            )
            .unwrap();
    }

    pub fn visit(&mut self, client: Uuid, start: DateTime<Utc>) -> Uuid {
        self.book
            .add_visit(NewVisit::booked(
                client,
                start,
                60,
                vec![ServiceLine {
                    name: "Манікюр".into(),
                    price: 80000,
                    quantity: 1,
                }],
            ))
            .unwrap()
            .id
    }
}
