//! Money: integer minor units of an ISO 4217 currency. Amounts are typed by people in major units
//! (`800`, `800.50`, `800,50`) and turned into minor units here, with the currency's own exponent
//! (UAH and PLN have 2, JPY 0, KWD 3) from the `iso_currency` tables.

use iso_currency::Currency;

use crate::error::{Error, Result};

/// A validated ISO 4217 currency code.
pub fn currency(code: &str) -> Result<Currency> {
    Currency::from_code(&code.trim().to_ascii_uppercase())
        .filter(|c| c.exponent().is_some())
        .ok_or_else(|| Error::validation("currency", "expected an ISO 4217 code such as UAH"))
}

fn exponent(currency: Currency) -> u32 {
    u32::from(currency.exponent().unwrap_or(2))
}

/// `"800"` → 80000 for UAH; `"800,5"` → 80050; more decimals than the currency has is an error.
pub fn parse_major(input: &str, currency: Currency) -> Result<i64> {
    let exp = exponent(currency);
    let bad = |why: &str| Error::validation("amount", why.to_string());
    let s: String = input
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, s),
    };
    let (whole, frac) = match s.split_once(['.', ',']) {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return Err(bad("expected a number such as 800 or 800.50"));
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("expected a number such as 800 or 800.50"));
    }
    if frac.len() > exp as usize {
        return Err(bad("more decimal places than the currency has"));
    }
    let scale = 10i64.pow(exp);
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad("too large"))?
    };
    let frac_val: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().map_err(|_| bad("too large"))? * 10i64.pow(exp - frac.len() as u32)
    };
    let v = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_val))
        .ok_or_else(|| bad("too large"))?;
    Ok(if neg { -v } else { v })
}

/// `80050` → `"800.50"` for UAH (no grouping, no symbol: locale formatting belongs to templates).
pub fn format_minor(minor: i64, currency: Currency) -> String {
    let exp = exponent(currency);
    if exp == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale as u64,
        abs % scale as u64,
        width = exp as usize
    )
}

/// `total × (100 − discount) / 100`, rounded half up, in minor units.
pub fn apply_discount(total: i64, discount_percent: u8) -> i64 {
    let keep = 100 - i64::from(discount_percent.min(100));
    (total * keep + 50).div_euclid(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_major_units_with_the_currency_exponent() {
        let uah = currency("uah").unwrap();
        assert_eq!(parse_major("800", uah).unwrap(), 80000);
        assert_eq!(parse_major("800.5", uah).unwrap(), 80050);
        assert_eq!(parse_major("1 200,25", uah).unwrap(), 120025);
        assert_eq!(parse_major("-10", uah).unwrap(), -1000);
        assert!(parse_major("8.001", uah).is_err());
        assert!(parse_major("abc", uah).is_err());
        assert!(parse_major("", uah).is_err());
        let jpy = currency("JPY").unwrap();
        assert_eq!(parse_major("1500", jpy).unwrap(), 1500);
        assert!(parse_major("1500.5", jpy).is_err());
        assert!(currency("XYZ").is_err());
    }

    #[test]
    fn formats_minor_units() {
        let uah = currency("UAH").unwrap();
        assert_eq!(format_minor(80050, uah), "800.50");
        assert_eq!(format_minor(-5, uah), "-0.05");
        assert_eq!(format_minor(1500, currency("JPY").unwrap()), "1500");
    }

    #[test]
    fn discount_rounds_half_up() {
        assert_eq!(apply_discount(80000, 10), 72000);
        assert_eq!(apply_discount(105, 50), 53);
        assert_eq!(apply_discount(100, 0), 100);
    }
}
