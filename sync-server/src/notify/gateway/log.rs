//! The `log` gateway (the default): each message becomes one JSON line in the outbox file,
//! flushed to disk before the send counts as done, and one log line. Nothing leaves the machine.
//!
//! Lines are written by one task that flushes them in groups (one `fsync` for every message
//! that arrived meanwhile), so ten thousand due messages do not cost ten thousand flushes. The
//! file is also how a send cut short by a crash is looked up: if the line is there, it was sent.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use super::{Lookup, OutMessage, SendOutcome};

pub struct LogGateway {
    path: PathBuf,
    lines: mpsc::Sender<(Vec<u8>, oneshot::Sender<std::io::Result<()>>)>,
}

#[derive(Serialize)]
struct Line<'a> {
    id: String,
    business: String,
    channel: &'a str,
    to: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    subject: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    whatsapp_template: Option<&'a str>,
    at: String,
}

impl LogGateway {
    pub fn open(path: &Path) -> std::io::Result<LogGateway> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let (tx, mut rx) = mpsc::channel::<(Vec<u8>, oneshot::Sender<std::io::Result<()>>)>(4096);
        std::thread::Builder::new()
            .name("kartka-outbox".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    let mut buf = Vec::new();
                    for (line, _) in &batch {
                        buf.extend_from_slice(line);
                    }
                    let res = file.write_all(&buf).and_then(|()| file.sync_data());
                    for (_, done) in batch {
                        let _ = done.send(match &res {
                            Ok(()) => Ok(()),
                            Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
                        });
                    }
                }
            })?;
        Ok(LogGateway {
            path: path.to_path_buf(),
            lines: tx,
        })
    }

    pub async fn send(&self, m: &OutMessage) -> SendOutcome {
        let template = m.whatsapp.as_ref().map(|t| t.name.as_str());
        let line = Line {
            id: m.id.to_string(),
            business: m.business.to_string(),
            channel: m.channel.as_str(),
            to: &m.to,
            text: &m.text,
            subject: &m.subject,
            whatsapp_template: template,
            at: chrono::Utc::now().to_rfc3339(),
        };
        let mut bytes = serde_json::to_vec(&line).expect("serialisable");
        bytes.push(b'\n');
        let (done, wait) = oneshot::channel();
        if self.lines.send((bytes, done)).await.is_err() {
            return SendOutcome::Retry {
                after: None,
                detail: "the outbox writer stopped".into(),
            };
        }
        match wait.await {
            Ok(Ok(())) => {
                // The id only: message text is personal data and stays out of the log.
                tracing::info!(message = %m.id, channel = %m.channel, "log gateway: written to the outbox");
                SendOutcome::Sent {
                    reference: Some(m.id.to_string()),
                }
            }
            // A failed write may have left part of a line: the message is not counted as sent,
            // and it is retried; a partial line has no closing brace and is never read as sent.
            Ok(Err(e)) => SendOutcome::Retry {
                after: None,
                detail: format!("cannot write the outbox: {e}"),
            },
            Err(_) => SendOutcome::Retry {
                after: None,
                detail: "the outbox writer stopped".into(),
            },
        }
    }

    /// The outbox file is the record: a line with the message's id means it was sent.
    pub async fn lookup(&self, m: &OutMessage) -> Lookup {
        let path = self.path.clone();
        let needle = format!("\"id\":\"{}\"", m.id);
        let found = tokio::task::spawn_blocking(move || {
            let text = std::fs::read_to_string(&path).ok()?;
            Some(
                text.lines()
                    .any(|l| l.ends_with('}') && l.contains(&needle)),
            )
        })
        .await
        .ok()
        .flatten();
        match found {
            Some(true) => Lookup::Sent {
                reference: Some(m.id.to_string()),
            },
            Some(false) => Lookup::NotSent,
            None => Lookup::Unknown,
        }
    }
}
