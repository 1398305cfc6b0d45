//! Spreadsheets of clients: CSV with comma, semicolon or tab; UTF-8 (with or without BOM),
//! UTF-16 with BOM, or Windows-1251 as Excel saves it in Ukraine and Russia. Columns are
//! recognised by their usual names in English, Ukrainian, Russian and Polish, and by the
//! layouts of Google Contacts' and Outlook's exports.

use super::contact::{Contact, ContactPhone, ImportError, Problem, decode, parse_birthday};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Given,
    Family,
    Middle,
    /// A phone column, with the label its name implies.
    Phone(&'static str),
    /// Google's `Phone N - Type` / `Phone N - Label`: the label of phone column N.
    PhoneLabel(u32),
    /// Google's `Phone N - Value`.
    PhoneValue(u32),
    Email,
    Birthday,
    Note,
    Organization,
}

impl Field {
    fn name(&self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Given => "given_name",
            Field::Family => "family_name",
            Field::Middle => "middle_name",
            Field::Phone(_) | Field::PhoneValue(_) => "phone",
            Field::PhoneLabel(_) => "phone_label",
            Field::Email => "email",
            Field::Birthday => "birthday",
            Field::Note => "note",
            Field::Organization => "organization",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvParsed {
    pub contacts: Vec<Contact>,
    pub problems: Vec<Problem>,
    /// Every header and the field it was read as (`None`: ignored).
    pub columns: Vec<(String, Option<String>)>,
    pub delimiter: char,
    pub encoding: &'static str,
}

const NAMES: &[(&[&str], Field)] = &[
    (
        &[
            "name",
            "full name",
            "display name",
            "client",
            "ім'я та прізвище",
            "піб",
            "клієнт",
            "фио",
            "ф.и.о.",
            "клиент",
            "имя и фамилия",
            "imię i nazwisko",
            "klient",
            "nazwa",
        ],
        Field::Name,
    ),
    (
        &["given name", "first name", "ім'я", "имя", "imię"],
        Field::Given,
    ),
    (
        &[
            "family name",
            "last name",
            "surname",
            "прізвище",
            "фамилия",
            "nazwisko",
        ],
        Field::Family,
    ),
    (
        &[
            "additional name",
            "middle name",
            "по батькові",
            "отчество",
            "drugie imię",
        ],
        Field::Middle,
    ),
    (
        &[
            "phone",
            "mobile",
            "mobile phone",
            "cell",
            "cell phone",
            "telephone",
            "tel",
            "phone number",
            "primary phone",
            "телефон",
            "мобільний",
            "мобільний телефон",
            "номер телефону",
            "моб. телефон",
            "мобильный",
            "мобильный телефон",
            "номер телефона",
            "telefon",
            "telefon komórkowy",
            "tel. komórkowy",
            "komórka",
            "numer telefonu",
        ],
        Field::Phone("mobile"),
    ),
    (
        &[
            "home phone",
            "home phone 2",
            "домашній телефон",
            "домашний телефон",
            "telefon domowy",
        ],
        Field::Phone("home"),
    ),
    (
        &[
            "business phone",
            "business phone 2",
            "work phone",
            "company main phone",
            "робочий телефон",
            "рабочий телефон",
            "telefon służbowy",
        ],
        Field::Phone("work"),
    ),
    (
        &[
            "other phone",
            "інший телефон",
            "другой телефон",
            "inny telefon",
        ],
        Field::Phone("other"),
    ),
    (
        &[
            "email",
            "e-mail",
            "e-mail address",
            "email address",
            "e-mail 2 address",
            "e-mail 3 address",
            "пошта",
            "ел. пошта",
            "електронна пошта",
            "почта",
            "эл. почта",
            "электронная почта",
            "adres e-mail",
        ],
        Field::Email,
    ),
    (
        &[
            "birthday",
            "birth date",
            "date of birth",
            "день народження",
            "дата народження",
            "день рождения",
            "дата рождения",
            "data urodzenia",
            "urodziny",
        ],
        Field::Birthday,
    ),
    (
        &[
            "note",
            "notes",
            "comment",
            "comments",
            "примітка",
            "примітки",
            "коментар",
            "комментарий",
            "заметка",
            "заметки",
            "примечание",
            "notatki",
            "notatka",
            "uwagi",
            "komentarz",
        ],
        Field::Note,
    ),
    (
        &[
            "organization",
            "organization name",
            "company",
            "organization 1 - name",
            "компанія",
            "організація",
            "компания",
            "организация",
            "firma",
        ],
        Field::Organization,
    ),
];

fn normalise_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .replace(['’', 'ʼ', '`', '\u{2019}'], "'")
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Google's `Phone 1 - Value`, `E-mail 2 - Value`, `Phone 1 - Type`/`Label`.
fn google_column(h: &str) -> Option<Field> {
    let (left, right) = h.split_once(" - ")?;
    let (kind, n) = left.rsplit_once(' ')?;
    let n: u32 = n.parse().ok()?;
    match (kind, right) {
        ("phone", "value") => Some(Field::PhoneValue(n)),
        ("phone", "type" | "label") => Some(Field::PhoneLabel(n)),
        ("e-mail" | "email", "value") => Some(Field::Email),
        _ => None,
    }
}

fn field_of(header: &str) -> Option<Field> {
    let h = normalise_header(header);
    google_column(&h).or_else(|| {
        NAMES
            .iter()
            .find(|(names, _)| names.contains(&h.as_str()))
            .map(|(_, f)| *f)
    })
}

fn detect_delimiter(first_line: &str) -> u8 {
    let count = |c: char| first_line.matches(c).count();
    [(b';', count(';')), (b'\t', count('\t')), (b',', count(','))]
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map_or(b',', |(d, _)| d)
}

/// A label as Google writes it (`* Mobile`, `Work`, `Home Fax`).
fn google_label(l: &str) -> String {
    let l = l.trim().trim_start_matches('*').trim().to_lowercase();
    match l.as_str() {
        "mobile" | "cell" => "mobile".into(),
        "" => "other".into(),
        _ => l,
    }
}

/// Birthdays in spreadsheets: ISO, `15.04.1990`, `--04-15`, and Outlook's US `4/15/1990`.
fn birthday(s: &str) -> Result<Option<crate::model::Birthday>, ()> {
    let s = s.trim();
    // Outlook writes 0/0/00 for "no birthday".
    if s.is_empty() || s == "0/0/00" || s == "0.0.00" {
        return Ok(None);
    }
    if let Some(b) = parse_birthday(s) {
        return Ok(Some(b));
    }
    let p: Vec<&str> = s.split('/').collect();
    if let [m, d, y] = p.as_slice()
        && let Ok(b) = format!("{y}-{m:0>2}-{d:0>2}").parse()
    {
        return Ok(Some(b));
    }
    Err(())
}

pub fn parse(bytes: &[u8]) -> Result<CsvParsed, ImportError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty);
    }
    let (text, encoding) = decode(bytes);
    if text.contains('\0') {
        return Err(ImportError::NotCsv {
            reason: "it holds binary data".into(),
        });
    }
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = detect_delimiter(first_line);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::NotCsv {
            reason: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let fields: Vec<Option<Field>> = headers.iter().map(|h| field_of(h)).collect();
    let has = |pred: fn(&Field) -> bool| fields.iter().flatten().any(pred);
    if !has(|f| {
        matches!(
            f,
            Field::Name | Field::Given | Field::Family | Field::Phone(_) | Field::PhoneValue(_)
        )
    }) {
        return Err(ImportError::NoNameOrPhoneColumn {
            found: headers.join(", "),
        });
    }

    let mut contacts = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem {
                    line: row,
                    message: format!("row could not be read: {e}"),
                });
                continue;
            }
        };
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let mut c = Contact::default();
        let mut google_labels: Vec<(u32, String)> = Vec::new();
        let mut google_phones: Vec<(u32, String)> = Vec::new();
        for (value, field) in record.iter().zip(&fields) {
            let v = value.trim();
            let Some(field) = field else { continue };
            if v.is_empty() {
                continue;
            }
            let set = |slot: &mut Option<String>| *slot = Some(v.to_string());
            match field {
                Field::Name => set(&mut c.display_name),
                Field::Given => set(&mut c.given_name),
                Field::Family => set(&mut c.family_name),
                Field::Middle => set(&mut c.middle_name),
                Field::Organization => set(&mut c.organization),
                Field::Note => {
                    c.note = Some(match c.note.take() {
                        Some(n) => format!("{n}\n{v}"),
                        None => v.to_string(),
                    })
                }
                Field::Email => c.emails.extend(
                    v.split(" ::: ")
                        .map(|e| e.trim().to_string())
                        .filter(|e| !e.is_empty()),
                ),
                Field::Phone(label) => c.phones.extend(v.split(" ::: ").map(|p| ContactPhone {
                    raw: p.trim().to_string(),
                    label: label.to_string(),
                })),
                Field::PhoneValue(n) => google_phones.push((*n, v.to_string())),
                Field::PhoneLabel(n) => google_labels.push((*n, google_label(v))),
                Field::Birthday => match birthday(v) {
                    Ok(b) => c.birthday = b,
                    Err(()) => problems.push(Problem {
                        line: row,
                        message: "a birthday that is not a date was left out".into(),
                    }),
                },
            }
        }
        for (n, value) in google_phones {
            let label = google_labels
                .iter()
                .find(|(m, _)| *m == n)
                .map_or_else(|| "other".to_string(), |(_, l)| l.clone());
            for p in value
                .split(" ::: ")
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                c.phones.push(ContactPhone {
                    raw: p.to_string(),
                    label: label.clone(),
                });
            }
        }
        contacts.push(c);
    }
    let columns = headers
        .iter()
        .zip(&fields)
        .map(|(h, f)| (h.clone(), f.map(|f| f.name().to_string())))
        .collect();
    Ok(CsvParsed {
        contacts,
        problems,
        columns,
        delimiter: delimiter as char,
        encoding,
    })
}
