//! The dispatcher: claims due messages, checks each again at the moment of sending (does it
//! still apply? does the client consent, on this channel and to this kind of message?), renders
//! it, hands it to the channel's gateway, and records how that ended.
//!
//! A message is `sending` (durably) before its gateway is called, and leaves `sending` only
//! with an outcome. A process that dies in between leaves it `sending`; after the lease another
//! process (or this one, restarted) asks the gateway whether it went out. If the gateway cannot
//! tell, the message becomes `uncertain` and is shown to the master: never sent twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use automerge::Automerge;
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use kartka_core::crdt::client::{self as client_doc, ClientRecord};
use kartka_core::messaging::template::{Locale, RenderContext, Template, VisitContext};
use kartka_core::model::{Business, Channel, ConsentSubject, Phone};
use kartka_core::notify::plan::{self, PlannedKind};
use kartka_core::phone::Reread;
use kartka_core::store::WHATSAPP_WINDOW_HOURS;
use uuid::Uuid;

use super::Notifier;
use super::gateway::{Lookup, OutMessage, SendOutcome, WaTemplate};
use crate::storage::outbox::{Finish, Message, Writer, state};
use crate::storage::{Storage, StorageError};

/// What the dispatcher decided for one claimed message, before or after the gateway.
enum Decision {
    Finish(Finish),
    Send(Box<OutMessage>),
}

/// Why a message is not sent to a stored number that its typed form no longer reads as (a
/// device not yet upgraded stored it with the old reading, issue 23); `None` when it holds.
/// Never the stored number, never a guess: the master corrects the card.
fn misread(phone: &Phone, region: &str) -> Option<String> {
    let stored = phone.e164.as_deref()?;
    let region = kartka_core::phone::parse_region(region).ok()?;
    match kartka_core::phone::reread(&phone.raw, stored, region) {
        Reread::Holds => None,
        Reread::Differs { now } => Some(match now {
            Some(now) => format!(
                "not sent: the number typed on the card reads as {now}, not the stored {stored}; \
                 open the card on an updated device"
            ),
            None => format!(
                "not sent: the number typed on the card no longer reads as {stored}; \
                 correct it on the card"
            ),
        }),
    }
}

fn finish(id: Uuid, state: &'static str, detail: impl Into<Option<String>>) -> Finish {
    Finish {
        id,
        state,
        due_ms: None,
        gateway: None,
        gateway_ref: None,
        body: None,
        detail: detail.into(),
    }
}

/// Claims and sends one batch. Returns how many messages were claimed.
pub async fn run_once<S: Storage>(n: &Arc<Notifier<S>>) -> Result<usize, StorageError> {
    let now = n.now();
    let claimed = n
        .storage
        .claim_due(now.timestamp_millis(), n.config.batch, n.id)
        .await?;
    let count = claimed.len();
    if count == 0 {
        return Ok(0);
    }
    // The settings of each business in the batch, decoded once per batch.
    let mut settings: HashMap<Uuid, Option<Arc<Business>>> = HashMap::new();
    for m in &claimed {
        if let std::collections::hash_map::Entry::Vacant(e) = settings.entry(m.business) {
            let b = super::schedule::business(&n.storage, m.business).await?;
            e.insert(b.map(Arc::new));
        }
    }
    let done: Vec<Finish> = futures_util::stream::iter(claimed)
        .map(|m| {
            let n = n.clone();
            let b = settings.get(&m.business).cloned().flatten();
            async move { n.clone().dispatch(m, b).await }
        })
        .buffer_unordered(n.config.concurrency.max(1))
        .collect()
        .await;
    n.storage
        .finish(n.id, done, n.now().timestamp_millis())
        .await?;
    Ok(count)
}

/// Takes over messages whose sender died while they were `sending`.
pub async fn recover<S: Storage>(n: &Arc<Notifier<S>>) -> Result<usize, StorageError> {
    let now = n.now();
    let cutoff = now - Duration::seconds(n.config.lease_secs as i64);
    let stuck = n
        .storage
        .claim_stuck(cutoff.timestamp_millis(), now.timestamp_millis(), 256, n.id)
        .await?;
    let count = stuck.len();
    let mut done = Vec::with_capacity(count);
    for m in stuck {
        done.push(n.recover_one(m).await);
    }
    if !done.is_empty() {
        n.storage
            .finish(n.id, done, n.now().timestamp_millis())
            .await?;
    }
    Ok(count)
}

impl<S: Storage> Notifier<S> {
    async fn dispatch(self: Arc<Self>, m: Message, business: Option<Arc<Business>>) -> Finish {
        let lateness = (self.now().timestamp_millis() - m.due_ms).max(0) as f64 / 1000.0;
        self.metrics.lateness.observe(lateness);
        let decision = match self.prepare(&m, business).await {
            Ok(d) => d,
            Err(e) => {
                // The database failed us: the message is not sent; try again shortly.
                tracing::warn!(message = %m.id, error = %e, "dispatch: cannot prepare");
                Decision::Finish(Finish {
                    due_ms: Some(self.now().timestamp_millis() + 5_000),
                    ..finish(m.id, state::SCHEDULED, Some(e.to_string()))
                })
            }
        };
        let out = match decision {
            Decision::Finish(f) => f,
            Decision::Send(out) => self.send(&m, &out).await,
        };
        self.metrics.outcome(out.state);
        out
    }

    /// Everything up to the gateway: still applies, consent, address, text.
    async fn prepare(
        &self,
        m: &Message,
        business: Option<Arc<Business>>,
    ) -> Result<Decision, StorageError> {
        let now = self.now();
        let stale = Duration::hours(self.config.stale_hours as i64);
        let Some(channel) = m.channel.parse::<Channel>().ok() else {
            return Ok(Decision::Finish(finish(
                m.id,
                state::CANCELLED,
                "unknown channel".to_string(),
            )));
        };
        let Some(business) = business else {
            return Ok(Decision::Finish(finish(
                m.id,
                state::CANCELLED,
                "the business has no settings".to_string(),
            )));
        };
        let Some(bytes) = self.storage.read_doc(m.business, m.client).await? else {
            return Ok(Decision::Finish(finish(
                m.id,
                state::CANCELLED,
                "the client is gone".to_string(),
            )));
        };
        let Some((doc, client)) = Automerge::load(&bytes)
            .ok()
            .and_then(|d| client_doc::read(&d, m.client).ok().map(|c| (d, c)))
        else {
            return Ok(Decision::Finish(finish(
                m.id,
                state::FAILED,
                "the client's document does not load".to_string(),
            )));
        };
        // Does it still apply to the document as it is now?
        match plan::still_due(&business, &client, m.rule, channel, &m.key, now, stale) {
            None => {
                return Ok(Decision::Finish(finish(
                    m.id,
                    state::CANCELLED,
                    "no longer applies".to_string(),
                )));
            }
            Some(due) if due > now + Duration::minutes(1) => {
                return Ok(Decision::Finish(Finish {
                    due_ms: Some(due.timestamp_millis()),
                    ..finish(m.id, state::SCHEDULED, None)
                }));
            }
            Some(_) => {}
        }
        let kind = PlannedKind::parse(&m.kind);
        if let Some(refused) = Self::consent_refusal(&client, channel, kind) {
            return Ok(Decision::Finish(finish(
                m.id,
                state::SKIPPED_NO_CONSENT,
                refused,
            )));
        }
        let to = match kind {
            // A staff alert goes to the staff member, whatever the client's addresses.
            Some(PlannedKind::Staff) => m
                .key
                .strip_prefix("staff:")
                .and_then(|k| k.split_once(':'))
                .and_then(|(id, _)| id.parse::<Uuid>().ok())
                .and_then(|id| business.staff.iter().find(|s| s.id == id))
                .and_then(|s| plan::staff_address(s, channel))
                .map(str::to_string),
            // A reply goes back to the number the client wrote from, if it is still theirs.
            Some(PlannedKind::Reply)
                if matches!(channel, Channel::Sms | Channel::Whatsapp)
                    && let Some(from) = client_doc::last_inbound_from(&doc, channel)
                    && client
                        .card
                        .phones
                        .iter()
                        .any(|p| p.e164.as_deref() == Some(&from)) =>
            {
                Some(from)
            }
            _ => match channel {
                Channel::Sms | Channel::Whatsapp => {
                    let phone = client.card.phones.iter().find(|p| p.e164.is_some());
                    if let Some(refused) = phone.and_then(|p| misread(p, &business.region)) {
                        return Ok(Decision::Finish(finish(m.id, state::FAILED, refused)));
                    }
                    phone.and_then(|p| p.e164.clone())
                }
                Channel::Email => client.card.email.clone(),
                Channel::Telegram => client_doc::telegram_chat(&doc),
                _ => None,
            },
        };
        let Some(to) = to else {
            let what = match channel {
                _ if kind == Some(PlannedKind::Staff) => "the staff member has no address there",
                Channel::Email => "no email address",
                Channel::Telegram => "the client has not started the Telegram bot",
                _ => "no phone number",
            };
            return Ok(Decision::Finish(finish(
                m.id,
                state::FAILED,
                what.to_string(),
            )));
        };
        let ctx = self.context(&business, &client, m.visit);
        let content = match self.content(m, kind, channel, &business, &client, &ctx) {
            Ok(c) => c,
            Err(why) => return Ok(Decision::Finish(finish(m.id, state::FAILED, why))),
        };
        // WhatsApp: free text only within 24 h of the client's last message; otherwise only an
        // approved template will be delivered.
        let window_open = client_doc::whatsapp_last_inbound(&doc)
            .is_some_and(|at| now - at < Duration::hours(WHATSAPP_WINDOW_HOURS));
        if channel == Channel::Whatsapp && content.whatsapp.is_none() && !window_open {
            return Ok(Decision::Finish(finish(
                m.id,
                state::FAILED,
                "WhatsApp: outside the 24 h window only an approved template is delivered; \
                 name one for this template"
                    .to_string(),
            )));
        }
        let (subject, text) = (content.subject, content.text);
        let whatsapp = content
            .whatsapp
            .filter(|_| channel == Channel::Whatsapp && !window_open);
        Ok(Decision::Send(Box::new(OutMessage {
            id: m.id,
            business: m.business,
            channel,
            to,
            from: self
                .config
                .sender_of(m.business, channel)
                .map(str::to_string),
            subject,
            text,
            whatsapp,
            claimed_at: m
                .claimed_ms
                .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
                .unwrap_or(now),
        })))
    }

    /// Why the client's consent stops this message now, if it does: the channel for anything
    /// to the client, `marketing` too for a mailing, the type of notification for a rule's
    /// message. Staff alerts go to staff, so the client's consent is not theirs to give.
    fn consent_refusal(
        client: &ClientRecord,
        channel: Channel,
        kind: Option<PlannedKind>,
    ) -> Option<String> {
        if kind == Some(PlannedKind::Staff) {
            return None;
        }
        if !client.consent.granted(channel) {
            return Some(format!("no consent to {channel}"));
        }
        match kind {
            Some(PlannedKind::Mailing) if !client.consent.granted(Channel::Marketing) => {
                Some("no consent to marketing".to_string())
            }
            Some(PlannedKind::Notification(k))
                if client
                    .consent
                    .notifications
                    .iter()
                    .any(|(n, granted)| *n == k && !granted) =>
            {
                Some(format!(
                    "the client opted out of {}",
                    ConsentSubject::Notification(k).key()
                ))
            }
            _ => None,
        }
    }

    /// What the message says: a reply's own text, a mailing's text filled in for the client,
    /// or the rule's template; with the approved WhatsApp template it maps to, if any.
    fn content(
        &self,
        m: &Message,
        kind: Option<PlannedKind>,
        channel: Channel,
        business: &Business,
        client: &ClientRecord,
        ctx: &RenderContext,
    ) -> Result<Content, String> {
        let template_of =
            |id: Option<Uuid>| id.and_then(|t| business.templates.iter().find(|x| x.id == t));
        match kind {
            Some(PlannedKind::Reply) => {
                let entry = client
                    .messages
                    .iter()
                    .find(|e| e.id == m.id)
                    .ok_or_else(|| "the reply is gone from the history".to_string())?;
                let template = template_of(entry.template_id);
                Ok(Content {
                    subject: template.map_or_else(|| business.name.clone(), |t| t.name.clone()),
                    text: entry.body.clone(),
                    whatsapp: match template {
                        Some(t) => wa_template(t, ctx)?,
                        None => None,
                    },
                })
            }
            Some(PlannedKind::Mailing) => {
                let mailing = business
                    .mailings
                    .iter()
                    .find(|x| x.id == m.rule)
                    .ok_or_else(|| "the mailing is gone".to_string())?;
                Ok(Content {
                    subject: mailing.name.clone(),
                    text: render(&mailing.text, ctx)?,
                    whatsapp: None,
                })
            }
            _ => {
                let rule = business.rules.iter().find(|r| r.id == m.rule);
                let template = template_of(rule.and_then(|r| plan::template_for(r, channel)))
                    .ok_or_else(|| "the rule's template is gone".to_string())?;
                Ok(Content {
                    subject: template.name.clone(),
                    text: render(&template.body, ctx)?,
                    whatsapp: if kind == Some(PlannedKind::Staff) {
                        None
                    } else {
                        wa_template(template, ctx)?
                    },
                })
            }
        }
    }

    fn context(&self, b: &Business, c: &ClientRecord, visit: Option<Uuid>) -> RenderContext {
        let visit = visit.and_then(|v| c.visits.iter().find(|x| x.id == v));
        RenderContext {
            locale: b.locale.parse().unwrap_or(Locale::En),
            zone: b.zone.parse::<Tz>().unwrap_or(chrono_tz::UTC),
            currency: kartka_core::money::currency(&b.currency)
                .unwrap_or(iso_currency::Currency::UAH),
            client_name: c.card.name.clone(),
            client_first_name: c.card.given_name.clone(),
            visit: visit.map(|v| VisitContext {
                start: v.start,
                services: v.services.iter().map(|s| s.name.clone()).collect(),
                total_minor: v.total,
                staff_name: v
                    .staff_id
                    .and_then(|s| b.staff.iter().find(|x| x.id == s))
                    .map(|s| s.name.clone()),
            }),
            business_name: b.name.clone(),
            business_phone: b.phone.clone(),
            review_link: self.config.review_link.clone(),
            // Only with a public address: a link to 127.0.0.1 is no use to a client.
            confirm_link: visit
                .zip(self.config.public_url.as_deref())
                .map(|(v, url)| {
                    super::confirm::link(
                        url,
                        &self.link_key,
                        super::confirm::LinkTarget {
                            business: b.id,
                            client: c.id,
                            visit: v.id,
                        },
                    )
                }),
        }
    }

    async fn send(&self, m: &Message, out: &OutMessage) -> Finish {
        let Some(gw) = self.gateways.get(out.channel) else {
            return finish(
                m.id,
                state::FAILED,
                format!("no gateway for {}", out.channel),
            );
        };
        if PlannedKind::parse(&m.kind) != Some(PlannedKind::Staff) {
            // Before the send, durably: the client's answer may come back before the gateway
            // does, and on a shared number it is this record that says whose it is.
            let writer = Writer {
                address: out.to.clone(),
                channel: out.channel.to_string(),
                business: m.business,
                client: m.client,
                visit: m.visit,
                at_ms: self.now().timestamp_millis(),
            };
            if let Err(e) = self.storage.note_writer(writer).await {
                tracing::warn!(message = %m.id, error = %e, "dispatch: cannot note the writer");
                return Finish {
                    due_ms: Some(self.now().timestamp_millis() + 5_000),
                    ..finish(m.id, state::SCHEDULED, Some(e.to_string()))
                };
            }
            if let Err(e) = super::inbound::adopt(self, m.business, out.channel, &out.to).await {
                // They stay kept for no business; the next send there takes them.
                tracing::warn!(error = %e, "dispatch: cannot hand over kept messages");
            }
        }
        gw.limiter.until_ready().await;
        let outcome = gw.gateway.send(out).await;
        let name = gw.gateway.name().to_string();
        match outcome {
            SendOutcome::Sent { reference } => Finish {
                gateway: Some(name),
                gateway_ref: reference,
                body: Some(out.text.clone()),
                ..finish(m.id, state::SENT, None)
            },
            SendOutcome::Retry { after, detail } => {
                if m.attempts >= self.config.max_attempts {
                    return Finish {
                        gateway: Some(name),
                        ..finish(
                            m.id,
                            state::FAILED,
                            format!("{detail} (gave up after {} attempts)", m.attempts),
                        )
                    };
                }
                let wait = after.unwrap_or_else(|| backoff(m.attempts));
                Finish {
                    due_ms: Some(self.now().timestamp_millis() + wait.as_millis() as i64),
                    ..finish(m.id, state::SCHEDULED, detail)
                }
            }
            SendOutcome::Failed { detail, opted_out } => {
                if opted_out {
                    self.withdraw(m.business, m.client, out.channel, &detail)
                        .await;
                }
                Finish {
                    gateway: Some(name),
                    body: Some(out.text.clone()),
                    ..finish(m.id, state::FAILED, detail)
                }
            }
            SendOutcome::Uncertain { detail } => Finish {
                gateway: Some(name),
                body: Some(out.text.clone()),
                ..finish(
                    m.id,
                    state::UNCERTAIN,
                    format!("{detail}; not resent: check with the client"),
                )
            },
        }
    }

    async fn recover_one(&self, m: Message) -> Finish {
        let business = super::schedule::business(&self.storage, m.business)
            .await
            .ok()
            .flatten()
            .map(Arc::new);
        let Ok(Decision::Send(out)) = self.prepare(&m, business).await else {
            // It no longer applies, or cannot be rebuilt: whether the interrupted attempt went
            // out cannot be asked without its text, so it is shown rather than forgotten.
            return finish(
                m.id,
                state::UNCERTAIN,
                "the send was interrupted; check with the client".to_string(),
            );
        };
        let Some(gw) = self.gateways.get(out.channel) else {
            return finish(
                m.id,
                state::UNCERTAIN,
                "the send was interrupted".to_string(),
            );
        };
        match gw.gateway.lookup(&out).await {
            Lookup::Sent { reference } => Finish {
                gateway: Some(gw.gateway.name().to_string()),
                gateway_ref: reference,
                body: Some(out.text.clone()),
                ..finish(m.id, state::SENT, None)
            },
            Lookup::NotSent => Finish {
                due_ms: Some(self.now().timestamp_millis()),
                ..finish(
                    m.id,
                    state::SCHEDULED,
                    "the interrupted attempt did not go out".to_string(),
                )
            },
            Lookup::Unknown => Finish {
                gateway: Some(gw.gateway.name().to_string()),
                body: Some(out.text.clone()),
                ..finish(
                    m.id,
                    state::UNCERTAIN,
                    "the send was interrupted and the gateway cannot tell whether it went out; \
                     not resent: check with the client"
                        .to_string(),
                )
            },
        }
    }
}

/// What a message says, before the gateway.
struct Content {
    subject: String,
    text: String,
    /// The approved WhatsApp template, used outside the 24 h window.
    whatsapp: Option<WaTemplate>,
}

/// A template body filled in for one client; a template that no longer renders is the
/// message's failure, with the reason.
fn render(body: &str, ctx: &RenderContext) -> Result<String, String> {
    Template::parse(body)
        .and_then(|t| t.render(ctx))
        .map_err(|e| e.to_string())
}

/// The approved WhatsApp template a business template maps to, its placeholders (in order of
/// first use) rendered as the parameters.
fn wa_template(
    t: &kartka_core::model::Template,
    ctx: &RenderContext,
) -> Result<Option<WaTemplate>, String> {
    let Some(wa) = &t.whatsapp else {
        return Ok(None);
    };
    let parsed = Template::parse(&t.body).map_err(|e| e.to_string())?;
    let (name, language) = wa.split_once(':').unwrap_or((wa.as_str(), "en"));
    let params = parsed
        .placeholders()
        .into_iter()
        .map(|p| {
            Template::parse(&format!("{{{p}}}"))
                .and_then(|t| t.render(ctx))
                .unwrap_or_default()
        })
        .collect();
    Ok(Some(WaTemplate {
        name: name.to_string(),
        language: language.to_string(),
        params,
    }))
}

/// 30 s, 1 min, 2 min … capped at an hour.
fn backoff(attempts: i32) -> StdDuration {
    StdDuration::from_secs((30u64 << attempts.clamp(0, 7) as u32).min(3600))
}

pub(crate) fn at_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}
