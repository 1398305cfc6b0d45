//! Exports: "give this client their data" (one client, everything the book holds about them, as
//! JSON) and "export my whole book" (JSON with every client's data, or CSV with one row per
//! client for a spreadsheet). Read from the projection, like every read.

use std::io::Write;

use serde_json::{Value, json};
use uuid::Uuid;

use super::{ClientFilter, Page, Store, VisitFilter};
use crate::error::{Error, Result};
use crate::model::Channel;

/// Bumped when the shape changes, so whoever reads an export knows what it holds.
pub const EXPORT_FORMAT: u32 = 1;

impl Store {
    /// Everything the book holds about one client: the card, consent with its evidence, visits
    /// and messages.
    pub fn export_client(&self, client: Uuid) -> Result<Value> {
        let c = self.get_client(client)?;
        let visits = self.list_visits(&VisitFilter {
            client: Some(client),
            include_deleted: false,
            ..Default::default()
        })?;
        Ok(json!({
            "client": c,
            "consent": self.consent(client)?,
            "visits": visits,
            "messages": self.history(client)?,
        }))
    }

    /// The whole book as JSON, written to `out` a client at a time (a book of 50,000 clients
    /// never sits in memory as one value).
    pub fn export_book_json(&self, out: &mut dyn Write) -> Result<usize> {
        let business = self.business()?;
        let head = json!({
            "format": EXPORT_FORMAT,
            "exported_at": self.now(),
            "business": business,
        });
        let head = serde_json::to_string(&head).map_err(io)?;
        // `{"format":…,"business":…,` then the clients array, then `}`.
        write!(out, "{},\"clients\":[", &head[..head.len() - 1]).map_err(Error::Io)?;
        let ids = self.all_client_ids()?;
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                out.write_all(b",").map_err(Error::Io)?;
            }
            serde_json::to_writer(&mut *out, &self.export_client(*id)?).map_err(io)?;
        }
        out.write_all(b"]}\n").map_err(Error::Io)?;
        Ok(ids.len())
    }

    /// The whole book as CSV, one row per client: what a spreadsheet needs (the JSON export
    /// has every visit and message).
    pub fn export_book_csv(&self, out: &mut dyn Write) -> Result<usize> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec![
            "id",
            "name",
            "given_name",
            "family_name",
            "phones",
            "email",
            "birthday",
            "class",
            "tags",
            "loyalty_card",
            "discount_percent",
            "comment",
        ];
        let channels = [
            Channel::Sms,
            Channel::Whatsapp,
            Channel::Email,
            Channel::Telegram,
            Channel::Viber,
            Channel::Marketing,
        ];
        let consent_cols: Vec<String> = channels.iter().map(|c| format!("consent_{c}")).collect();
        header.extend(consent_cols.iter().map(String::as_str));
        header.extend([
            "visits",
            "sold_minor",
            "paid_minor",
            "balance_minor",
            "last_visit",
            "created_at",
        ]);
        w.write_record(&header).map_err(csv_err)?;
        let ids = self.all_client_ids()?;
        for id in &ids {
            let c = self.get_client(*id)?;
            let phones: Vec<String> = c
                .phones
                .iter()
                .map(|p| p.e164.clone().unwrap_or_else(|| p.raw.clone()))
                .collect();
            let mut row = vec![
                c.id.to_string(),
                c.name.clone(),
                c.given_name.clone().unwrap_or_default(),
                c.family_name.clone().unwrap_or_default(),
                phones.join("; "),
                c.email.clone().unwrap_or_default(),
                c.birthday.map(|b| b.to_string()).unwrap_or_default(),
                c.class.as_str().to_string(),
                c.tags.join("; "),
                c.loyalty_card.clone().unwrap_or_default(),
                c.discount_percent.to_string(),
                c.comment.clone().unwrap_or_default(),
            ];
            for ch in &channels {
                row.push(
                    c.consent
                        .get(ch.as_str())
                        .copied()
                        .unwrap_or(false)
                        .to_string(),
                );
            }
            row.extend([
                c.stats.visits.to_string(),
                c.stats.sold.to_string(),
                c.stats.paid.to_string(),
                c.stats.balance.to_string(),
                c.stats
                    .last_visit
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default(),
                c.created_at.to_rfc3339(),
            ]);
            w.write_record(&row).map_err(csv_err)?;
        }
        w.flush().map_err(Error::Io)?;
        Ok(ids.len())
    }

    fn all_client_ids(&self) -> Result<Vec<Uuid>> {
        Ok(self
            .list_clients(
                &ClientFilter::default(),
                Page {
                    offset: 0,
                    limit: u32::MAX,
                },
            )?
            .into_iter()
            .map(|c| c.id)
            .collect())
    }
}

fn io(e: serde_json::Error) -> Error {
    Error::Io(std::io::Error::other(e))
}

fn csv_err(e: csv::Error) -> Error {
    Error::Io(std::io::Error::other(e))
}
