//! Message templates: `{placeholder}`s filled with a client's and a visit's data, dates and
//! money written the business locale's way (uk, ru, pl, en). An unknown placeholder is an
//! error when the template is saved, not when a message is sent.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use iso_currency::Currency;

pub const PLACEHOLDERS: &[&str] = &[
    "client_name",
    "client_first_name",
    "visit_date",
    "visit_time",
    "visit_weekday",
    "services",
    "total",
    "staff_name",
    "business_name",
    "business_phone",
    "review_link",
    "confirm_link",
];

/// Longest template body accepted: ten SMS segments of UCS-2.
pub const MAX_LEN: usize = 670;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{name}}} at character {position}; known: {}", PLACEHOLDERS.join(", "))]
    UnknownPlaceholder { name: String, position: usize },
    #[error("a {{ at character {position} is not closed (write {{{{ for a literal brace)")]
    Unclosed { position: usize },
    #[error("a }} at character {position} has no opening brace (write }}}} for a literal brace)")]
    Unopened { position: usize },
    #[error("the template is empty")]
    Empty,
    #[error("the template is longer than {max} characters")]
    TooLong { max: usize },
    #[error("{{{name}}} needs a value this message does not have (e.g. a visit)")]
    MissingValue { name: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    Uk,
    Ru,
    Pl,
    En,
}

impl FromStr for Locale {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let lang = s.trim().to_ascii_lowercase();
        match lang.split(['-', '_']).next().unwrap_or_default() {
            "uk" => Ok(Locale::Uk),
            "ru" => Ok(Locale::Ru),
            "pl" => Ok(Locale::Pl),
            "en" => Ok(Locale::En),
            _ => Err(()),
        }
    }
}

impl Locale {
    fn chrono(self) -> chrono::Locale {
        match self {
            Locale::Uk => chrono::Locale::uk_UA,
            Locale::Ru => chrono::Locale::ru_RU,
            Locale::Pl => chrono::Locale::pl_PL,
            Locale::En => chrono::Locale::en_GB,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

pub struct VisitContext {
    pub start: DateTime<Utc>,
    pub services: Vec<String>,
    pub total_minor: i64,
    pub staff_name: Option<String>,
}

pub struct RenderContext {
    pub locale: Locale,
    pub zone: Tz,
    pub currency: Currency,
    pub client_name: String,
    pub client_first_name: Option<String>,
    pub visit: Option<VisitContext>,
    pub business_name: String,
    pub business_phone: Option<String>,
    pub review_link: Option<String>,
    pub confirm_link: Option<String>,
}

impl Template {
    pub fn parse(body: &str) -> Result<Template, TemplateError> {
        if body.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        if body.chars().count() > MAX_LEN {
            return Err(TemplateError::TooLong { max: MAX_LEN });
        }
        let chars: Vec<char> = body.chars().collect();
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '{' if chars.get(i + 1) == Some(&'{') => {
                    text.push('{');
                    i += 2;
                }
                '}' if chars.get(i + 1) == Some(&'}') => {
                    text.push('}');
                    i += 2;
                }
                '{' => {
                    let end = chars[i + 1..]
                        .iter()
                        .position(|c| *c == '}' || *c == '{')
                        .map(|p| p + i + 1)
                        .filter(|e| chars[*e] == '}')
                        .ok_or(TemplateError::Unclosed { position: i })?;
                    let name: String = chars[i + 1..end].iter().collect();
                    let known = PLACEHOLDERS.iter().find(|p| **p == name.trim()).ok_or(
                        TemplateError::UnknownPlaceholder {
                            name: name.clone(),
                            position: i,
                        },
                    )?;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Placeholder(known));
                    i = end + 1;
                }
                '}' => return Err(TemplateError::Unopened { position: i }),
                c => {
                    text.push(c);
                    i += 1;
                }
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    /// The placeholders the template uses, in order of first use.
    pub fn placeholders(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for p in &self.parts {
            if let Part::Placeholder(n) = p
                && !out.contains(n)
            {
                out.push(n);
            }
        }
        out
    }

    pub fn render(&self, ctx: &RenderContext) -> Result<String, TemplateError> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Placeholder(name) => {
                    let v = value(name, ctx).ok_or(TemplateError::MissingValue {
                        name: name.to_string(),
                    })?;
                    out.push_str(&v);
                }
            }
        }
        Ok(out)
    }
}

/// The weekday's name as it is written mid-sentence: chrono's Russian data (from glibc)
/// capitalises it ("Вторник"), where Russian, like Ukrainian and Polish, writes "вторник"
/// (CLDR, cross-checked against Java's in the Android tests).
fn weekday(name: impl std::fmt::Display, locale: Locale) -> String {
    let name = name.to_string();
    match locale {
        Locale::En => name,
        _ => name.to_lowercase(),
    }
}

/// "вівторок, 1 грудня 2026, 10:00": a visit's moment in the business's zone and language, as
/// the confirmation page shows it.
pub fn when(start: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz, locale: Locale) -> String {
    let local = start.with_timezone(&zone);
    let loc = locale.chrono();
    format!(
        "{}, {}, {}",
        weekday(local.format_localized("%A", loc), locale),
        local.format_localized("%-d %B %Y", loc),
        local.format("%H:%M")
    )
}

/// "1 грудня 2026, 10:00": a visit's moment in the business's zone and language, where the
/// weekday would crowd a line (a card's list of visits).
pub fn moment(start: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz, locale: Locale) -> String {
    let local = start.with_timezone(&zone);
    format!(
        "{}, {}",
        local.format_localized("%-d %B %Y", locale.chrono()),
        local.format("%H:%M")
    )
}

/// "вівторок, 1 грудня 2026": a day of the agenda in the master's language.
pub fn day(date: chrono::NaiveDate, locale: Locale) -> String {
    let loc = locale.chrono();
    format!(
        "{}, {}",
        weekday(date.format_localized("%A", loc), locale),
        date.format_localized("%-d %B %Y", loc)
    )
}

fn value(name: &str, ctx: &RenderContext) -> Option<String> {
    let visit = ctx.visit.as_ref();
    let local = visit.map(|v| v.start.with_timezone(&ctx.zone));
    let loc = ctx.locale.chrono();
    Some(match name {
        "client_name" => ctx.client_name.clone(),
        "client_first_name" => ctx.client_first_name.clone().or_else(|| {
            ctx.client_name
                .split_whitespace()
                .next()
                .map(str::to_string)
        })?,
        // "1 грудня 2026", "1 grudnia 2026", "1 декабря 2026", "1 December 2026": the day and
        // the month's name (genitive where the language has it) and the year.
        "visit_date" => local?.format_localized("%-d %B %Y", loc).to_string(),
        "visit_time" => local?.format("%H:%M").to_string(),
        "visit_weekday" => weekday(local?.format_localized("%A", loc), ctx.locale),
        "services" => visit?.services.join(", "),
        "total" => money(visit?.total_minor, ctx.currency, ctx.locale),
        "staff_name" => visit?.staff_name.clone()?,
        "business_name" => ctx.business_name.clone(),
        "business_phone" => ctx.business_phone.clone()?,
        "review_link" => ctx.review_link.clone()?,
        "confirm_link" => ctx.confirm_link.clone()?,
        _ => return None,
    })
}

/// `1 200,50 ₴` (uk, ru, pl: non-breaking space between thousands, decimal comma, symbol
/// after) or `₴1,200.50` (en). The four rules are written here: chrono's locale data has no
/// number formatting, and a full ICU is far too heavy for a phone library.
pub fn money(minor: i64, currency: Currency, locale: Locale) -> String {
    let exp = u32::from(currency.exponent().unwrap_or(2));
    let scale = 10u64.pow(exp);
    let abs = minor.unsigned_abs();
    let (whole, frac) = (abs / scale, abs % scale);
    let (group, decimal) = match locale {
        Locale::En => (",", "."),
        _ => ("\u{a0}", ","),
    };
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push_str(group);
        }
        grouped.push(c);
    }
    let number = if exp == 0 {
        grouped
    } else {
        format!("{grouped}{decimal}{frac:0width$}", width = exp as usize)
    };
    let sign = if minor < 0 { "-" } else { "" };
    let symbol = currency.symbol().symbol;
    match locale {
        Locale::En => format!("{sign}{symbol}{number}"),
        _ => format!("{sign}{number}\u{a0}{symbol}"),
    }
}
