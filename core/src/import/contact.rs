//! A contact as it comes from outside: the phone book (passed in by the apps), a vCard or a
//! spreadsheet row. Plain text, nothing normalised yet: the store normalises numbers with the
//! business's region when it previews an import.

use serde::{Deserialize, Serialize};

use crate::model::Birthday;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactPhone {
    pub raw: String,
    /// Lower case: `mobile`, `home`, `work`, `other`, or the phone book's own label.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub organization: Option<String>,
    pub phones: Vec<ContactPhone>,
    pub emails: Vec<String>,
    pub birthday: Option<Birthday>,
    pub note: Option<String>,
    /// The platform's contact id (Android contact id, iOS identifier) or the vCard UID.
    pub source_id: Option<String>,
    /// The app that added this row to the phone book (`com.whatsapp`, `org.telegram.messenger`,
    /// `com.viber.voip`): messaging apps add their own rows for one person.
    pub account: Option<String>,
}

impl Contact {
    /// The name to show: the display name, else the name parts, else the organisation.
    pub fn name(&self) -> Option<String> {
        let clean = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(d) = clean(&self.display_name) {
            return Some(d);
        }
        let parts: Vec<String> = [&self.given_name, &self.middle_name, &self.family_name]
            .into_iter()
            .filter_map(clean)
            .collect();
        if !parts.is_empty() {
            return Some(parts.join(" "));
        }
        clean(&self.organization)
    }
}

/// One thing in the input that could not be used, and where: nothing is dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line (vCard) or row (CSV, the header being row 1).
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is empty")]
    Empty,
    #[error("not a vCard file: no BEGIN:VCARD")]
    NotVcard,
    #[error("not a CSV file: {reason}")]
    NotCsv { reason: String },
    #[error("no column holds a name or a phone number (columns found: {found})")]
    NoNameOrPhoneColumn { found: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub contacts: Vec<Contact>,
    pub problems: Vec<Problem>,
}

/// Text of a file in an unknown encoding: UTF-8 (with or without BOM), UTF-16 with a BOM, or
/// else Windows-1251, as Excel and old phones save Cyrillic. Returns the text and the encoding.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom..]);
        return (text.into_owned(), enc.name());
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), "UTF-8"),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1251.decode(bytes);
            (text.into_owned(), "windows-1251")
        }
    }
}

/// `1990-04-15`, `19900415`, `--0415`, `--04-15`, `15.04.1990`, `15.04`.
pub fn parse_birthday(s: &str) -> Option<Birthday> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(b) = s.parse::<Birthday>() {
        return Some(b);
    }
    // vCard 4.0 allows a time after the date.
    if let Some((date, _)) = s.split_once('T')
        && let Ok(b) = date.parse::<Birthday>()
    {
        return Some(b);
    }
    let parts: Vec<&str> = s.split(['.', '/']).collect();
    match parts.as_slice() {
        [d, m, y] if y.len() == 4 => format!("{y}-{m:0>2}-{d:0>2}").parse().ok(),
        [d, m] => format!("--{m:0>2}-{d:0>2}").parse().ok(),
        _ => None,
    }
}
