//! Phone numbers: normalisation to E.164 (libphonenumber's rules, through the `phonenumber`
//! crate) and the keys that let a number be found however it is typed.

use phonenumber::Mode;
use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;

use crate::error::{Error, Result};

/// Parses a region code such as `UA` or `pl`.
pub fn parse_region(region: &str) -> Result<Id> {
    region
        .trim()
        .to_ascii_uppercase()
        .parse::<Id>()
        .map_err(|_| Error::validation("region", "expected an ISO 3166 country code such as UA"))
}

/// The E.164 form of a number typed the way people type it (`067 123 45 67`, `+38 (067) 123-45-67`,
/// `8 912 345-67-89` in Russia), with `region` assumed when the number has no country code.
/// `None` when the number is not a valid number for any region.
pub fn to_e164(raw: &str, region: Id) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.chars().filter(char::is_ascii_digit).count() < 5 {
        return None;
    }
    // Numbers written with the international `00` prefix parse only relative to a region that uses
    // it; normalising to `+` first makes them parse whatever the business's region is.
    let candidate = match trimmed.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => trimmed.to_string(),
    };
    let number = phonenumber::parse(Some(region), &candidate).ok()?;
    if !phonenumber::is_valid(&number) {
        return None;
    }
    Some(number.format().mode(Mode::E164).to_string())
}

/// Digit strings a stored number can be found by, each matched by prefix: the full international
/// digits (`380671234567`), the national form with its trunk prefix (`0671234567`) and the
/// national significant number (`671234567`).
pub fn search_keys(e164: &str) -> Vec<String> {
    let mut keys = vec![e164.trim_start_matches('+').to_string()];
    if let Ok(number) = phonenumber::parse(None, e164) {
        let nsn = number.national().to_string();
        if let Some(prefix) = number
            .country()
            .id()
            .and_then(|id| DATABASE.by_id(id.as_ref()))
            .and_then(|m| m.national_prefix())
        {
            keys.push(format!("{prefix}{nsn}"));
        }
        keys.push(nsn);
    }
    keys.dedup();
    keys
}

/// The digits of a query that looks like a phone number (digits, spaces and `+-()./`, at least
/// three digits), or `None` for any other query.
pub fn query_digits(query: &str) -> Option<String> {
    let q = query.trim();
    if !q
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()./".contains(c))
    {
        return None;
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    // `00` is the international prefix people type instead of `+`.
    let digits = digits
        .strip_prefix("00")
        .map(str::to_string)
        .unwrap_or(digits);
    (digits.len() >= 3).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ua() -> Id {
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
    fn query_digits_only_for_number_like_queries() {
        assert_eq!(query_digits("067 123").as_deref(), Some("067123"));
        assert_eq!(query_digits("+38067123").as_deref(), Some("38067123"));
        assert_eq!(query_digits("(067) 12").as_deref(), Some("06712"));
        assert_eq!(query_digits("Олена 067"), None);
        assert_eq!(query_digits("12"), None);
    }
}
