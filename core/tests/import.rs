//! The vCard and CSV parsers on files shaped like real exports (see fixtures/import/README.md),
//! cross-checked against Python's vobject, and the import preview and commit on a real book.

mod common;

use std::path::PathBuf;

use common::{book, client};
use kartka_core::import::{ImportError, csv, vcard};
use kartka_core::model::{Birthday, Channel, ClientSource, ConsentSource};
use kartka_core::store::{BatchConsent, ImportStatus};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn md(month: u32, day: u32) -> Option<Birthday> {
    Some(Birthday::MonthDay { month, day })
}

#[test]
fn android_2_1_export_with_quoted_printable_cyrillic_and_a_photo() {
    let p = vcard::parse(&fixture("android-2.1.vcf")).unwrap();
    assert_eq!(p.contacts.len(), 5);
    let olena = &p.contacts[0];
    assert_eq!(olena.name().as_deref(), Some("Олена Коваленко"));
    assert_eq!(
        (olena.given_name.as_deref(), olena.family_name.as_deref()),
        (Some("Олена"), Some("Коваленко"))
    );
    let phones: Vec<(&str, &str)> = olena
        .phones
        .iter()
        .map(|p| (p.raw.as_str(), p.label.as_str()))
        .collect();
    assert_eq!(
        phones,
        [("067 123 45 67", "mobile"), ("+380 44 123 45 67", "home")]
    );
    assert_eq!(olena.emails, ["olena@example.com", "o.kovalenko@salon.ua"]);
    assert_eq!(olena.birthday, Some("1990-04-15".parse().unwrap()));
    assert_eq!(
        olena.note.as_deref(),
        Some("Алергія на ацетон, любить пастельні відтінки; приходить з донькою")
    );
    // The photo is skipped: none of its base64 is anywhere in the contact.
    assert!(!format!("{olena:?}").contains("/9j/"));
    assert_eq!(p.contacts[2].birthday, md(4, 15));
    assert_eq!(p.contacts[2].phones[0].raw, "+48 601 234 567");
    // The broken line is reported with its number; the card and the next ones still read.
    assert_eq!(p.problems.len(), 1);
    assert!(p.problems[0].message.contains("':'"));
    assert_eq!(p.problems[0].line, 38);
    assert_eq!(p.contacts[3].name().as_deref(), Some("Ігор Ґудзь"));
    assert_eq!(p.contacts[3].phones[0].raw, "050-111-22-33");
    assert_eq!(p.contacts[4].name(), None);
}

#[test]
fn ios_3_0_export_with_apple_labels_and_a_birthday_without_year() {
    let p = vcard::parse(&fixture("ios-3.0.vcf")).unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let l = &p.contacts[0];
    assert_eq!(l.name().as_deref(), Some("Łucja Żółkiewska"));
    assert_eq!(l.organization.as_deref(), Some("Salon Róża"));
    let phones: Vec<(&str, &str)> = l
        .phones
        .iter()
        .map(|p| (p.raw.as_str(), p.label.as_str()))
        .collect();
    assert_eq!(
        phones,
        [("+48 512 345 678", "mobile"), ("22 123 45 67", "Salon")]
    );
    assert_eq!(l.birthday, md(4, 15));
    assert_eq!(
        l.note.as_deref(),
        Some("Lubi pastelowe kolory, przychodzi w soboty\nAlergia: aceton")
    );
    let t = &p.contacts[1];
    assert_eq!(t.name().as_deref(), Some("Тетяна Іванівна Шевченко"));
    assert_eq!(t.middle_name.as_deref(), Some("Іванівна"));
    assert_eq!(t.phones[0].label, "mobile");
}

#[test]
fn vcard_4_with_uri_phones_and_folded_lines() {
    let p = vcard::parse(&fixture("v4.vcf")).unwrap();
    let m = &p.contacts[0];
    assert_eq!(
        m.source_id.as_deref(),
        Some("urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1")
    );
    assert_eq!(m.phones[0].raw, "+380-63-111-22-33");
    assert_eq!(m.phones[0].label, "mobile");
    assert_eq!(m.phones[1].label, "home");
    assert_eq!(m.birthday, md(2, 29));
    assert_eq!(
        m.note.as_deref(),
        Some("Довгий коментар, який перенесено на другий рядок")
    );
}

#[test]
fn not_a_vcard_is_a_clear_error() {
    assert_eq!(
        vcard::parse(&fixture("not-a-vcard.vcf")),
        Err(ImportError::NotVcard)
    );
    assert_eq!(vcard::parse(b"  \r\n"), Err(ImportError::Empty));
    // Truncated in the middle of a card: what was read is kept, and the cut is reported.
    let whole = fixture("ios-3.0.vcf");
    let cut = vcard::parse(&whole[..whole.len() / 2]).unwrap();
    assert_eq!(cut.contacts[0].name().as_deref(), Some("Łucja Żółkiewska"));
    assert!(cut.problems.iter().any(|p| p.message.contains("END:VCARD")));
}

#[test]
fn google_contacts_csv() {
    let p = csv::parse(&fixture("google.csv")).unwrap();
    assert_eq!(p.delimiter, ',');
    // A row with nothing but a label is kept (the preview shows it as invalid), not dropped.
    assert_eq!(p.contacts.len(), 3);
    assert_eq!(p.contacts[2].name(), None);
    let o = &p.contacts[0];
    assert_eq!(o.name().as_deref(), Some("Олена Коваленко"));
    let phones: Vec<(&str, &str)> = o
        .phones
        .iter()
        .map(|p| (p.raw.as_str(), p.label.as_str()))
        .collect();
    assert_eq!(
        phones,
        [
            ("+380 67 123 4567", "mobile"),
            ("+380 50 111 2233", "mobile"),
            ("044 123 4567", "home")
        ]
    );
    assert_eq!(o.emails, ["olena@example.com"]);
    assert_eq!(o.note.as_deref(), Some("Алергія, любить пастель"));
    assert_eq!(p.contacts[1].birthday, md(4, 15));
    assert_eq!(p.contacts[1].organization.as_deref(), Some("Salon"));
    assert!(
        p.columns
            .contains(&("Phone 1 - Value".into(), Some("phone".into())))
    );
    assert!(p.columns.contains(&("Photo".into(), None)));
}

#[test]
fn outlook_csv() {
    let p = csv::parse(&fixture("outlook.csv")).unwrap();
    let j = &p.contacts[0];
    assert_eq!(j.name().as_deref(), Some("John Smith"));
    assert_eq!(j.birthday, Some("1990-04-15".parse().unwrap()));
    let phones: Vec<(&str, &str)> = j
        .phones
        .iter()
        .map(|p| (p.raw.as_str(), p.label.as_str()))
        .collect();
    assert_eq!(
        phones,
        [("(415) 555-2671", "mobile"), ("+1 415 555 0100", "work")]
    );
    assert_eq!(p.contacts[1].birthday, None, "0/0/00 means no birthday");
    assert!(p.problems.is_empty(), "{:?}", p.problems);
}

#[test]
fn excel_windows_1251_semicolon_csv() {
    let p = csv::parse(&fixture("excel-1251.csv")).unwrap();
    assert_eq!((p.delimiter, p.encoding), (';', "windows-1251"));
    assert_eq!(p.contacts[0].name().as_deref(), Some("Світлана Ткаченко"));
    assert_eq!(p.contacts[0].birthday, Some("1990-04-15".parse().unwrap()));
    assert_eq!(p.contacts[1].note.as_deref(), Some("Нарощування; 2D"));
    // 31 February is not a date: reported for its row, the row still read without it.
    assert_eq!(p.contacts[2].birthday, None);
    assert_eq!(p.problems.len(), 1);
    assert_eq!(p.problems[0].line, 4);
}

#[test]
fn polish_csv_with_bom() {
    let p = csv::parse(&fixture("polish.csv")).unwrap();
    assert_eq!(p.encoding, "UTF-8");
    assert_eq!(
        p.contacts[0].name().as_deref(),
        Some("Małgorzata Wiśniewska")
    );
    assert_eq!(p.contacts[0].birthday, Some("1988-02-29".parse().unwrap()));
    assert_eq!(p.contacts[1].phones[0].raw, "601-234-567");
}

#[test]
fn a_csv_without_name_or_phone_columns_is_a_clear_error() {
    match csv::parse(&fixture("no-columns.csv")) {
        Err(ImportError::NoNameOrPhoneColumn { found }) => assert!(found.contains("Колір")),
        other => panic!("{other:?}"),
    }
    assert_eq!(csv::parse(b""), Err(ImportError::Empty));
    assert!(matches!(
        csv::parse(b"name,phone\x00\x01"),
        Err(ImportError::NotCsv { .. })
    ));
}

/// The same files read by Python's vobject: same names, numbers and emails per card.
#[test]
fn vcards_read_the_same_as_with_vobject() {
    let has_vobject = std::process::Command::new("python3")
        .args(["-c", "import vobject"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_vobject {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install vobject (pip install vobject)"
        );
        eprintln!("vobject is not installed: cross-check skipped (CI runs it)");
        return;
    }
    for name in ["android-2.1.vcf", "ios-3.0.vcf", "v4.vcf"] {
        let out = std::process::Command::new("python3")
            .arg(fixture_path("vobject_dump.py"))
            .arg(fixture_path(name))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ours = vcard::parse(&fixture(name)).unwrap();
        let theirs = theirs.as_array().unwrap();
        assert_eq!(theirs.len(), ours.contacts.len(), "{name}");
        for (t, o) in theirs.iter().zip(&ours.contacts) {
            assert_eq!(t["fn"].as_str(), o.display_name.as_deref(), "{name}");
            let tels: Vec<&str> = t["tel"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let our_tels: Vec<&str> = o.phones.iter().map(|p| p.raw.as_str()).collect();
            assert_eq!(tels, our_tels, "{name}");
            let emails: Vec<&str> = t["email"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(emails, o.emails, "{name}");
        }
    }
}

#[test]
fn preview_sorts_rows_and_import_is_all_or_nothing_and_idempotent() {
    let (_d, mut s) = book();
    let existing = s
        .create_client(client("Anna Nowak", &["+48 601 234 567"]))
        .unwrap();
    s.create_client(client("Ігор Ґудзь", &["0991234567"]))
        .unwrap();
    let contacts = vcard::parse(&fixture("android-2.1.vcf")).unwrap().contacts;

    let p = s.preview_import(&contacts).unwrap();
    let status: Vec<ImportStatus> = p.items.iter().map(|i| i.status).collect();
    assert_eq!(
        status,
        [
            ImportStatus::New,
            ImportStatus::Duplicate,
            ImportStatus::Duplicate,
            ImportStatus::MergeCandidate,
            ImportStatus::Invalid
        ]
    );
    // WhatsApp's row for Olena collapses into her phone-book row.
    assert_eq!(p.items[1].duplicate_of.as_deref(), Some("row:0"));
    assert_eq!(p.items[0].phones[0].e164.as_deref(), Some("+380671234567"));
    assert_eq!(p.items[2].duplicate_of, Some(existing.id.to_string()));
    assert!(p.items[3].reason.contains("name"));
    assert!(p.items[4].reason.contains("no name and no number"));
    assert_eq!(
        (p.new, p.duplicate, p.merge_candidate, p.invalid),
        (1, 2, 1, 1)
    );

    let before = s.client_count().unwrap();
    let mut calls = 0;
    let out = s
        .import_contacts(
            &contacts,
            None,
            ClientSource::Phonebook,
            None,
            &mut |_, _| calls += 1,
        )
        .unwrap();
    assert_eq!(out.created.len(), 1);
    assert_eq!(calls, 1);
    let olena = s.get_client(out.created[0]).unwrap();
    assert_eq!(olena.source, ClientSource::Phonebook);
    assert_eq!(olena.email.as_deref(), Some("olena@example.com"));
    assert!(
        olena
            .comment
            .as_deref()
            .unwrap()
            .contains("o.kovalenko@salon.ua"),
        "a second email is kept"
    );
    assert!(
        olena.consent.values().all(|g| !g),
        "imported clients get no consent by default"
    );
    assert_eq!(s.client_count().unwrap(), before + 1);

    // The rows written without reading their documents back are what the documents say.
    let projected = s.projection_snapshot().unwrap();
    s.rebuild_projection().unwrap();
    assert_eq!(projected, s.projection_snapshot().unwrap());

    // The same file again adds nothing.
    let again = s
        .import_contacts(
            &contacts,
            None,
            ClientSource::Phonebook,
            None,
            &mut |_, _| {},
        )
        .unwrap();
    assert!(again.created.is_empty());
    assert_eq!(s.client_count().unwrap(), before + 1);

    // Picking the merge candidate imports it as a new client; a picked duplicate is skipped.
    let picked = s
        .import_contacts(
            &contacts,
            Some(&[2, 3]),
            ClientSource::Vcard,
            None,
            &mut |_, _| {},
        )
        .unwrap();
    assert_eq!((picked.created.len(), picked.skipped), (1, 1));
    // A bad pick changes nothing.
    assert!(
        s.import_contacts(
            &contacts,
            Some(&[99]),
            ClientSource::Vcard,
            None,
            &mut |_, _| {}
        )
        .is_err()
    );
    assert_eq!(s.client_count().unwrap(), before + 2);
}

#[test]
fn consent_for_a_batch_is_recorded_with_its_evidence() {
    let (_d, mut s) = book();
    let contacts = csv::parse(&fixture("polish.csv")).unwrap().contacts;
    let consent = BatchConsent {
        channels: vec![Channel::Sms, Channel::Whatsapp],
        source: ConsentSource::Written,
        note: "signed forms, folder 2026".into(),
    };
    let out = s
        .import_contacts(
            &contacts,
            None,
            ClientSource::Csv,
            Some(&consent),
            &mut |_, _| {},
        )
        .unwrap();
    assert_eq!(out.created.len(), 2);
    for id in out.created {
        let c = s.consent(id).unwrap();
        assert!(
            c.granted(Channel::Sms) && c.granted(Channel::Whatsapp) && !c.granted(Channel::Email)
        );
        assert!(
            c.evidence.iter().all(
                |e| e.note == "signed forms, folder 2026" && e.source == ConsentSource::Written
            )
        );
    }
    let empty = BatchConsent {
        channels: vec![],
        source: ConsentSource::Written,
        note: "x".into(),
    };
    assert!(
        s.import_contacts(
            &contacts,
            None,
            ClientSource::Csv,
            Some(&empty),
            &mut |_, _| {}
        )
        .is_err()
    );
}
