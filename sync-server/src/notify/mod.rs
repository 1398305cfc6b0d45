//! Notifications: the server runs the rules the devices edit.
//!
//! - [`schedule`]: keeps each business's messages in step with its documents;
//! - [`dispatch`]: claims due messages, checks consent at the moment of sending, sends;
//! - [`record`]: writes every outcome into the client's history document;
//! - [`gateway`]: the providers (log, Twilio, generic HTTP SMS, SMTP, WhatsApp Cloud, Telegram);
//! - [`webhooks`]: delivery reports, opt-outs, the Telegram bot.
//!
//! The state machine is in ARCHITECTURE.md ("Scheduler state machine").

pub mod confirm;
pub mod dispatch;
pub mod doubles;
pub mod gateway;
pub mod inbound;
pub mod record;
pub mod schedule;
pub mod start_link;
pub mod webhooks;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use kartka_core::crdt::client as client_doc;
use kartka_core::model::{Channel, ConsentEvent, ConsentSource, ConsentSubject};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::config::{Gateways as GatewaysConfig, Notify as NotifyConfig};
use crate::metrics::Metrics;
use crate::storage::Storage;
use crate::writer::ServerWriter;
use gateway::{Gateway, GatewayConfig, GatewayError};

/// What time it is. Tests drive their own clock; the server reads the system's.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

pub struct GatewayEntry {
    pub gateway: Gateway,
    pub limiter: DefaultDirectRateLimiter,
}

/// The gateway of each channel, with its rate limit.
#[derive(Default)]
pub struct Gateways {
    entries: HashMap<Channel, Arc<GatewayEntry>>,
}

fn rate_of(c: &GatewayConfig) -> u32 {
    match c {
        GatewayConfig::Log => 10_000,
        GatewayConfig::Twilio(c) => c.rate_per_second,
        GatewayConfig::Http(c) => c.rate_per_second,
        GatewayConfig::Smtp(c) => c.rate_per_second,
        GatewayConfig::WhatsappCloud(c) => c.rate_per_second,
        GatewayConfig::Telegram(c) => c.rate_per_second,
    }
}

impl Gateways {
    pub fn new(config: &GatewaysConfig, notify: &NotifyConfig) -> Result<Gateways, GatewayError> {
        let timeout = StdDuration::from_secs(notify.gateway_timeout_secs.max(1));
        let callback = notify
            .public_url
            .as_ref()
            .map(|u| format!("{}/v1/hooks/twilio/status", u.trim_end_matches('/')));
        // One log gateway for every channel that uses it: one outbox file, one writer.
        let mut log: Option<Arc<GatewayEntry>> = None;
        let mut entries = HashMap::new();
        for (channel, c) in [
            (Channel::Sms, &config.sms),
            (Channel::Whatsapp, &config.whatsapp),
            (Channel::Email, &config.email),
            (Channel::Telegram, &config.telegram),
        ] {
            let entry = if matches!(c, GatewayConfig::Log) && log.is_some() {
                log.clone().expect("checked")
            } else {
                let mut gateway = Gateway::new(c, &notify.outbox, timeout)?;
                if let Gateway::Twilio(t) = gateway {
                    gateway = Gateway::Twilio(t.with_callback(callback.clone()));
                }
                let per_sec = NonZeroU32::new(rate_of(c).max(1)).expect("non-zero");
                let e = Arc::new(GatewayEntry {
                    gateway,
                    limiter: RateLimiter::direct(Quota::per_second(per_sec)),
                });
                if matches!(c, GatewayConfig::Log) {
                    log = Some(e.clone());
                }
                e
            };
            entries.insert(channel, entry);
        }
        Ok(Gateways { entries })
    }

    pub fn get(&self, channel: Channel) -> Option<&Arc<GatewayEntry>> {
        self.entries.get(&channel)
    }

    /// The first gateway of this kind, for webhooks that belong to a provider.
    pub fn find(&self, name: &str) -> Option<&Gateway> {
        self.entries
            .values()
            .map(|e| &e.gateway)
            .find(|g| g.name() == name)
    }
}

pub struct Notifier<S> {
    pub storage: S,
    pub config: NotifyConfig,
    pub gateways: Gateways,
    pub writer: Arc<ServerWriter>,
    pub metrics: Arc<Metrics>,
    /// This process, as the claimer of the messages it sends.
    pub id: Uuid,
    /// Signs confirmation links (`confirm.rs`).
    pub link_key: Vec<u8>,
    /// New leads per business (`inbound.rs`).
    pub(crate) lead_limit: governor::DefaultKeyedRateLimiter<Uuid>,
    clock: Clock,
    wake: tokio::sync::Notify,
}

impl<S: Storage> Notifier<S> {
    pub fn new(
        storage: S,
        config: NotifyConfig,
        gateways: Gateways,
        metrics: Arc<Metrics>,
        clock: Clock,
    ) -> Arc<Notifier<S>> {
        let dir = config
            .outbox
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf();
        let link_key = confirm::load_key(config.link_secret.as_deref(), &dir);
        let leads = NonZeroU32::new(config.leads_per_hour).unwrap_or(NonZeroU32::MIN);
        Arc::new(Notifier {
            link_key,
            lead_limit: RateLimiter::keyed(Quota::per_hour(leads).allow_burst(leads)),
            storage,
            config,
            gateways,
            writer: Arc::new(ServerWriter::default()),
            metrics,
            id: Uuid::now_v7(),
            clock,
            wake: tokio::sync::Notify::new(),
        })
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    fn stale(&self) -> Duration {
        Duration::hours(self.config.stale_hours as i64)
    }

    /// Schedules `business` until it is up to date.
    pub async fn schedule(&self, business: Uuid) -> Result<(), crate::storage::StorageError> {
        while schedule::pass(&self.storage, business, self.now(), self.stale()).await? {}
        self.wake.notify_one();
        Ok(())
    }

    /// Schedules every business that is behind (or due its daily sweep).
    pub async fn schedule_all(&self) -> Result<(), crate::storage::StorageError> {
        for (business, _, _) in self.storage.sched_businesses().await? {
            self.schedule(business).await?;
        }
        Ok(())
    }

    /// Withdraws the client's consent to `channel`, with the provider's or the client's words
    /// as the evidence (an opt-out reply, a blocked bot, a provider's "unsubscribed").
    pub async fn withdraw(&self, business: Uuid, client: Uuid, channel: Channel, evidence: &str) {
        let ev = ConsentEvent {
            id: Uuid::now_v7(),
            subject: ConsentSubject::Channel(channel),
            granted: false,
            at: self.now(),
            staff_id: None,
            // The nil device: the server itself recorded it.
            device_id: Uuid::nil(),
            source: ConsentSource::ClientReply,
            note: evidence.chars().take(200).collect(),
        };
        let res = self
            .writer
            .edit(&self.storage, business, client, |d| {
                client_doc::record_consent(d, &ev)
            })
            .await;
        match res {
            Ok(_) => tracing::info!(%client, %channel, "consent withdrawn by the client"),
            Err(e) => tracing::warn!(%client, error = %e, "cannot record a withdrawal"),
        }
    }
}

/// Starts the scheduler, the dispatcher and the recorder on the current runtime.
pub fn start<S: Storage>(n: Arc<Notifier<S>>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(scheduler(n.clone(), stop.clone())),
        tokio::spawn(dispatcher(n.clone(), stop.clone())),
        tokio::spawn(recorder(n, stop)),
    ]
}

/// Resolves when the server is stopping (the guard `wait_for` returns must not be held across
/// an await, so it is dropped here).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn scheduler<S: Storage>(n: Arc<Notifier<S>>, mut stop: watch::Receiver<bool>) {
    let mut feed = n.storage.subscribe();
    let mut sweep = tokio::time::interval(StdDuration::from_secs(30));
    loop {
        let result = tokio::select! {
            _ = stopped(&mut stop) => return,
            b = feed.recv() => match b {
                Ok(business) => n.schedule(business).await,
                // Missed some: look at every business.
                Err(_) => n.schedule_all().await,
            },
            _ = sweep.tick() => n.schedule_all().await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "scheduler: a pass failed; retrying shortly");
            tokio::time::sleep(StdDuration::from_secs(1)).await;
        }
    }
}

async fn dispatcher<S: Storage>(n: Arc<Notifier<S>>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(StdDuration::from_millis(n.config.tick_ms.max(10)));
    let lease = StdDuration::from_secs(n.config.lease_secs.max(1));
    let mut last_recovery: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => return,
            _ = tick.tick() => {}
            _ = n.wake.notified() => {}
        }
        if last_recovery.is_none_or(|t| t.elapsed() >= lease / 4) {
            last_recovery = Some(tokio::time::Instant::now());
            if let Err(e) = dispatch::recover(&n).await {
                tracing::warn!(error = %e, "dispatcher: recovery failed");
            }
        }
        loop {
            match dispatch::run_once(&n).await {
                Ok(count) if count as i64 >= n.config.batch => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "dispatcher: a batch failed");
                    break;
                }
            }
        }
    }
}

async fn recorder<S: Storage>(n: Arc<Notifier<S>>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(StdDuration::from_millis(200));
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => return,
            _ = tick.tick() => {}
        }
        loop {
            match record::run_once(&n).await {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "recorder: a batch failed");
                    break;
                }
            }
        }
    }
}
