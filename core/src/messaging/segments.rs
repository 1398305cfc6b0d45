//! How an SMS text is encoded and how many segments it costs (3GPP TS 23.038).
//!
//! GSM-7 holds 160 septets in one message and 153 per part of a long one; the extension table
//! characters (`€ [ ] { } \ ^ ~ |` and form feed) take two septets. Any character outside the
//! GSM-7 sets (a Cyrillic letter, `ё`, an emoji) makes the whole text UCS-2: 70 UTF-16 units in
//! one message, 67 per part, an emoji taking two. A segment boundary never splits an escape
//! pair or a surrogate pair, which phones count the same way.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SmsInfo {
    pub encoding: SmsEncoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: u32,
    /// An empty text still costs one (empty) message, as phones show it.
    pub segments: u32,
    /// Units a segment holds: 160 or 153 for GSM-7, 70 or 67 for UCS-2.
    pub per_segment: u32,
    /// Units left in the last segment.
    pub remaining: u32,
}

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets a character takes in GSM-7, or `None` if GSM-7 cannot carry it.
fn gsm_septets(c: char) -> Option<u32> {
    if c != '\u{1b}' && GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Segments needed for `sizes` (units per character) when each part holds `per_part`, never
/// splitting one character across parts.
fn parts(sizes: impl Iterator<Item = u32>, per_part: u32) -> (u32, u32) {
    let (mut count, mut used) = (1, 0);
    for s in sizes {
        if used + s > per_part {
            count += 1;
            used = 0;
        }
        used += s;
    }
    (count, per_part - used)
}

pub fn analyze(text: &str) -> SmsInfo {
    let gsm: Option<Vec<u32>> = text.chars().map(gsm_septets).collect();
    let (encoding, sizes, single, multi) = match gsm {
        Some(s) => (SmsEncoding::Gsm7, s, 160, 153),
        None => (
            SmsEncoding::Ucs2,
            text.chars().map(|c| c.len_utf16() as u32).collect(),
            70,
            67,
        ),
    };
    let units: u32 = sizes.iter().sum();
    if units <= single {
        return SmsInfo {
            encoding,
            units,
            segments: 1,
            per_segment: single,
            remaining: single - units,
        };
    }
    let (segments, remaining) = parts(sizes.into_iter(), multi);
    SmsInfo {
        encoding,
        units,
        segments,
        per_segment: multi,
        remaining,
    }
}
