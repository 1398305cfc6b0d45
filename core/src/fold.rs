//! Text folding for search and ordering.
//!
//! SQLite's `lower()` and `LIKE` fold ASCII only, and our clients are named in Cyrillic and
//! Polish, so every searchable string is folded here, in Rust, on the way into the projection and
//! on the way into a query: Unicode lower case, compatibility decomposition, combining marks
//! dropped (`Ł`/`ł` has no decomposition and is mapped by hand), whitespace collapsed.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// `"  Łucja  Żółć "` → `"lucja zolc"`, `"Йосип Ї"` → `"иосип і"`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'Ł' | 'ł' => out.push('l'),
            'ß' => out.push_str("ss"),
            'Đ' | 'đ' => out.push('d'),
            'Ø' | 'ø' => out.push('o'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The words of a folded string, for word-prefix matching (`"anna-maria kowalska"` → three words).
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The smallest string greater than every string starting with `prefix`, for index range scans
/// (`col >= prefix AND col < prefix_end(prefix)`).
pub fn prefix_end(prefix: &str) -> String {
    let mut s = prefix.to_string();
    s.push(char::MAX);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_diacritics_in_three_scripts() {
        assert_eq!(fold("Łucja ŻÓŁĆ"), "lucja zolc");
        assert_eq!(fold("  Олена   КОВАЛЕНКО "), "олена коваленко");
        assert_eq!(fold("Ёлка Йосип Їжак"), "елка иосип іжак");
        assert_eq!(fold("José Müller"), "jose muller");
    }

    #[test]
    fn words_split_on_punctuation() {
        let w: Vec<_> = words("anna-maria o'neil  kowalska").collect();
        assert_eq!(w, ["anna", "maria", "o", "neil", "kowalska"]);
    }

    #[test]
    fn prefix_end_bounds_every_extension() {
        let end = prefix_end("оле");
        assert!("олена" < end.as_str());
        assert!("олеґ" < end.as_str());
        assert!("олж" > end.as_str());
    }
}
