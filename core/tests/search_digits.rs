//! Search by any digits of a number (issue 18): a master who remembers only the end of a number,
//! or the subscriber part without the operator code, finds the client; the index of those digits
//! follows every edit, sync and erasure.

mod common;

use common::{book, client, second_device, sync_into};
use kartka_core::model::ClientPatch;
use kartka_core::store::Page;

fn names(clients: &[kartka_core::model::Client]) -> Vec<&str> {
    clients.iter().map(|c| c.name.as_str()).collect()
}

fn found(s: &kartka_core::Store, q: &str) -> Vec<String> {
    names(&s.search(q, Page::default()).unwrap())
        .into_iter()
        .map(str::to_string)
        .collect()
}

#[test]
fn the_end_the_subscriber_part_and_the_middle_of_a_number_find_its_client() {
    let (_d, mut s) = book();
    s.create_client(client("Олена", &["067 555 12 34"]))
        .unwrap();
    s.create_client(client("Ірина", &["+380 50 987 65 43"]))
        .unwrap();
    for q in [
        "1234",
        "12 34",
        "555 12",
        "5551234",
        "555-12-34",
        "(555) 12",
        "67 555",
        // Today's forms, by prefix, still find her.
        "067 555",
        "0675551234",
        "+38067555",
        "38067555",
        "0038067555",
        "+380 67 555 12 34",
    ] {
        assert_eq!(found(&s, q), ["Олена"], "{q}");
    }
    assert_eq!(found(&s, "6543"), ["Ірина"]);
    // Digits in no number, and digits that run across two numbers, find nobody.
    assert!(found(&s, "1239").is_empty());
    assert!(found(&s, "34098").is_empty());
}

#[test]
fn two_digits_or_a_plus_ask_for_the_start_of_a_number_only() {
    let (_d, mut s) = book();
    s.create_client(client("Олена", &["067 555 12 34"]))
        .unwrap();
    // Two digits are too few to look inside numbers (and a name search finds no one).
    assert!(found(&s, "34").is_empty());
    assert!(found(&s, "12 ").is_empty());
    // `+` says the master typed the start of an international number.
    assert!(found(&s, "+5551234").is_empty());
    assert!(found(&s, "+1234").is_empty());
    assert_eq!(found(&s, "+380675"), ["Олена"]);
    // `00` may be the end of a number as well as the international prefix.
    s.create_client(client("Марта", &["067 444 00 12"]))
        .unwrap();
    assert_eq!(found(&s, "00 12"), ["Марта"]);
    assert_eq!(found(&s, "00380674"), ["Марта"]);
}

#[test]
fn numbers_of_other_countries_are_found_by_their_inner_digits_too() {
    let (_d, mut s) = book();
    s.create_client(client("Anna", &["+48 601 234 567"]))
        .unwrap();
    s.create_client(client("Пётр", &["+7 (812) 987-65-43"]))
        .unwrap();
    s.create_client(client("Алесь", &["+375 29 111-22-33"]))
        .unwrap();
    assert_eq!(found(&s, "234 567"), ["Anna"]);
    assert_eq!(found(&s, "4567"), ["Anna"]);
    assert_eq!(found(&s, "601 234"), ["Anna"]);
    assert_eq!(found(&s, "987-65"), ["Пётр"]);
    // Russia dials a trunk 8 before the area code: the national form is a key of its own.
    assert_eq!(found(&s, "8 812 987"), ["Пётр"]);
    assert_eq!(found(&s, "12 98"), ["Пётр"]);
    assert_eq!(found(&s, "29 111"), ["Алесь"]);
    assert_eq!(found(&s, "2233"), ["Алесь"]);
}

#[test]
fn the_exact_number_comes_first_then_numbers_starting_with_it_then_the_rest_each_by_name() {
    let (_d, mut s) = book();
    // Not valid anywhere, so kept as typed: their keys are their digits.
    s.create_client(client("Віра", &["12 34 56"])).unwrap();
    s.create_client(client("Анна", &["12-34-56"])).unwrap();
    s.create_client(client("Жанна", &["1234 5601"])).unwrap();
    s.create_client(client("Бела", &["123 456 99"])).unwrap();
    // Valid Ukrainian numbers holding 123456 after their operator code.
    s.create_client(client("Ярина", &["067 123 45 67"]))
        .unwrap();
    s.create_client(client("Дарина", &["050 123 45 60"]))
        .unwrap();
    s.create_client(client("Галина", &["050 999 88 77"]))
        .unwrap();
    assert_eq!(
        found(&s, "123456"),
        ["Анна", "Віра", "Бела", "Жанна", "Дарина", "Ярина"]
    );
    // Pages run across the tiers.
    let page = s
        .search(
            "123 456",
            Page {
                offset: 2,
                limit: 3,
            },
        )
        .unwrap();
    assert_eq!(names(&page), ["Бела", "Жанна", "Дарина"]);
    // A client found in two tiers (two numbers) is listed once, in the first.
    s.create_client(client("Ася", &["12 34 56 7", "093 123 45 61"]))
        .unwrap();
    assert_eq!(
        found(&s, "123456"),
        ["Анна", "Віра", "Ася", "Бела", "Жанна", "Дарина", "Ярина"]
    );
}

#[test]
fn edits_deletions_and_syncs_keep_the_digits_in_step() {
    let (_d, mut s) = book();
    let olena = s
        .create_client(client("Олена", &["067 555 12 34"]))
        .unwrap();
    s.update_client(
        olena.id,
        ClientPatch {
            phones: Some(vec![("050 777 88 99".into(), "mobile".into())]),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(found(&s, "1234").is_empty());
    assert_eq!(found(&s, "88 99"), ["Олена"]);

    let (_d2, mut b) = second_device(&s);
    sync_into(&s, &mut b);
    assert_eq!(found(&b, "7788"), ["Олена"]);

    s.delete_client(olena.id).unwrap();
    assert!(found(&s, "7788").is_empty());
    assert!(found(&s, "050 777").is_empty());
    sync_into(&s, &mut b);
    assert!(found(&b, "7788").is_empty());
    s.restore_client(olena.id).unwrap();
    assert_eq!(found(&s, "7788"), ["Олена"]);

    // The index is derived like every projection table: rebuilt, it is what edits made it.
    let stored = s.projection_snapshot().unwrap();
    s.rebuild_projection().unwrap();
    assert_eq!(stored, s.projection_snapshot().unwrap());
    assert_eq!(found(&s, "7788"), ["Олена"]);
}

#[test]
fn a_forgotten_client_leaves_no_digits_of_the_number_in_the_files() {
    let (dir, mut s) = book();
    s.create_client(client("Звичайна Клієнтка", &["+380671112233"]))
        .unwrap();
    let gone = s
        .create_client(client("Забута Людина", &["+380939876543"]))
        .unwrap();
    // Runs of the number's digits, as the index of inner digits holds them (the document and
    // the keys hold them too, inside longer runs).
    let inner = ["39876543", "9876543", "876543"];
    let files = || common::files(dir.path());
    assert!(common::holds(&files(), inner[0]));
    s.forget_client(gone.id).unwrap();
    let after = files();
    for d in inner.iter().chain(&["939876543"]) {
        assert!(
            !common::holds(&after, d),
            "{d} is still in the book's files"
        );
    }
    assert!(found(&s, "6543").is_empty());
    assert_eq!(found(&s, "2233"), ["Звичайна Клієнтка"]);
}
