//! Normalising typed phone numbers (issue 23): Kartka's reader (`kartka_core::phone::read`, on
//! `rlibphonenumber`) beside the `phonenumber` 0.3 crate it replaced, on the same strings typed
//! the ways masters type them, each call timed on its own.

use std::time::Instant;

use kartka_core::phone::{parse_region, read};

/// How many strings each reader normalises (each timed on its own).
const N: usize = 20_000;

/// Strings as typed in the books: mobiles, landlines, toll-free, foreign numbers, extensions,
/// with the separators people use.
fn typed(i: usize) -> (&'static str, String) {
    let a = i % 1000;
    let b = (i / 1000) % 100;
    let c = (i * 7) % 100;
    match i % 8 {
        0 => ("UA", format!("067 {a:03} {b:02} {c:02}")),
        1 => ("UA", format!("+38 (050) {a:03}-{b:02}-{c:02}")),
        2 => ("RU", format!("8 (812) {a:03}-{b:02}-{c:02}")),
        3 => ("RU", format!("+7 912 {a:03} {b:02} {c:02}")),
        4 => ("PL", format!("601 {a:03} {b:01}{c:02}")),
        5 => ("US", format!("+49 171 {a:03}{b:02}{c:02}")),
        6 => ("UA", format!("044 235 {b:02} {c:02} доб. {a}")),
        _ => ("GB", format!("07911 {a:03}{b:01}{c:02}")),
    }
}

pub struct Report {
    pub kartka_p50_us: f64,
    pub kartka_p99_us: f64,
    /// The library's parse, validation and E.164 alone, without Kartka's reading around it.
    pub lib_p50_us: f64,
    pub lib_p99_us: f64,
    pub old_p50_us: f64,
    pub old_p99_us: f64,
}

fn percentiles(mut ns: Vec<u128>) -> (f64, f64) {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    (at(0.5), at(0.99))
}

pub fn run() -> Report {
    let cases: Vec<(&str, String)> = (0..N).map(typed).collect();
    // Warm both: metadata loads and regexes compile on first use.
    let _ = read("067 123 45 67", parse_region("UA").unwrap());
    let _ = phonenumber::parse(Some(phonenumber::country::Id::UA), "067 123 45 67");

    let mut kartka = Vec::with_capacity(N);
    let mut valid = 0;
    for (book, s) in &cases {
        let region = parse_region(book).unwrap();
        let t = Instant::now();
        let r = read(s, region);
        kartka.push(t.elapsed().as_nanos());
        valid += usize::from(r.e164.is_some());
    }
    let mut lib = Vec::with_capacity(N);
    for (book, s) in &cases {
        let region = parse_region(book).unwrap();
        let t = Instant::now();
        let r = rlibphonenumber::PhoneNumber::parse(s, Some(region))
            .ok()
            .filter(|n| n.is_valid())
            .map(|n| {
                n.format_as(rlibphonenumber::PhoneNumberFormat::E164)
                    .into_owned()
            });
        lib.push(t.elapsed().as_nanos());
        std::hint::black_box(r);
    }
    let mut old = Vec::with_capacity(N);
    for (book, s) in &cases {
        let region: phonenumber::country::Id = book.parse().unwrap();
        let t = Instant::now();
        let r = phonenumber::parse(Some(region), s)
            .ok()
            .filter(phonenumber::is_valid)
            .map(|n| n.format().mode(phonenumber::Mode::E164).to_string());
        old.push(t.elapsed().as_nanos());
        std::hint::black_box(r);
    }
    eprintln!("{valid} of {N} valid for Kartka's reader");
    let (kartka_p50_us, kartka_p99_us) = percentiles(kartka);
    let (old_p50_us, old_p99_us) = percentiles(old);
    let (lib_p50_us, lib_p99_us) = percentiles(lib);
    Report {
        kartka_p50_us,
        kartka_p99_us,
        lib_p50_us,
        lib_p99_us,
        old_p50_us,
        old_p99_us,
    }
}

impl Report {
    pub fn markdown(&self) -> String {
        format!(
            "| reader | p50 | p99 |\n|---|---|---|\n\
             | Kartka's `phone::read` | {:.2} µs | {:.2} µs |\n\
             | `rlibphonenumber` alone (parse, valid, E.164) | {:.2} µs | {:.2} µs |\n\
             | `phonenumber` 0.3 alone (replaced) | {:.2} µs | {:.2} µs |",
            self.kartka_p50_us,
            self.kartka_p99_us,
            self.lib_p50_us,
            self.lib_p99_us,
            self.old_p50_us,
            self.old_p99_us
        )
    }
}
