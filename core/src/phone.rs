//! Phone numbers: reading what the master typed as Google's libphonenumber reads it (through
//! `rlibphonenumber`, a port of its C++ library), and the keys that let a number be found however
//! it is typed.
//!
//! Only a *valid* number gets an E.164 form; anything else (possible-but-invalid, junk, letters)
//! is kept as typed and flagged. A wrong E.164 sends a client's reminder to a stranger, so when
//! in doubt the answer is "no E.164".

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumber, PhoneNumberFormat};

use crate::error::{Error, Result};

/// A numbering region (ISO 3166 code) the library has metadata for.
pub type Region = rlibphonenumber::Region;

/// Parses a region code such as `UA` or `pl`.
pub fn parse_region(region: &str) -> Result<Region> {
    let invalid = || Error::validation("region", "expected an ISO 3166 country code such as UA");
    let r = region.trim().parse::<Region>().map_err(|_| invalid())?;
    // Every two-letter code parses; only those with numbering metadata are regions.
    PHONE_NUMBER_UTIL
        .get_country_code_for_region(r)
        .map(|_| r)
        .ok_or_else(invalid)
}

/// What a typed number reads as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// `+380671234567`; `None` unless the number is valid.
    pub e164: Option<String>,
    /// `5` of `044 235 12 34 доб. 5`; only beside an E.164.
    pub extension: Option<String>,
}

/// Extension words libphonenumber does not know, as Ukrainian and Russian (`вн.`, внутрішній)
/// and Polish (`wew.`, wewnętrzny) offices write them; read as `ext.`.
const EXTENSION_WORDS: [&str; 2] = ["вн", "wew"];
/// Every marker an extension may follow, for telling an extension from letters in the number:
/// libphonenumber's own (`доб`, `ext`, `x`, `#`, `;ext=` …) and `EXTENSION_WORDS`.
const EXTENSION_MARKERS: [&str; 12] = [
    ";ext=",
    "extension",
    "extn",
    "ext",
    "доб",
    "вн",
    "wew",
    "anexo",
    "int",
    "x",
    "#",
    "ｘ",
];

/// Reads a number typed the way people type it (`067 123 45 67`, `+38 (067) 123-45-67`,
/// `8 (812) 123-45-67` in Russia, `044 235 12 34 доб. 5`, full-width or Arabic-Indic digits),
/// with `region` assumed when the number has no country code: libphonenumber's reading, except
/// that letters in the number keep it as typed instead of being read as keypad digits (a letter
/// is a typo far more often than a vanity number), `вн.`/`wew.` mark an extension and every
/// Unicode space separates digits.
pub fn read(raw: &str, region: Region) -> Reading {
    // libphonenumber knows the no-break space but not the thin and narrow ones some keyboards
    // and formatted copies produce.
    let spaced: String = raw
        .trim()
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let typed = with_extension_words_read(&spaced);
    let number_part = &typed[..extension_start(&typed).unwrap_or(typed.len())];
    if number_part.chars().any(char::is_alphabetic) {
        return Reading::default();
    }
    match PhoneNumber::parse(&typed, Some(region)) {
        Ok(n) if n.is_valid() => Reading {
            e164: Some(n.format_as(PhoneNumberFormat::E164).into_owned()),
            extension: n.extension.filter(|e| !e.is_empty()),
        },
        _ => Reading::default(),
    }
}

/// The E.164 form of a typed number (see [`read`]); `None` unless it is valid.
pub fn to_e164(raw: &str, region: Region) -> Option<String> {
    read(raw, region).e164
}

/// The extension of a stored number (`5` of `044 235 12 34 доб. 5`), read again from what was
/// typed: the card keeps `raw`, so the extension syncs with it and needs no field of its own.
/// `None` unless `raw` still reads as `e164` (read in the number's own region, which is the
/// book's for a national form).
pub fn extension(raw: &str, e164: &str) -> Option<String> {
    let region = PhoneNumber::parse(e164, None).ok()?.get_region_code()?;
    let r = read(raw, region);
    if r.e164.as_deref() == Some(e164) {
        r.extension
    } else {
        None
    }
}

/// Whether a stored number is still what its typed form reads as: a device not yet upgraded may
/// have stored a wrong E.164 (issue 23), and a message must not go to it. A number typed as
/// exactly its E.164 (a gateway's `From`, a `+380…` pasted whole) holds whatever the metadata.
pub fn reread(raw: &str, stored: &str, region: Region) -> Reread {
    if raw.trim() == stored {
        return Reread::Holds;
    }
    match to_e164(raw, region) {
        Some(now) if now == stored => Reread::Holds,
        now => Reread::Differs { now },
    }
}

/// What [`reread`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reread {
    Holds,
    /// The typed form reads as another number now, or as none.
    Differs {
        now: Option<String>,
    },
}

/// `вн. 5` → ` ext. 5`: a Kartka-only extension word followed (after dots and spaces) by a digit.
fn with_extension_words_read(typed: &str) -> String {
    let lower = lower_in_place(typed);
    for word in EXTENSION_WORDS {
        if let Some(at) = lower.rfind(word) {
            let after = &typed[at + word.len()..];
            let rest =
                after.trim_start_matches(|c: char| c == '.' || c == ':' || c.is_whitespace());
            let preceded_by_letter = typed[..at]
                .chars()
                .next_back()
                .is_some_and(char::is_alphabetic);
            if !preceded_by_letter
                && rest
                    .chars()
                    .next()
                    .is_some_and(|c| digit_value(c).is_some())
            {
                return format!("{} ext. {rest}", &typed[..at]);
            }
        }
    }
    typed.to_string()
}

/// Where an extension starts: the last extension marker followed, after dots, spaces and `=`,
/// only by digits. `None` when the string does not end in an extension.
fn extension_start(typed: &str) -> Option<usize> {
    let lower = lower_in_place(typed);
    EXTENSION_MARKERS
        .iter()
        .filter_map(|m| {
            let at = lower.rfind(m)?;
            let rest = lower[at + m.len()..]
                .trim_start_matches(|c: char| ".:=".contains(c) || c.is_whitespace());
            let digits_only = !rest.is_empty() && rest.chars().all(|c| digit_value(c).is_some());
            digits_only.then_some(at)
        })
        .min()
}

/// `s` lower-cased where that keeps each character's length, so a byte offset found in the result
/// is a character boundary in `s` too.
fn lower_in_place(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut l = c.to_lowercase();
            match (l.next(), l.next()) {
                (Some(one), None) if one.len_utf8() == c.len_utf8() => one,
                _ => c,
            }
        })
        .collect()
}

/// The value of a decimal digit in any script people type numbers in: ASCII, full-width,
/// Arabic-Indic and Extended Arabic-Indic (Persian/Urdu keyboards).
pub fn digit_value(c: char) -> Option<u32> {
    let base = match c {
        '0'..='9' => '0',
        '０'..='９' => '０',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        _ => return None,
    };
    Some(c as u32 - base as u32)
}

/// The ASCII digits of a string, whatever script they were typed in.
fn ascii_digits(s: &str) -> String {
    s.chars()
        .filter_map(digit_value)
        .filter_map(|d| char::from_digit(d, 10))
        .collect()
}

/// Digit strings a stored number can be found by, each matched by prefix: the full international
/// digits (`380671234567`), the national form as its own region writes it, trunk prefix
/// included (`0671234567`, Belarus's `80291234567`), and the national significant number
/// (`671234567`).
pub fn search_keys(e164: &str) -> Vec<String> {
    let mut keys = vec![e164.trim_start_matches('+').to_string()];
    if let Ok(number) = PhoneNumber::parse(e164, None) {
        let nsn = number.get_national_significant_number();
        // The national format carries the trunk prefix where the region dials one.
        keys.push(ascii_digits(&number.format_as(PhoneNumberFormat::National)));
        keys.push(nsn);
    }
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        if !k.is_empty() && !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// Runs of digits inside a stored number that do not start any of its `keys`
/// ([`search_keys`]): every tail of a key of three digits or more (`1234567`, `34567` … `567`
/// of `0671234567`) that is not itself a key, since keys are matched by prefix already. A query
/// found at the start of one of these is found in the middle or at the end of the number.
pub fn inner_digits(keys: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        // Keys are ASCII digits, so every byte offset is a character boundary.
        for i in 1..k.len().saturating_sub(2) {
            let tail = &k[i..];
            if !keys.iter().any(|x| x == tail) && !out.iter().any(|x| x == tail) {
                out.push(tail.to_string());
            }
        }
    }
    out
}

/// A query that looks like a phone number: digits in any script, spaces, every dash and
/// `+()./`, at least three digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneQuery {
    /// Every digit typed, in ASCII.
    digits: String,
    /// Typed with a leading `+`: the digits are the start of an international number.
    plus: bool,
}

impl PhoneQuery {
    /// Reads `query` as digits of a number, or `None` for any other query.
    pub fn parse(query: &str) -> Option<PhoneQuery> {
        let q = query.trim();
        let separator = |c: char| c.is_whitespace() || "+()./".contains(c) || is_dash(c);
        if !q.chars().all(|c| digit_value(c).is_some() || separator(c)) {
            return None;
        }
        let digits = ascii_digits(q);
        (digits.len() >= 3).then(|| PhoneQuery {
            plus: q.starts_with('+'),
            digits,
        })
    }

    /// The digits a number starting with this query starts with, matched against the keys by
    /// prefix: `00` is the international prefix people type instead of `+`, so it is dropped.
    /// `None` when fewer than three digits are left.
    pub fn start(&self) -> Option<&str> {
        let d = if self.plus {
            &self.digits
        } else {
            self.digits.strip_prefix("00").unwrap_or(&self.digits)
        };
        (d.len() >= 3).then_some(d)
    }

    /// The digits to look for inside numbers (the end, the subscriber part, the middle):
    /// `None` after a `+`, which says the master typed the start of the number. A leading `00`
    /// is kept here: `00 12` is as likely the end of `067 555 00 12`.
    pub fn inside(&self) -> Option<&str> {
        (!self.plus).then_some(self.digits.as_str())
    }
}

/// Every dash keyboards produce: hyphen-minus, hyphens, figure and en/em dashes, minus signs.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}' | '\u{30FC}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ua() -> Region {
        parse_region("UA").unwrap()
    }

    #[test]
    fn normalises_numbers_as_people_type_them() {
        for typed in [
            "067 123 45 67",
            "0671234567",
            "+38 (067) 123-45-67",
            "380671234567",
            "00380671234567",
        ] {
            assert_eq!(
                to_e164(typed, ua()).as_deref(),
                Some("+380671234567"),
                "{typed}"
            );
        }
        let ru = parse_region("ru").unwrap();
        assert_eq!(
            to_e164("8 912 345-67-89", ru).as_deref(),
            Some("+79123456789")
        );
        let pl = parse_region("PL").unwrap();
        assert_eq!(to_e164("601 234 567", pl).as_deref(), Some("+48601234567"));
        assert_eq!(
            to_e164("+49 30 123456", ua()).as_deref(),
            Some("+4930123456")
        );
    }

    fn reads(typed: &str, book: &str) -> Reading {
        read(typed, parse_region(book).unwrap())
    }

    fn e164(typed: &str, book: &str) -> Option<String> {
        reads(typed, book).e164
    }

    /// Issue 23's table: the book's own trunk prefix is never stripped after a `+` country code.
    #[test]
    fn a_foreign_number_is_never_read_into_a_strangers() {
        assert_eq!(
            e164("+49 89 12345678", "RU").as_deref(),
            Some("+498912345678")
        );
        assert_eq!(
            e164("+49 171 1234567", "US").as_deref(),
            Some("+491711234567")
        );
    }

    #[test]
    fn russian_landlines_whose_area_code_begins_with_8_and_toll_free_lines_are_read() {
        for typed in ["8 (812) 123-45-67", "+7 (812) 123 45 67"] {
            assert_eq!(
                e164(typed, "RU").as_deref(),
                Some("+78121234567"),
                "{typed}"
            );
        }
        for typed in ["8-800-555-35-35", "+7 800 555 35 35"] {
            assert_eq!(
                e164(typed, "RU").as_deref(),
                Some("+78005553535"),
                "{typed}"
            );
        }
    }

    #[test]
    fn an_extension_is_kept_beside_the_number() {
        let r = reads("044 235 12 34 доб. 5", "UA");
        assert_eq!(r.e164.as_deref(), Some("+380442351234"));
        assert_eq!(r.extension.as_deref(), Some("5"));
    }

    #[test]
    fn the_british_0_in_brackets_is_read_in_any_book() {
        for book in ["RU", "PL", "US"] {
            assert_eq!(
                e164("+44 (0)7911 123456", book).as_deref(),
                Some("+447911123456"),
                "{book}"
            );
        }
    }

    #[test]
    fn kazakh_mobiles_are_read_in_a_kazakh_book() {
        assert_eq!(e164("701 123 4567", "KZ").as_deref(), Some("+77011234567"));
    }

    #[test]
    fn full_width_digits_are_read() {
        assert_eq!(
            e164("０６７ １２３ ４５ ６７", "UA").as_deref(),
            Some("+380671234567")
        );
    }

    #[test]
    fn extensions_as_masters_write_them() {
        for (typed, book, number) in [
            ("044 235 12 34 доб 12", "UA", "+380442351234"),
            ("044 235 12 34 вн. 12", "UA", "+380442351234"),
            ("8 (812) 123-45-67 вн 12", "RU", "+78121234567"),
            ("22 123 45 67 wew. 12", "PL", "+48221234567"),
            ("020 7946 0958 ext. 12", "GB", "+442079460958"),
            ("(212) 555-0123 x12", "US", "+12125550123"),
            ("(212) 555-0123 #12", "US", "+12125550123"),
            ("+1-212-555-0123;ext=12", "DE", "+12125550123"),
        ] {
            let r = reads(typed, book);
            assert_eq!(r.e164.as_deref(), Some(number), "{typed}");
            assert_eq!(r.extension.as_deref(), Some("12"), "{typed}");
        }
    }

    #[test]
    fn every_script_of_digits_and_every_dash_is_read() {
        for typed in [
            "٠٦٧ ١٢٣ ٤٥ ٦٧",
            "۰۶۷۱۲۳۴۵۶۷",
            "067\u{2013}123\u{2013}45\u{2013}67",
            "067\u{2014}123\u{2212}45\u{2011}67",
            "067\u{a0}123\u{2009}45 67",
        ] {
            assert_eq!(
                e164(typed, "UA").as_deref(),
                Some("+380671234567"),
                "{typed}"
            );
        }
    }

    #[test]
    fn letters_in_a_number_keep_it_as_typed() {
        // libphonenumber reads these as keypad digits: +380672224567, +78005553535.
        assert_eq!(e164("067 ABC 45 67", "UA"), None);
        assert_eq!(e164("+7 8OO 555 35 35", "RU"), None);
        assert_eq!(e164("1-800-FLOWERS", "US"), None);
    }

    #[test]
    fn a_possible_but_invalid_number_gets_no_e164() {
        // Ten digits as Ukrainian numbers have, in no range that is assigned.
        assert_eq!(e164("010 123 45 67", "UA"), None);
    }

    #[test]
    fn a_stored_number_holds_only_while_its_typed_form_reads_as_it() {
        let ru = parse_region("RU").unwrap();
        assert_eq!(
            reread("+49 89 12345678", "+498912345678", ru),
            Reread::Holds
        );
        assert_eq!(
            reread("+49 89 12345678", "+49912345678", ru),
            Reread::Differs {
                now: Some("+498912345678".into())
            }
        );
        assert_eq!(
            reread("8 8OO 555 35 35", "+78005553535", ru),
            Reread::Differs { now: None }
        );
        // A gateway's `From` is its own E.164, whatever the metadata says of it.
        assert_eq!(reread("+79990000000", "+79990000000", ru), Reread::Holds);
    }

    proptest::proptest! {
        /// Whatever is typed or imported, reading it answers; it never panics.
        #[test]
        fn any_text_reads_without_panicking(s in "\\PC{0,40}", tail in "[ .:#xXвнВНwewWEW0-9доб]{0,8}") {
            let typed = format!("{s}{tail}");
            for book in ["UA", "RU", "US"] {
                let r = reads(&typed, book);
                proptest::prop_assert!(r.extension.is_none() || r.e164.is_some());
            }
        }
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        assert_eq!(to_e164("123", ua()), None);
        assert_eq!(to_e164("call me", ua()), None);
        assert_eq!(to_e164("+380 00 000", ua()), None);
        assert!(parse_region("Ukraine").is_err());
    }

    #[test]
    fn search_keys_cover_international_national_and_significant_forms() {
        assert_eq!(
            search_keys("+380671234567"),
            ["380671234567", "0671234567", "671234567"]
        );
        assert_eq!(
            search_keys("+79123456789"),
            ["79123456789", "89123456789", "9123456789"]
        );
    }

    #[test]
    fn phone_queries_only_for_number_like_queries() {
        let q = |s: &str| {
            PhoneQuery::parse(s).map(|q| {
                (
                    q.start().map(str::to_string),
                    q.inside().map(str::to_string),
                )
            })
        };
        let both = |d: &str| Some((Some(d.to_string()), Some(d.to_string())));
        assert_eq!(q("067 123"), both("067123"));
        assert_eq!(q("(067) 12"), both("06712"));
        assert_eq!(q("12 34"), both("1234"));
        assert_eq!(q("+38067123"), Some((Some("38067123".into()), None)));
        assert_eq!(
            q("00380671"),
            Some((Some("380671".into()), Some("00380671".into())))
        );
        assert_eq!(q("00 12"), Some((None, Some("0012".into()))));
        assert_eq!(q("Олена 067"), None);
        assert_eq!(q("12"), None);
        assert_eq!(q("+38"), None);
    }

    #[test]
    fn inner_digits_are_the_tails_that_are_not_keys() {
        let keys = search_keys("+380671234567");
        let inner = inner_digits(&keys);
        assert_eq!(
            inner,
            [
                "80671234567",
                "71234567",
                "1234567",
                "234567",
                "34567",
                "4567",
                "567"
            ]
        );
        assert!(inner_digits(&["12".to_string()]).is_empty());
    }
}
