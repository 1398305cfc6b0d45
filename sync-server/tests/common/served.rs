//! The real HTTP server in front of a [`World`]'s storage, for webhooks and links, and the
//! providers' signatures the tests sign with.

use base64::Engine;
use hmac::{Hmac, Mac};
use kartka_server::config::Notify;
use kartka_server::storage::Storage;
use kartka_server::storage::sqlite::SqliteStorage;

use super::World;

pub struct Served {
    pub url: String,
    pub http: reqwest::Client,
}

pub async fn serve<S: Storage>(w: &World<S>) -> Served {
    serve_with(w, |_| {}).await
}

/// [`serve`], with the test's own changes to the notification settings.
pub async fn serve_with<S: Storage>(w: &World<S>, change: impl FnOnce(&mut Notify)) -> Served {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut notify = Notify {
        // The world's notifier schedules and sends; this one only answers webhooks.
        enabled: false,
        public_url: Some(url.clone()),
        ..super::notify_config(w.dir.path())
    };
    change(&mut notify);
    let config = kartka_server::Config {
        bind: format!("127.0.0.1:{port}").parse().unwrap(),
        notify,
        gateways: super::gateways(&w.providers, &w.smtp),
        ..Default::default()
    };
    let running = kartka_server::start_with(w.storage.clone(), config)
        .await
        .unwrap();
    tokio::spawn(running.wait());
    Served {
        url,
        http: reqwest::Client::new(),
    }
}

pub fn twilio_sign(url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"twilio-secret").unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

impl Served {
    pub async fn twilio(&self, url: &str, params: &[(&str, &str)], signature: &str) -> u16 {
        self.http
            .post(url)
            .header("X-Twilio-Signature", signature)
            .form(params)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn whatsapp(&self, body: &str, secret: &str) -> u16 {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        self.http
            .post(format!("{}/v1/hooks/whatsapp", self.url))
            .header("X-Hub-Signature-256", sig)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// A signed Telegram start link for a client or a staff member, as the device asks for it:
    /// the start token, or the refusal's status.
    pub async fn telegram_link(
        &self,
        token: &str,
        client: Option<uuid::Uuid>,
        staff: Option<uuid::Uuid>,
    ) -> Result<String, u16> {
        let r = self
            .http
            .post(format!("{}/v1/telegram-links", self.url))
            .bearer_auth(token)
            .json(&kartka_core::sync::wire::TelegramLinkRequest { client, staff })
            .send()
            .await
            .unwrap();
        if !r.status().is_success() {
            return Err(r.status().as_u16());
        }
        let link: kartka_core::sync::wire::TelegramLink = r.json().await.unwrap();
        let (bot, start) = link.link.split_once("?start=").unwrap();
        assert_eq!(bot, "https://t.me/kartka_test_bot");
        Ok(start.to_string())
    }

    /// `/start <token>` from `chat`, as Telegram delivers it.
    pub async fn telegram_start(&self, update: i64, chat: i64, token: &str) -> u16 {
        let body = format!(
            r#"{{"update_id":{update},"message":{{"message_id":5,"chat":{{"id":{chat}}},"text":"/start {token}"}}}}"#
        );
        self.telegram(&body, "tg-secret").await
    }

    pub async fn telegram(&self, body: &str, secret: &str) -> u16 {
        self.http
            .post(format!("{}/v1/hooks/telegram", self.url))
            .header("X-Telegram-Bot-Api-Secret-Token", secret)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// The world's notifier, sending as a server reachable at `served` (status callbacks and
/// confirmation links point there).
pub fn public_at<S: Storage>(w: &mut World<S>, served: &Served) {
    let config = Notify {
        public_url: Some(served.url.clone()),
        ..super::notify_config(w.dir.path())
    };
    w.notifier = kartka_server::notify::Notifier::new(
        w.storage.clone(),
        config.clone(),
        kartka_server::notify::Gateways::new(&super::gateways(&w.providers, &w.smtp), &config)
            .unwrap(),
        std::sync::Arc::new(kartka_server::metrics::Metrics::new()),
        {
            let c = w.clock.clone();
            std::sync::Arc::new(move || *c.lock().unwrap())
        },
    );
}

pub async fn world() -> (tempfile::TempDir, World<SqliteStorage>) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    (dir, World::new(s).await)
}
