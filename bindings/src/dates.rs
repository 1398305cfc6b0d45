//! Dates at the FFI edge, in the language the app's screens speak: the apps show a visit's
//! moment and the agenda's days through the core (chrono's locale data: the month's genitive in
//! Ukrainian, Russian and Polish), so every screen and every template says a date alike.

use kartka_core::messaging::template::{self, Locale};

use crate::{ApiError, ClientBook, bad, instant};

/// The app's language (`uk`, `ru`, `pl`, `en`, or a tag such as `uk-UA`); any other is English.
fn locale(language: &str) -> Locale {
    language.parse().unwrap_or(Locale::En)
}

#[uniffi::export]
impl ClientBook {
    /// "вівторок, 1 грудня 2026, 10:00": an RFC 3339 instant on the business's clock.
    pub fn format_when(&self, at: String, language: String) -> Result<String, ApiError> {
        let zone = self.store()?.zone()?;
        Ok(template::when(instant(&at)?, zone, locale(&language)))
    }

    /// "1 грудня 2026, 10:00": the same without the weekday, for lists.
    pub fn format_moment(&self, at: String, language: String) -> Result<String, ApiError> {
        let zone = self.store()?.zone()?;
        Ok(template::moment(instant(&at)?, zone, locale(&language)))
    }

    /// "вівторок, 1 грудня 2026": a day, `YYYY-MM-DD`.
    pub fn format_day(&self, day: String, language: String) -> Result<String, ApiError> {
        let date = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
            .map_err(|_| bad("day", "expected a date such as 2026-12-01"))?;
        Ok(template::day(date, locale(&language)))
    }
}
