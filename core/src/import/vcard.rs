//! vCard 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350 and the 2.1 spec as Android writes it).
//!
//! What real exports contain, and is handled: Android's 2.1 with `ENCODING=QUOTED-PRINTABLE;
//! CHARSET=UTF-8` Cyrillic and `=` soft line breaks; bare 2.1 parameters (`TEL;CELL;PREF:`);
//! folded lines; Apple's `item1.TEL` with `item1.X-ABLabel:_$!<Mobile>!$_`; several TEL and
//! EMAIL; BDAY with and without a year (`--0415`); 4.0 `TEL;VALUE=uri:tel:+…`; PHOTO blobs,
//! skipped. A line that cannot be read is reported with its number and the next card is read.

use std::collections::HashMap;

use super::contact::{Contact, ContactPhone, ImportError, Parsed, Problem, decode, parse_birthday};

/// The card being read: the contact, Apple's group labels, and which group each phone is in.
type Card = (
    Contact,
    HashMap<String, String>,
    Vec<(Option<String>, usize)>,
);

/// One logical (unfolded) line and the number of its first physical line.
struct Line {
    number: usize,
    text: String,
}

fn is_qp(head: &str) -> bool {
    head.to_ascii_uppercase().contains("QUOTED-PRINTABLE")
}

/// Joins folded lines (RFC 6350: a line starting with a space or tab continues the previous
/// one) and quoted-printable soft breaks (a 2.1 QP value line ending with `=`).
fn unfold(text: &str) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let mut soft_break = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if soft_break {
            let last = out.last_mut().expect("a soft break follows a line");
            last.text.pop();
            last.text.push_str(line.trim_start());
        } else if (line.starts_with(' ') || line.starts_with('\t')) && !out.is_empty() {
            out.last_mut().expect("checked").text.push_str(&line[1..]);
        } else {
            out.push(Line {
                number: i + 1,
                text: line.to_string(),
            });
        }
        let last = out.last().expect("pushed");
        let head = last.text.split(':').next().unwrap_or_default();
        soft_break = last.text.ends_with('=') && is_qp(head) && last.text.contains(':');
    }
    out
}

/// Splits `s` at unescaped `sep`.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            parts.last_mut().expect("non-empty").push(c);
            if let Some(n) = chars.next() {
                parts.last_mut().expect("non-empty").push(n);
            }
        } else if c == sep {
            parts.push(String::new());
        } else {
            parts.last_mut().expect("non-empty").push(c);
        }
    }
    parts
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// `item1.TEL;TYPE=CELL;CHARSET=UTF-8` → group, name, parameters (keys upper-cased; a bare 2.1
/// parameter is a TYPE).
fn split_head(head: &str) -> (Option<String>, String, Vec<(String, String)>) {
    let mut pieces = head.split(';');
    let name_part = pieces.next().unwrap_or_default();
    let (group, name) = match name_part.rsplit_once('.') {
        Some((g, n)) => (Some(g.to_ascii_lowercase()), n.to_ascii_uppercase()),
        None => (None, name_part.to_ascii_uppercase()),
    };
    let params = pieces
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (
                k.trim().to_ascii_uppercase(),
                v.trim().trim_matches('"').to_string(),
            ),
            None => ("TYPE".to_string(), p.trim().to_string()),
        })
        .collect();
    (group, name, params)
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The value's text: quoted-printable decoded and read in its CHARSET if so marked.
fn value_text(params: &[(String, String)], raw: &str) -> Result<String, String> {
    let qp = param(params, "ENCODING").is_some_and(|e| e.eq_ignore_ascii_case("QUOTED-PRINTABLE"))
        || params
            .iter()
            .any(|(k, v)| k == "TYPE" && v.eq_ignore_ascii_case("QUOTED-PRINTABLE"));
    if !qp {
        return Ok(raw.to_string());
    }
    let bytes = quoted_printable::decode(raw.as_bytes(), quoted_printable::ParseMode::Robust)
        .map_err(|e| format!("broken quoted-printable value: {e}"))?;
    let enc = param(params, "CHARSET")
        .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, had_errors) = enc.decode(&bytes);
    if had_errors {
        return Err(format!("value is not valid {}", enc.name()));
    }
    Ok(text.into_owned())
}

/// `mobile`, `home`, `work` or `other` from TEL types; Apple's `_$!<Mobile>!$_` labels too.
fn label_of(types: &[String]) -> String {
    for t in types {
        match t.to_ascii_lowercase().as_str() {
            "cell" | "mobile" | "iphone" => return "mobile".into(),
            "home" => return "home".into(),
            "work" => return "work".into(),
            _ => {}
        }
    }
    "other".into()
}

fn apple_label(l: &str) -> String {
    let inner = l.trim().trim_start_matches("_$!<").trim_end_matches(">!$_");
    match inner.to_ascii_lowercase().as_str() {
        "mobile" | "iphone" | "cell" => "mobile".into(),
        "home" => "home".into(),
        "work" => "work".into(),
        "other" => "other".into(),
        _ => inner.to_string(),
    }
}

pub fn parse(bytes: &[u8]) -> Result<Parsed, ImportError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty);
    }
    let (text, _) = decode(bytes);
    if !text.to_ascii_uppercase().contains("BEGIN:VCARD") {
        return Err(ImportError::NotVcard);
    }
    let mut contacts = Vec::new();
    let mut problems = Vec::new();
    let mut current: Option<Card> = None;
    let mut card_start = 0;

    for line in unfold(&text) {
        let t = line.text.trim_end();
        if t.trim().is_empty() {
            continue;
        }
        let Some((head, raw_value)) = t.split_once(':') else {
            if current.is_some() {
                problems.push(Problem {
                    line: line.number,
                    message: "a line without ':' was skipped".into(),
                });
            }
            continue;
        };
        let (group, name, params) = split_head(head);
        match name.as_str() {
            "BEGIN" if raw_value.trim().eq_ignore_ascii_case("VCARD") => {
                if current.is_some() {
                    problems.push(Problem {
                        line: card_start,
                        message: "a card without END:VCARD".into(),
                    });
                    let (c, labels, groups) = current.take().expect("checked");
                    contacts.push(finish(c, &labels, &groups));
                }
                current = Some((Contact::default(), HashMap::new(), Vec::new()));
                card_start = line.number;
                continue;
            }
            "END" if raw_value.trim().eq_ignore_ascii_case("VCARD") => {
                if let Some((c, labels, groups)) = current.take() {
                    contacts.push(finish(c, &labels, &groups));
                }
                continue;
            }
            _ => {}
        }
        let Some((contact, labels, phone_groups)) = current.as_mut() else {
            continue;
        };
        if name == "PHOTO" || name == "LOGO" || name == "SOUND" || name == "KEY" {
            continue;
        }
        let value = match value_text(&params, raw_value) {
            Ok(v) => v,
            Err(message) => {
                problems.push(Problem {
                    line: line.number,
                    message,
                });
                continue;
            }
        };
        let types: Vec<String> = params
            .iter()
            .filter(|(k, _)| k == "TYPE")
            .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()))
            .collect();
        match name.as_str() {
            "FN" => contact.display_name = Some(unescape(&value)).filter(|s| !s.is_empty()),
            "N" => {
                let parts: Vec<String> = split_unescaped(&value, ';')
                    .iter()
                    .map(|p| unescape(p))
                    .collect();
                let get = |i: usize| parts.get(i).cloned().filter(|s| !s.is_empty());
                contact.family_name = get(0);
                contact.given_name = get(1);
                contact.middle_name = get(2);
            }
            "ORG" => {
                contact.organization = split_unescaped(&value, ';')
                    .first()
                    .map(|o| unescape(o))
                    .filter(|s| !s.is_empty());
            }
            "TEL" => {
                let raw = unescape(&value);
                let raw = raw.strip_prefix("tel:").unwrap_or(&raw).to_string();
                if !raw.trim().is_empty() {
                    phone_groups.push((group.clone(), contact.phones.len()));
                    contact.phones.push(ContactPhone {
                        raw,
                        label: label_of(&types),
                    });
                }
            }
            "EMAIL" => {
                let e = unescape(&value);
                if !e.is_empty() {
                    contact.emails.push(e);
                }
            }
            // iOS writes a birthday without a year as 1604-04-15 with X-APPLE-OMIT-YEAR=1604.
            "BDAY" => match parse_birthday(&unescape(&value)).map(|b| {
                match (b, param(&params, "X-APPLE-OMIT-YEAR")) {
                    (crate::model::Birthday::Full(d), Some(y))
                        if y == d.format("%Y").to_string() =>
                    {
                        let (month, day) = b.month_day();
                        crate::model::Birthday::MonthDay { month, day }
                    }
                    _ => b,
                }
            }) {
                Some(b) => contact.birthday = Some(b),
                None => problems.push(Problem {
                    line: line.number,
                    message: "a birthday that is not a date was skipped".into(),
                }),
            },
            "NOTE" => contact.note = Some(unescape(&value)).filter(|s| !s.is_empty()),
            "UID" => contact.source_id = Some(unescape(&value)).filter(|s| !s.is_empty()),
            "X-ABLABEL" => {
                if let Some(g) = group {
                    labels.insert(g, apple_label(&unescape(&value)));
                }
            }
            _ => {}
        }
    }
    if let Some((c, labels, groups)) = current.take() {
        problems.push(Problem {
            line: card_start,
            message: "the last card has no END:VCARD".into(),
        });
        contacts.push(finish(c, &labels, &groups));
    }
    Ok(Parsed { contacts, problems })
}

/// Applies Apple's group labels (`item1.X-ABLabel`) to the phones of their group.
fn finish(
    mut c: Contact,
    labels: &HashMap<String, String>,
    groups: &[(Option<String>, usize)],
) -> Contact {
    for (group, i) in groups {
        if let Some(label) = group.as_ref().and_then(|g| labels.get(g)) {
            c.phones[*i].label = label.clone();
        }
    }
    c
}
