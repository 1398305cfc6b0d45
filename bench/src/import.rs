//! Import figures: a phone book of 5,000 contacts previewed against, and imported into, the
//! 50,000-client book; a 20,000-row CSV parsed and previewed. Each beside the floor of the same
//! work done on plain rows (the phone book inserted as plain rows; the CSV only parsed).

use std::path::Path;
use std::time::Instant;

use kartka_core::Store;
use kartka_core::import::{Contact, ContactPhone};
use kartka_core::model::ClientSource;
use serde::Serialize;

use crate::data::Generator;

#[derive(Serialize, Default)]
pub struct ImportReport {
    pub preview_5000_ms: f64,
    pub import_5000_ms: f64,
    pub import_5000_floor_ms: f64,
    pub csv_20000_parse_ms: f64,
    pub csv_20000_preview_ms: f64,
    pub csv_bytes: usize,
    pub book_clients: usize,
    pub duplicates_found: usize,
    pub imported: usize,
}

/// A phone book as the apps pass it: mostly new people, one in ten already a client (same
/// number), and messaging-app rows repeating a person.
fn phone_book(g: &mut Generator, existing: &[(String, String)], n: usize) -> Vec<Contact> {
    (0..n)
        .map(|i| {
            if i % 10 == 0 && !existing.is_empty() {
                let (name, number) = &existing[i % existing.len()];
                return Contact {
                    display_name: Some(name.clone()),
                    phones: vec![ContactPhone {
                        raw: number.clone(),
                        label: "mobile".into(),
                    }],
                    ..Default::default()
                };
            }
            let (given, family) = g.name();
            let (typed, _) = g.phone();
            // The generator's names repeat across 50,000 clients; a nickname keeps these rows
            // new people rather than merge candidates, so the import writes 4,500 clients.
            Contact {
                display_name: Some(format!("{given} {family} «{i}»")),
                given_name: Some(given),
                family_name: Some(family),
                phones: vec![ContactPhone {
                    raw: typed,
                    label: "mobile".into(),
                }],
                emails: if i % 3 == 0 {
                    vec![format!("pb{i}@example.com")]
                } else {
                    Vec::new()
                },
                account: (i % 17 == 0).then(|| "com.whatsapp".to_string()),
                ..Default::default()
            }
        })
        .collect()
}

fn csv_file(g: &mut Generator, rows: usize) -> Vec<u8> {
    let mut s = String::from("Ім'я;Прізвище;Телефон;Email;День народження;Примітка\r\n");
    for i in 0..rows {
        let (given, family) = g.name();
        let (typed, _) = g.phone();
        s += &format!(
            "{given};{family};{typed};c{i}@example.com;15.04.1990;клієнтка з Instagram\r\n"
        );
    }
    s.into_bytes()
}

pub fn run(book: &Path, dir: &Path) -> ImportReport {
    let scratch = dir.join("scratch-import.db");
    std::fs::copy(book, &scratch).unwrap();
    let mut store = Store::open(&scratch).unwrap();
    let mut r = ImportReport {
        book_clients: store.client_count().unwrap() as usize,
        ..Default::default()
    };
    let existing: Vec<(String, String)> = store
        .list_clients(
            &Default::default(),
            kartka_core::store::Page {
                offset: 0,
                limit: 500,
            },
        )
        .unwrap()
        .into_iter()
        .filter_map(|c| Some((c.name.clone(), c.phones.first()?.e164.clone()?)))
        .collect();
    let mut g = Generator::new(4242);
    let contacts = phone_book(&mut g, &existing, 5000);

    let t = Instant::now();
    let preview = store.preview_import(&contacts).unwrap();
    r.preview_5000_ms = t.elapsed().as_secs_f64() * 1e3;
    r.duplicates_found = preview.duplicate;

    let t = Instant::now();
    let out = store
        .import_contacts(
            &contacts,
            None,
            ClientSource::Phonebook,
            None,
            &mut |_, _| {},
        )
        .unwrap();
    r.import_5000_ms = t.elapsed().as_secs_f64() * 1e3;
    r.imported = out.created.len();

    let floor_path = dir.join("scratch-import-floor.db");
    let _ = std::fs::remove_file(&floor_path);
    let fl = crate::floor::open(&floor_path);
    let t = Instant::now();
    let tx = fl.unchecked_transaction().unwrap();
    for c in &contacts {
        let nc = kartka_core::model::NewClient {
            name: c.name().unwrap_or_default(),
            ..Default::default()
        };
        crate::floor::insert_client(&tx, uuid::Uuid::now_v7(), &nc, &c.phones[0].raw, 0);
    }
    tx.commit().unwrap();
    r.import_5000_floor_ms = t.elapsed().as_secs_f64() * 1e3;

    let csv = csv_file(&mut g, 20_000);
    r.csv_bytes = csv.len();
    let t = Instant::now();
    let parsed = kartka_core::import::csv::parse(&csv).unwrap();
    r.csv_20000_parse_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(parsed.contacts.len(), 20_000);
    let t = Instant::now();
    store.preview_import(&parsed.contacts).unwrap();
    r.csv_20000_preview_ms = t.elapsed().as_secs_f64() * 1e3 + r.csv_20000_parse_ms;

    drop(store);
    drop(fl);
    crate::remove_db(&scratch);
    crate::remove_db(&floor_path);
    r
}
