//! Kartka's reading of typed phone numbers against Google's libphonenumber (PyPI `phonenumbers`,
//! pinned in `phone_corpus/generate.py`), on the corpus that script generates: tens of thousands
//! of (typed string, book) pairs. No valid number may get an E.164 other than libphonenumber's,
//! no string may get an E.164 libphonenumber does not give it, and no valid number may be
//! rejected, except for the deliberate differences `phone_corpus/README.md` lists.
//!
//! The script runs here, so the expected answers are always libphonenumber's own; it needs
//! `python3` with the pinned `phonenumbers` (`.ci/run` installs it). Without them the test fails.

use std::fmt::Write as _;
use std::process::Command;

use kartka_core::phone::{parse_region, read};

struct Case {
    book: String,
    typed: String,
    e164: Option<String>,
    extension: Option<String>,
    kind: String,
}

fn corpus() -> Vec<Case> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/phone_corpus/generate.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .output()
        .expect("python3 runs the corpus generator");
    assert!(
        out.status.success(),
        "the corpus generator failed (pip install the pinned phonenumbers): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("the corpus is UTF-8");
    let opt = |s: &str| (s != "-").then(|| s.to_string());
    text.lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "corpus line {line:?}");
            Case {
                book: f[0].into(),
                typed: f[1].into(),
                e164: opt(f[2]),
                extension: opt(f[3]),
                kind: f[4].into(),
            }
        })
        .collect()
}

#[test]
fn kartka_reads_typed_numbers_as_libphonenumber_does() {
    let cases = corpus();
    let typed: std::collections::HashSet<&str> = cases.iter().map(|c| c.typed.as_str()).collect();
    assert!(typed.len() >= 2000, "{} typed strings", typed.len());
    let books: std::collections::HashSet<&str> = cases.iter().map(|c| c.book.as_str()).collect();
    assert_eq!(books.len(), 8);

    let (mut wrong, mut rejected, mut ext_wrong, mut letters_read) =
        (String::new(), String::new(), String::new(), String::new());
    let mut valid = 0;
    for c in &cases {
        let got = read(&c.typed, parse_region(&c.book).unwrap());
        if c.e164.is_some() {
            valid += 1;
        }
        let line = format!(
            "  {} {:?}: kartka {:?} ext {:?}, libphonenumber {:?} ext {:?}\n",
            c.book, c.typed, got.e164, got.extension, c.e164, c.extension
        );
        if c.kind == "letters" {
            // Deliberate: letters in the number are kept as typed, never read as keypad digits.
            if got.e164.is_some() {
                letters_read.push_str(&line);
            }
            continue;
        }
        match (&got.e164, &c.e164) {
            (Some(g), Some(e)) if g == e => {
                if got.extension != c.extension {
                    ext_wrong.push_str(&line);
                }
            }
            (Some(_), _) => wrong.push_str(&line),
            (None, Some(_)) => rejected.push_str(&line),
            (None, None) => {}
        }
    }
    let mut report = String::new();
    for (what, lines) in [
        ("a different or an invalid number given an E.164", &wrong),
        ("valid numbers rejected", &rejected),
        ("extensions lost or changed", &ext_wrong),
        ("letters read as keypad digits", &letters_read),
    ] {
        if !lines.is_empty() {
            let n = lines.lines().count();
            let shown: String = lines.lines().take(40).map(|l| format!("{l}\n")).collect();
            let _ = write!(report, "{n} {what}:\n{shown}");
        }
    }
    assert!(report.is_empty(), "{report}");
    // A corpus whose numbers were all invalid would prove nothing.
    assert!(valid > cases.len() / 3, "{valid} valid of {}", cases.len());
}
