//! The real `kartka` binary on a real book file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

struct Book {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Book {
    fn new() -> Book {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.db");
        let b = Book { _dir: dir, path };
        b.ok(&[
            "init",
            "--name",
            "Студія Олени",
            "--region",
            "UA",
            "--zone",
            "Europe/Kyiv",
            "--currency",
            "UAH",
        ]);
        b
    }

    fn run(&self, args: &[&str]) -> Output {
        run_at(&self.path, args)
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    /// Runs a command that must fail with bad input: exit 2, one `error:` line, and the book's
    /// clients unchanged.
    fn bad(&self, args: &[&str]) -> String {
        let before = self.json(&["client", "list", "--deleted"]);
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8(out.stderr).unwrap();
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 1, "{err}");
        assert_eq!(
            self.json(&["client", "list", "--deleted"]),
            before,
            "{args:?} changed the book"
        );
        errors[0].to_string()
    }

    /// A new book that created its business on the server at `url`.
    fn paired(url: &str) -> Book {
        let b = Book::new();
        b.ok(&[
            "pair",
            "--server",
            url,
            "--create-business",
            "--device-name",
            "A",
        ]);
        b
    }

    fn add(&self, args: &[&str]) -> String {
        let mut a = vec!["client", "add"];
        a.extend(args);
        self.ok(&a).trim().to_string()
    }
}

fn run_at(path: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kartka"))
        .arg("--db")
        .arg(path)
        .args(args)
        .output()
        .unwrap()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn search_finds_a_client_by_the_end_or_the_middle_of_the_number() {
    let b = Book::new();
    b.add(&["--name", "Олена Коваленко", "--phone", "067 555 12 34"]);
    b.add(&["--name", "Ірина Бойко", "--phone", "050 987 65 55"]);
    for q in ["1234", "12 34", "555 12", "5551234"] {
        assert_eq!(names(&b.json(&["search", q])), ["Олена Коваленко"], "{q}");
    }
    // Both numbers hold 555 inside.
    assert_eq!(names(&b.json(&["search", "555"])).len(), 2);
    // Two digits, or a `+`, look only at the start of numbers.
    assert!(names(&b.json(&["search", "+5551234"])).is_empty());
    assert!(names(&b.json(&["search", "34"])).is_empty());
}

#[test]
fn clients_are_added_shown_and_found_as_people_type() {
    let b = Book::new();
    let olena = b.add(&[
        "--name",
        "Олена Коваленко",
        "--phone",
        "067 123 45 67",
        "--email",
        "olena@example.com",
        "--birthday",
        "--04-15",
        "--class",
        "vip",
        "--tag",
        "брови",
    ]);
    b.add(&[
        "--name",
        "Łucja Żółkiewska",
        "--phone",
        "+48 601 234 567",
        "--birthday=1990-04-15",
    ]);
    b.add(&["--name", "Anna Nowak", "--email", "anna.nowak@example.pl"]);

    let c = b.json(&["client", "show", &olena]);
    for key in [
        "id", "name", "phones", "email", "birthday", "comment", "class", "tags", "consent", "stats",
    ] {
        assert!(c.get(key).is_some(), "missing {key} in {c}");
    }
    assert_eq!(c["phones"][0]["e164"], "+380671234567");
    assert_eq!(c["phones"][0]["raw"], "067 123 45 67");
    assert_eq!(c["phones"][0]["label"], "mobile");
    assert_eq!(c["birthday"], "--04-15");
    assert_eq!(c["class"], "vip");
    assert_eq!(c["consent"]["sms"], false);
    assert_eq!(c["stats"]["visits"], 0);

    assert_eq!(names(&b.json(&["search", "олен"])), ["Олена Коваленко"]);
    assert_eq!(names(&b.json(&["search", "łucja"])), ["Łucja Żółkiewska"]);
    assert_eq!(names(&b.json(&["search", "LUCJA"])), ["Łucja Żółkiewska"]);
    assert_eq!(names(&b.json(&["search", "zolk"])), ["Łucja Żółkiewska"]);
    assert_eq!(names(&b.json(&["search", "067 123"])), ["Олена Коваленко"]);
    assert_eq!(
        names(&b.json(&["search", "+38067123"])),
        ["Олена Коваленко"]
    );
    assert_eq!(
        names(&b.json(&["search", "0671234567"])),
        ["Олена Коваленко"]
    );
    assert_eq!(names(&b.json(&["search", "anna.nowak@"])), ["Anna Nowak"]);
    // Human output names the client too.
    assert!(b.ok(&["search", "олен"]).contains("Олена Коваленко"));
    assert_eq!(
        names(&b.json(&["client", "list", "--class", "vip"])),
        ["Олена Коваленко"]
    );
    assert_eq!(
        names(&b.json(&["client", "list", "--tag", "брови"])),
        ["Олена Коваленко"]
    );
    // A unique prefix of the id is enough.
    assert_eq!(
        b.json(&["client", "show", &olena[..13]])["id"],
        olena.as_str()
    );
}

#[test]
fn an_unparsable_number_is_kept_and_flagged() {
    let b = Book::new();
    let out = b.run(&[
        "client",
        "add",
        "--name",
        "Ігор",
        "--phone",
        "дзвонити після 18",
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: kept \"дзвонити після 18\""));
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let c = b.json(&["client", "show", &id]);
    assert_eq!(c["phones"][0]["e164"], Value::Null);
    assert_eq!(c["phones"][0]["raw"], "дзвонити після 18");
}

#[test]
fn edits_and_tombstones() {
    let b = Book::new();
    let id = b.add(&[
        "--name",
        "Anna",
        "--email",
        "anna@example.com",
        "--tag",
        "a",
    ]);
    let c = b.json(&[
        "client",
        "edit",
        &id,
        "--name",
        "Anna Kowalska",
        "--clear-email",
        "--add-tag",
        "b",
        "--remove-tag",
        "a",
        "--phone",
        "0501112233",
    ]);
    assert_eq!(c["name"], "Anna Kowalska");
    assert_eq!(c["email"], Value::Null);
    assert_eq!(c["tags"], serde_json::json!(["b"]));
    assert_eq!(c["phones"][0]["e164"], "+380501112233");

    b.ok(&["client", "delete", &id]);
    assert!(names(&b.json(&["search", "anna"])).is_empty());
    assert!(names(&b.json(&["client", "list"])).is_empty());
    assert_eq!(b.json(&["client", "show", &id])["deleted"], true);
    assert_eq!(
        names(&b.json(&["client", "list", "--deleted"])),
        ["Anna Kowalska"]
    );
    b.ok(&["client", "restore", &id]);
    assert_eq!(names(&b.json(&["search", "anna"])), ["Anna Kowalska"]);

    // Forgetting asks for confirmation, then leaves nothing to restore.
    let refused = b.run(&["client", "forget", &id]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    assert_eq!(names(&b.json(&["search", "anna"])), ["Anna Kowalska"]);
    b.ok(&["client", "forget", &id, "--yes"]);
    assert!(names(&b.json(&["client", "list", "--deleted"])).is_empty());
    assert!(!b.run(&["client", "restore", &id]).status.success());
}

#[test]
fn consent_is_recorded_with_evidence() {
    let b = Book::new();
    let id = b.add(&["--name", "Anna", "--phone", "0671234567"]);
    let c = b.json(&[
        "consent",
        "set",
        &id,
        "--channel",
        "whatsapp",
        "--granted",
        "--source",
        "written",
        "--note",
        "анкета",
    ]);
    assert_eq!(c["channels"]["whatsapp"], true);
    assert_eq!(c["channels"]["sms"], false);
    assert_eq!(c["evidence"][0]["source"], "written");
    assert_eq!(c["evidence"][0]["note"], "анкета");
    assert_eq!(c["evidence"][0]["subject"], "whatsapp");
    let c = b.json(&[
        "consent",
        "set",
        &id,
        "--notification",
        "review_request",
        "--withdrawn",
    ]);
    assert_eq!(c["notifications"]["review_request"], false);
    let c = b.json(&[
        "consent",
        "set",
        &id,
        "--channel",
        "whatsapp",
        "--withdrawn",
        "--source",
        "client_reply",
    ]);
    assert_eq!(c["channels"]["whatsapp"], false);
    assert_eq!(c["evidence"].as_array().unwrap().len(), 3);
    assert_eq!(
        b.json(&["client", "show", &id])["consent"]["whatsapp"],
        false
    );
}

#[test]
fn a_mailing_preview_counts_who_gets_it_and_who_is_left_out() {
    let b = Book::new();
    let both = b.add(&["--name", "Anna", "--phone", "0671234567"]);
    let sms_only = b.add(&["--name", "Olha", "--phone", "0671234568"]);
    b.add(&["--name", "Iryna", "--phone", "0671234569"]);
    for (id, ch) in [(&both, "marketing"), (&both, "sms"), (&sms_only, "sms")] {
        b.ok(&[
            "consent",
            "set",
            id,
            "--channel",
            ch,
            "--granted",
            "--source",
            "booking_form",
        ]);
    }
    let p = b.json(&[
        "mailing",
        "preview",
        "--channel",
        "sms",
        "--text",
        "Знижка 20% у березні",
    ]);
    assert_eq!(p["matched"], 3);
    assert_eq!(p["recipients"], serde_json::json!([both]));
    assert_eq!(p["no_marketing_consent"], 2);
    assert_eq!(p["sms_segments_total"], 1);
    let human = b.ok(&["mailing", "preview", "--channel", "sms", "--text", "x"]);
    assert!(human.starts_with("1 of 3 clients would get it"), "{human}");
    assert!(
        b.bad(&[
            "mailing",
            "preview",
            "--channel",
            "marketing",
            "--text",
            "x"
        ])
        .contains("marketing")
    );
}

#[test]
fn visits_drive_the_figures_and_follow_the_zone() {
    let b = Book::new();
    let id = b.add(&["--name", "Олена", "--discount", "10"]);
    let v = b.json(&[
        "visit",
        "add",
        &id,
        "--at",
        "2026-12-01T10:00",
        "--duration",
        "90",
        "--service",
        "Манікюр:800",
        "--service",
        "Дизайн: квіти:50x2",
        "--paid",
        "500",
    ]);
    // Wall-clock 10:00 in Kyiv (UTC+2 in December).
    assert_eq!(v["start"], "2026-12-01T08:00:00Z");
    assert_eq!(v["zone"], "Europe/Kyiv");
    assert_eq!(v["services"][1]["name"], "Дизайн: квіти");
    assert_eq!(v["services"][1]["price"], 5000);
    assert_eq!(v["services"][1]["quantity"], 2);
    // 900 less the client's 10%, in minor units.
    assert_eq!(v["total"], 81000);
    assert_eq!(v["paid"], 50000);
    let vid = v["id"].as_str().unwrap().to_string();

    b.ok(&["visit", "status", &vid, "completed"]);
    let c = b.json(&["client", "show", &id]);
    assert_eq!(c["stats"]["visits"], 1);
    assert_eq!(c["stats"]["sold"], 81000);
    assert_eq!(c["stats"]["paid"], 50000);
    assert_eq!(c["stats"]["balance"], 31000);

    let moved = b.json(&["visit", "reschedule", &vid, "--at", "2026-07-01T10:00"]);
    // Summer: UTC+3.
    assert_eq!(moved["start"], "2026-07-01T07:00:00Z");
    assert_eq!(
        b.json(&[
            "visit",
            "list",
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-01"
        ])
        .as_array()
        .unwrap()
        .len(),
        1
    );
    assert!(
        b.json(&[
            "visit",
            "list",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31"
        ])
        .as_array()
        .unwrap()
        .is_empty()
    );
    assert_eq!(
        b.json(&["visit", "list", "--client", &id])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let edited = b.json(&["visit", "edit", &vid, "--paid", "810", "--reminder", "off"]);
    assert_eq!(edited["paid"], 81000);
    assert_eq!(edited["reminder"], "off");
}

#[test]
fn bad_input_is_one_line_exit_2_and_changes_nothing() {
    let b = Book::new();
    let id = b.add(&["--name", "Anna"]);
    assert!(
        b.bad(&["client", "add", "--name", "X", "--birthday", "1990-13-01"])
            .contains("birthday")
    );
    assert!(
        b.bad(&["client", "add", "--name", "X", "--email", "not-an-email"])
            .contains("email")
    );
    assert!(b.bad(&["client", "add", "--name", "  "]).contains("name"));
    assert!(
        b.bad(&["consent", "set", &id, "--channel", "pigeon", "--granted"])
            .contains("expected one of")
    );
    assert!(
        b.bad(&["client", "show", "01234567-89ab-7def-8123-456789abcdef"])
            .contains("not found")
    );
    assert!(b.bad(&["client", "show", "nope"]).contains("client id"));
    // 03:30 on 29 March 2026 does not exist in Kyiv.
    assert!(
        b.bad(&[
            "visit",
            "add",
            &id,
            "--at",
            "2026-03-29T03:30",
            "--service",
            "x:1"
        ])
        .contains("does not exist")
    );
    assert!(
        b.bad(&[
            "visit",
            "add",
            &id,
            "--at",
            "2026-04-01T10:00",
            "--service",
            "Манікюр"
        ])
        .contains("NAME:PRICE")
    );
    assert!(
        b.bad(&[
            "visit",
            "add",
            &id,
            "--at",
            "2026-04-01T10:00",
            "--service",
            "x:8.001"
        ])
        .contains("decimal")
    );
    assert!(
        b.bad(&[
            "init",
            "--name",
            "Again",
            "--region",
            "UA",
            "--zone",
            "Europe/Kyiv",
            "--currency",
            "UAH"
        ])
        .contains("already")
    );
    assert!(b.json(&["visit", "list"]).as_array().unwrap().is_empty());
}

#[test]
fn a_book_without_a_business_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_at(
        &dir.path().join("book.db"),
        &["client", "add", "--name", "Anna"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("init"));
    let out = run_at(
        &dir.path().join("b2.db"),
        &[
            "init",
            "--name",
            "X",
            "--region",
            "Narnia",
            "--zone",
            "Europe/Kyiv",
            "--currency",
            "UAH",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("region"));
}

#[test]
fn business_settings_and_staff() {
    let b = Book::new();
    let s = b.json(&["business", "hours", "sat", "10:00-14:00"]);
    assert_eq!(s["working_hours"]["sat"], "10:00-14:00");
    assert_eq!(s["working_hours"]["sun"], "closed");
    b.bad(&["business", "hours", "sat", "14:00-10:00"]);
    let s = b.json(&[
        "business",
        "set",
        "--phone",
        "+380441234567",
        "--locale",
        "uk",
    ]);
    assert_eq!(s["phone"], "+380441234567");
    assert_eq!(s["locale"], "uk");
    let staff = b.ok(&["staff", "add", "Марта"]).trim().to_string();
    let who = b.json(&["whoami", "--staff", &staff]);
    assert_eq!(who["staff"], staff.as_str());
    let id = b.add(&["--name", "Anna"]);
    let c = b.json(&["consent", "set", &id, "--channel", "sms", "--granted"]);
    assert_eq!(c["evidence"][0]["staff_id"], staff.as_str());
    assert_eq!(c["evidence"][0]["device_id"], who["device"]);
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/import")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn messages_from_the_card_need_consent_and_land_in_the_history() {
    let b = Book::new();
    let id = b.add(&["--name", "Олена Коваленко", "--phone", "067 123 45 67"]);
    assert!(
        b.bad(&["message", &id, "--channel", "whatsapp", "--text", "Привіт"])
            .contains("no consent")
    );
    assert_eq!(b.ok(&["call", &id]).trim(), "tel:+380671234567");
    let office = b.add(&["--name", "Бухгалтерія", "--phone", "044 235 12 34 вн. 5"]);
    assert_eq!(b.ok(&["call", &office]).trim(), "tel:+380442351234;ext=5");
    assert!(
        b.ok(&["client", "show", &office])
            .contains("+380442351234 ext. 5")
    );
    b.ok(&[
        "consent",
        "set",
        &id,
        "--channel",
        "whatsapp",
        "--granted",
        "--source",
        "written",
    ]);
    b.ok(&[
        "consent",
        "set",
        &id,
        "--channel",
        "sms",
        "--granted",
        "--source",
        "written",
    ]);
    let m = b.json(&[
        "message",
        &id,
        "--channel",
        "whatsapp",
        "--text",
        "Чекаю вас о 10:00 & до зустрічі",
    ]);
    assert!(
        m["link"]
            .as_str()
            .unwrap()
            .starts_with("https://wa.me/380671234567?text=%D0%A7")
    );
    let sms = b.json(&[
        "message",
        &id,
        "--channel",
        "sms",
        "--platform",
        "ios",
        "--text",
        "Hello [Anna]",
    ]);
    assert!(
        sms["link"]
            .as_str()
            .unwrap()
            .starts_with("sms:+380671234567&body=Hello%20%5BAnna%5D")
    );
    assert_eq!(sms["sms"]["encoding"], "gsm7");
    assert_eq!(sms["sms"]["units"], 14, "[ and ] take two septets each");
    let human = b.ok(&[
        "message",
        &id,
        "--channel",
        "sms",
        "--text",
        "Привіт",
        "--no-record",
    ]);
    assert!(human.contains("UCS-2, 1 segment"));
    let h = b.json(&["history", &id]);
    assert_eq!(
        h.as_array().unwrap().len(),
        2,
        "--no-record leaves no trace"
    );
    assert_eq!(h[0]["channel"], "whatsapp");
    assert_eq!(h[0]["status"], "handed_to_app");
    assert!(b.ok(&["history", &id]).contains("Чекаю вас"));

    // Templates: an unknown placeholder is refused when saved.
    assert!(
        b.bad(&[
            "templates",
            "add",
            "--name",
            "x",
            "--body",
            "Привіт {client}"
        ])
        .contains("unknown placeholder")
    );
    b.ok(&["business", "set", "--locale", "uk"]);
    b.ok(&[
        "templates",
        "add",
        "--name",
        "нагадування",
        "--body",
        "{client_first_name}, чекаємо {visit_date} о {visit_time}",
    ]);
    let v = b
        .ok(&[
            "visit",
            "add",
            &id,
            "--at",
            "2026-12-01T10:00",
            "--service",
            "Манікюр:800",
        ])
        .trim()
        .to_string();
    let t = b.json(&[
        "message",
        &id,
        "--channel",
        "sms",
        "--template",
        "нагадування",
        "--visit",
        &v,
    ]);
    assert_eq!(t["text"], "Олена, чекаємо 1 грудня 2026 о 10:00");
}

#[test]
fn phone_book_files_are_previewed_then_imported_once() {
    let b = Book::new();
    b.add(&["--name", "Anna Nowak", "--phone", "+48 601 234 567"]);
    let vcf = fixture("android-2.1.vcf");
    let out = b.run(&["import", "vcf", &vcf, "--dry-run", "--json"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: line 38"));
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            p["new"].as_u64(),
            p["duplicate"].as_u64(),
            p["merge_candidate"].as_u64(),
            p["invalid"].as_u64()
        ),
        (Some(2), Some(2), Some(0), Some(1))
    );
    let item = &p["items"][0];
    for key in [
        "name",
        "phones",
        "emails",
        "birthday",
        "status",
        "reason",
        "duplicate_of",
    ] {
        assert!(item.get(key).is_some(), "missing {key} in {item}");
    }
    assert_eq!(item["phones"][0]["e164"], "+380671234567");
    assert_eq!(item["phones"][0]["raw"], "067 123 45 67");
    assert_eq!(item["status"], "new");
    assert_eq!(p["items"][1]["duplicate_of"], "row:0");
    assert!(
        b.json(&["client", "list"]).as_array().unwrap().len() == 1,
        "a dry run changes nothing"
    );

    let done = b.json(&["import", "vcf", &vcf]);
    assert_eq!(done["imported"], 2);
    assert_eq!(names(&b.json(&["search", "ґудзь"])), ["Ігор Ґудзь"]);
    let again = b.json(&["import", "vcf", &vcf]);
    assert_eq!(again["imported"], 0);
    assert_eq!(b.json(&["client", "list"]).as_array().unwrap().len(), 3);

    let csv = fixture("excel-1251.csv");
    let done = b.json(&[
        "import",
        "csv",
        &csv,
        "--consent",
        "sms",
        "--consent-note",
        "анкети 2026",
    ]);
    assert_eq!(done["imported"], 3);
    let s = &b.json(&["search", "світлана"])[0];
    assert_eq!(s["consent"]["sms"], true);
    assert_eq!(s["source"], "csv");
    assert!(
        b.bad(&["import", "csv", &csv, "--consent", "sms"])
            .contains("evidence")
    );
    assert!(
        b.bad(&["import", "vcf", &fixture("not-a-vcard.vcf")])
            .contains("not a vCard")
    );
    assert!(
        b.bad(&["import", "csv", &fixture("no-columns.csv")])
            .contains("Колір")
    );
}

#[test]
fn two_cards_merge_and_the_merge_can_be_undone() {
    let b = Book::new();
    let a = b.add(&["--name", "Олена Коваленко", "--phone", "0671234567"]);
    let c = b.add(&[
        "--name",
        "Олена К.",
        "--phone",
        "0501112233",
        "--tag",
        "нігті",
    ]);
    let p = b.json(&["client", "merge", &a, &c, "--preview"]);
    assert_eq!(p["phones"].as_array().unwrap().len(), 2);
    assert_eq!(
        b.json(&["client", "list"]).as_array().unwrap().len(),
        2,
        "a preview changes nothing"
    );
    let m = b.json(&["client", "merge", &a, &c]);
    assert_eq!(names(&b.json(&["client", "list"])), ["Олена Коваленко"]);
    assert_eq!(names(&b.json(&["search", "050 111"])), ["Олена Коваленко"]);
    b.ok(&["client", "undo-merge", m["undo"].as_str().unwrap()]);
    assert_eq!(b.json(&["client", "list"]).as_array().unwrap().len(), 2);
}

/// A `kartka-server` on loopback, on its own runtime thread, for as long as the value lives.
struct LocalServer {
    url: String,
    outbox: PathBuf,
    _dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

fn local_server() -> LocalServer {
    let dir = tempfile::tempdir().unwrap();
    let (url, outbox, rt) = local_server_in(dir.path(), "127.0.0.1:0");
    LocalServer {
        url,
        outbox,
        _dir: dir,
        _rt: rt,
    }
}

/// A server on `bind` keeping its database in `dir`: started again there, it is the same server
/// at the same address. Stopped when the runtime is dropped.
fn local_server_in(dir: &Path, bind: &str) -> (String, PathBuf, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let outbox = dir.join("outbox.jsonl");
    let config = kartka_server::Config {
        bind: bind.parse().unwrap(),
        database_url: format!("sqlite://{}", dir.join("server.db").display()),
        notify: kartka_server::config::Notify {
            outbox: outbox.clone(),
            ..Default::default()
        },
        // A bot the server never reaches here: enough for it to sign start links.
        gateways: kartka_server::config::Gateways {
            telegram: kartka_server::notify::gateway::GatewayConfig::Telegram(
                kartka_server::notify::gateway::telegram::Config {
                    base_url: "http://127.0.0.1:9".into(),
                    bot_token: "1:x".into(),
                    bot_username: "studio_bot".into(),
                    webhook_secret: "s".into(),
                    rate_per_second: 1,
                },
            ),
            ..Default::default()
        },
        ..Default::default()
    };
    let running = rt.block_on(kartka_server::start(config)).unwrap();
    let url = running.url();
    rt.spawn(running.wait());
    (url, outbox, rt)
}

#[test]
fn pair_invite_sync_and_devices() {
    let server = local_server();
    let a = Book::new();
    let id = a.json(&["client", "add", "--name", "Олена", "--phone", "0671234567"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let paired = a.json(&[
        "pair",
        "--server",
        &server.url,
        "--create-business",
        "--device-name",
        "A",
    ]);
    assert_eq!(paired["pushed"], 2);
    // The server signs the client's Telegram start link (a link of ids alone is refused).
    let link = a.json(&["telegram-link", &id])["link"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(link.starts_with("https://t.me/studio_bot?start="), "{link}");
    assert_eq!(
        link.len(),
        "https://t.me/studio_bot?start=".len() + 63,
        "{link}"
    );
    let code = a.json(&["invite"])["code"].as_str().unwrap().to_string();

    let dir = tempfile::tempdir().unwrap();
    let b_path = dir.path().join("b.db");
    let joined = run_at(
        &b_path,
        &["pair", "--server", &server.url, "--invite", &code, "--json"],
    );
    assert!(
        joined.status.success(),
        "{}",
        String::from_utf8_lossy(&joined.stderr)
    );
    let out = run_at(&b_path, &["client", "show", &id, "--json"]);
    assert!(out.status.success());
    let card: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(card["name"], "Олена");

    // An edit on B reaches A.
    let edited = run_at(
        &b_path,
        &["client", "edit", &id, "--comment", "з телефону B"],
    );
    assert!(
        edited.status.success(),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    let synced: Value =
        serde_json::from_slice(&run_at(&b_path, &["sync", "--json"]).stdout).unwrap();
    assert_eq!(synced["pushed"], 1);
    let synced = a.json(&["sync"]);
    assert_eq!(synced["pulled"], 1);
    assert_eq!(a.json(&["client", "show", &id])["comment"], "з телефону B");

    let devices = a.json(&["devices", "list"]);
    assert_eq!(devices.as_array().unwrap().len(), 2);
    // The code was used; a second join is bad input (exit 2), and the book stays unpaired.
    let dir2 = tempfile::tempdir().unwrap();
    let again = run_at(
        &dir2.path().join("c.db"),
        &["pair", "--server", &server.url, "--invite", &code],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("invite_invalid"));
    let unpaired = run_at(&dir2.path().join("c.db"), &["sync"]);
    assert_eq!(unpaired.status.code(), Some(2));
}

#[test]
fn rules_from_the_cli_are_run_by_the_server_and_the_history_shows_the_outcome() {
    let server = local_server();
    let b = Book::new();
    b.ok(&["business", "set", "--locale", "uk"]);
    let t = b.json(&[
        "templates",
        "add",
        "--name",
        "Запис",
        "--body",
        "{client_first_name}, чекаємо вас {visit_date} о {visit_time}",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A rule is checked when saved: unknown trigger, a channel the server cannot send on.
    assert!(
        b.bad(&[
            "rules",
            "add",
            "--name",
            "x",
            "--trigger",
            "whenever",
            "--channel",
            "sms",
            "--template",
            &t
        ])
        .contains("trigger")
    );
    assert!(
        b.bad(&[
            "rules",
            "add",
            "--name",
            "x",
            "--trigger",
            "visit_created",
            "--channel",
            "viber",
            "--template",
            &t
        ])
        .contains("viber")
    );
    b.ok(&[
        "rules",
        "add",
        "--name",
        "Запис",
        "--trigger",
        "visit_created",
        "--channel",
        "sms",
        "--template",
        "Запис",
        "--any-time",
    ]);
    b.ok(&[
        "rules",
        "add",
        "--name",
        "За добу",
        "--trigger",
        "reminder_before",
        "--offset",
        "24h",
        "--channel",
        "sms",
        "--template",
        "Запис",
    ]);
    let rules = b.json(&["rules", "list"]);
    assert_eq!(rules.as_array().unwrap().len(), 2);
    assert_eq!(rules[1]["offset_min"], 1440);
    b.ok(&["rules", "disable", "За добу"]);
    assert_eq!(b.json(&["rules", "list"])[1]["enabled"], false);

    let yes = b.add(&["--name", "Олена Коваль", "--phone", "0671234567"]);
    let no = b.add(&["--name", "Ірина", "--phone", "0671234568"]);
    b.ok(&[
        "consent",
        "set",
        &yes,
        "--channel",
        "sms",
        "--granted",
        "--source",
        "written",
        "--note",
        "анкета",
    ]);
    b.ok(&[
        "visit",
        "add",
        &yes,
        "--at",
        "2031-12-01T10:00",
        "--service",
        "Манікюр:800",
    ]);
    b.ok(&[
        "visit",
        "add",
        &no,
        "--at",
        "2031-12-01T12:00",
        "--service",
        "Манікюр:800",
    ]);
    b.ok(&["pair", "--server", &server.url, "--create-business"]);
    // The server schedules and sends in the background; the outcome comes back with a sync.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        b.ok(&["sync"]);
        let h = b.json(&["history", &no]);
        if b.json(&["history", &yes]).as_array().unwrap().len() == 1
            && h.as_array().unwrap().len() == 1
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no outcome reached the book"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let h = b.json(&["history", &yes]);
    assert_eq!(h[0]["status"], "sent");
    assert_eq!(h[0]["kind"], "automatic");
    assert_eq!(h[0]["body"], "Олена, чекаємо вас 1 грудня 2031 о 10:00");
    let text = b.ok(&["history", &yes]);
    assert!(text.contains("sent") && text.contains("auto"), "{text}");
    let h = b.json(&["history", &no]);
    assert_eq!(h[0]["status"], "skipped_no_consent");
    assert!(b.ok(&["history", &no]).contains("no consent to sms"));
    // The business-wide log: both outcomes, newest first, filtered by status, kind and rule.
    let rule = b.json(&["rules", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let log = b.json(&["messages"]);
    assert_eq!(log.as_array().unwrap().len(), 2, "{log}");
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|m| m["rule_id"] == rule.as_str())
    );
    let skipped = b.json(&["messages", "--status", "skipped_no_consent"]);
    assert_eq!(skipped.as_array().unwrap().len(), 1);
    assert_eq!(skipped[0]["client_name"], "Ірина");
    assert_eq!(
        b.json(&["messages", "--status", "failed"]),
        serde_json::json!([])
    );
    assert_eq!(
        b.json(&["messages", "--kind", "inbound"]),
        serde_json::json!([])
    );
    assert_eq!(
        b.json(&["messages", "--channel", "sms", "--client", &yes])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        b.json(&["messages", "--rule", &rule, "--from", "2020-01-01"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        b.json(&["messages", "--to", "2020-01-01"]),
        serde_json::json!([])
    );
    let text = b.ok(&["messages"]);
    assert!(
        text.contains("Олена Коваль") && text.contains("→"),
        "{text}"
    );
    assert!(b.bad(&["messages", "--status", "lost"]).contains("status"));
    // The Telegram bot link for the card, signed by the server with its bot's name.
    b.bad(&["business", "set", "--telegram-bot", "not a bot"]);
    b.ok(&["business", "set", "--telegram-bot", "studio_bot"]);
    let link = b.json(&["telegram-link", &yes])["link"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(link.starts_with("https://t.me/studio_bot?start="), "{link}");
    // Exports: the client's data as JSON, the book as CSV.
    let data = b.json(&["export", "client", &yes]);
    assert_eq!(data["messages"][0]["status"], "sent");
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("book.csv");
    b.ok(&[
        "export",
        "book",
        "--format",
        "csv",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    let csv_text = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(csv_text.lines().count(), 3, "{csv_text}");
    assert!(csv_text.contains("Олена Коваль"));
    b.bad(&["export", "book", "--format", "xml"]);
    // The log gateway wrote exactly the one message, as a JSON line.
    let outbox = std::fs::read_to_string(&server.outbox).unwrap();
    let lines: Vec<Value> = outbox
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["to"], "+380671234567");
    assert_eq!(lines[0]["channel"], "sms");
}

#[test]
fn a_key_file_encrypts_the_book_in_place_and_is_then_needed() {
    let b = Book::new();
    let id = b.add(&["--name", "Олена Шифрована", "--phone", "0671234567"]);
    let dir = b.path.parent().unwrap();
    let key = dir.join("book.key");
    std::fs::write(&key, "0f".repeat(32)).unwrap();
    let with_key = |args: &[&str]| {
        let mut all = vec!["--key-file", key.to_str().unwrap()];
        all.extend_from_slice(args);
        b.run(&all)
    };
    let shown = with_key(&["--json", "client", "show", &id]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let file = std::fs::read(&b.path).unwrap();
    assert!(!file.starts_with(b"SQLite format 3"));

    let without = b.run(&["client", "show", &id]);
    assert!(!without.status.success());
    assert!(String::from_utf8_lossy(&without.stderr).contains("cannot be opened with this key"));
    std::fs::write(&key, "10".repeat(32)).unwrap();
    assert!(!with_key(&["client", "show", &id]).status.success());
    std::fs::write(&key, "not a key").unwrap();
    let bad = with_key(&["client", "show", &id]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("64 hexadecimal digits"));
}

#[test]
fn replies_conversations_staff_and_a_mailing_from_the_cli() {
    let server = local_server();
    let b = Book::new();
    for day in ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] {
        // Open all day, so the mailing goes whenever the test runs.
        b.ok(&["business", "hours", day, "00:00-24:00"]);
    }
    let olena = b.json(&["staff", "add", "Олена", "--email", "olena@example.com"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    b.ok(&["whoami", "--staff", "олена"]);
    let c = b.add(&["--name", "Ірина", "--phone", "0671234567", "--tag", "весна"]);
    // No consent: refused as bad input, nothing queued; WhatsApp is refused up front.
    assert!(
        b.bad(&["reply", &c, "--channel", "sms", "--text", "Так"])
            .contains("consent")
    );
    assert!(
        b.bad(&["reply", &c, "--channel", "whatsapp", "--text", "Так"])
            .contains("24 hours")
    );
    for ch in ["sms", "marketing"] {
        b.ok(&[
            "consent",
            "set",
            &c,
            "--channel",
            ch,
            "--granted",
            "--source",
            "written",
        ]);
    }
    let queued = b.json(&["reply", &c, "--channel", "sms", "--text", "Так, о 15:00"]);
    assert_eq!(
        (queued["kind"].as_str(), queued["status"].as_str()),
        (Some("reply"), Some("queued"))
    );
    let inbox = b.json(&["inbox"]);
    assert_eq!(inbox[0]["status"], "open");
    assert_eq!(inbox[0]["staff_id"], olena.as_str());
    b.ok(&[
        "conversation",
        &c,
        "--status",
        "postponed",
        "--until",
        "2031-01-01 10:00",
    ]);
    assert_eq!(
        b.json(&["inbox", "--status", "postponed"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        b.json(&["inbox", "--status", "unanswered"]),
        serde_json::json!([])
    );
    assert!(
        b.bad(&["conversation", &c, "--status", "lost"])
            .contains("status")
    );
    b.ok(&["note", &c, "--text", "Записала на п'ятницю"]);
    let notes = b.json(&["notes", &c]);
    assert_eq!(
        notes[0]["body"],
        "Олена postponed the conversation until 2031-01-01 10:00"
    );
    assert_eq!(notes[1]["body"], "Записала на п'ятницю");

    let mailing = b.json(&[
        "mailing",
        "send",
        "--channel",
        "sms",
        "--text",
        "{client_name}, знижка 10%",
        "--tag",
        "весна",
        "--name",
        "Весна",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = b.json(&["mailing", "list"]);
    assert_eq!(listed[0]["progress"]["pending"], 1);
    // Staff rules: alerts go to staff, on Telegram or email only.
    b.ok(&[
        "templates",
        "add",
        "--name",
        "Відповідь",
        "--body",
        "{client_name} написала",
    ]);
    b.ok(&[
        "rules",
        "add",
        "--name",
        "Відповіді",
        "--trigger",
        "client_replied",
        "--channel",
        "email",
        "--template",
        "Відповідь",
        "--to-staff",
        "all",
    ]);
    assert!(
        b.bad(&[
            "rules",
            "add",
            "--name",
            "x",
            "--trigger",
            "client_replied",
            "--channel",
            "sms",
            "--template",
            "Відповідь",
            "--to-staff",
            "Олена",
        ])
        .contains("sms")
    );
    assert!(
        b.bad(&[
            "rules",
            "add",
            "--name",
            "x",
            "--trigger",
            "client_replied",
            "--channel",
            "email",
            "--template",
            "Відповідь",
        ])
        .contains("staff")
    );

    b.ok(&["pair", "--server", &server.url, "--create-business"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        b.ok(&["sync"]);
        let statuses: Vec<String> = b
            .json(&["history", &c])
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                format!(
                    "{}:{}",
                    m["kind"].as_str().unwrap(),
                    m["status"].as_str().unwrap()
                )
            })
            .collect();
        if statuses == ["reply:sent", "mailing:sent"] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{statuses:?}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let listed = b.json(&["mailing", "list"]);
    assert_eq!(
        (
            listed[0]["progress"]["sent"].as_u64(),
            listed[0]["progress"]["pending"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert!(b.ok(&["mailing", "list"]).contains("1 of 1 sent"));
    assert_eq!(
        b.json(&["messages", "--kind", "mailing", "--rule", &mailing])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let outbox = std::fs::read_to_string(&server.outbox).unwrap();
    assert!(
        outbox.contains("Так, о 15:00") && outbox.contains("Ірина, знижка 10%"),
        "{outbox}"
    );
    b.ok(&["mailing", "cancel", &mailing]);
    assert!(b.ok(&["mailing", "list"]).contains("(stopped)"));
    assert!(b.ok(&["inbox", "--status", "postponed"]).contains("Ірина"));
    // A staff member's Telegram link, signed by the server too.
    let link = b.json(&["staff", "telegram-link", "Олена"])["link"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(link.starts_with("https://t.me/studio_bot?start="), "{link}");

    // Opened in her chat: her first chat, nobody's alerts moved.
    let start = |link: &str, update: i64, chat: i64| {
        let token = link.rsplit_once("start=").unwrap().1;
        telegram_update(
            &server.url,
            &format!(
                r#"{{"update_id":{update},"message":{{"message_id":1,"chat":{{"id":{chat}}},"text":"/start {token}"}}}}"#
            ),
        )
    };
    assert_eq!(start(&link, 1, 111_001), 200);
    assert_eq!(
        b.json(&["sync"])["staff_alerts_moved"],
        serde_json::json!([])
    );
    // A new link opened in another chat moves her alerts there: every device says so.
    let again = |b: &Book| {
        b.json(&["staff", "telegram-link", "Олена"])["link"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(start(&again(&b), 2, 222_002), 200);
    assert_eq!(
        b.json(&["sync"])["staff_alerts_moved"],
        serde_json::json!([olena])
    );
    assert_eq!(start(&again(&b), 3, 333_003), 200);
    let said = b.ok(&["sync"]);
    assert!(
        said.contains("the Telegram alerts of Олена now go to another chat"),
        "{said}"
    );
    // Said once: the next sync has nothing to say about her.
    assert!(!b.ok(&["sync"]).contains("Telegram alerts"));
}

/// Posts a Telegram update to the local server's webhook (the secret `local_server` sets), as
/// Telegram would; the answer's status code.
fn telegram_update(server: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let addr = server.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "POST /v1/hooks/telegram HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-Telegram-Bot-Api-Secret-Token: s\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Numbers the old phone reader stored wrongly are corrected on upgrade and told once.
#[test]
fn numbers_read_again_on_upgrade_are_told_once() {
    let b = Book::new();
    let id = b.add(&["--name", "Анна", "--phone", "+49 89 12345678"]);
    let client: uuid::Uuid = id.parse().unwrap();
    {
        // What a version-6 Kartka with the old reader left: a stranger's number on the card.
        let mut s = kartka_core::Store::open(&b.path).unwrap();
        let mut doc = automerge::Automerge::load(&s.export_doc(client).unwrap()).unwrap();
        doc.set_actor(automerge::ActorId::random());
        let card = kartka_core::crdt::client::read(&doc, client).unwrap().card;
        let mut was = card.clone();
        was.phones[0].e164 = Some("+49912345678".into());
        kartka_core::crdt::client::edit_card(&mut doc, &card, &was, chrono::Utc::now()).unwrap();
        s.apply_remote(client, &doc.save()).unwrap();
    }
    let conn = rusqlite::Connection::open(&b.path).unwrap();
    conn.execute_batch(
        "DROP TABLE phone_corrections; DROP TABLE phone_digits; DROP TABLE docs_pending;
         DROP TRIGGER docs_pending_insert; DROP TRIGGER docs_pending_update;
         DROP TRIGGER docs_pending_delete;
         DELETE FROM meta WHERE key = 'phone_reader'; PRAGMA user_version = 6;",
    )
    .unwrap();
    drop(conn);
    let first = b.run(&["client", "show", &id]);
    assert!(first.status.success());
    let told = String::from_utf8(first.stderr).unwrap();
    assert!(
        told.contains("Анна: +49912345678 → +498912345678"),
        "{told}"
    );
    assert!(
        String::from_utf8(first.stdout)
            .unwrap()
            .contains("+498912345678")
    );
    let again = b.run(&["client", "show", &id]);
    assert!(String::from_utf8(again.stderr).unwrap().is_empty());
}

/// `kartka --json client list | head`: the reader closing the pipe ends the command quietly
/// (141, as a shell reports a tool ended by SIGPIPE), never with a panic's backtrace.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    let b = Book::new();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("many.csv");
    let rows: String = (0..10_000)
        .map(|i| format!("Клієнтка Номер {i},+38067{:07}\n", 1_000_000 + i))
        .collect();
    std::fs::write(&csv, format!("name,phone\n{rows}")).unwrap();
    assert_eq!(
        b.json(&["import", "csv", csv.to_str().unwrap()])["imported"],
        10_000
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_kartka"))
        .arg("--db")
        .arg(&b.path)
        .args(["--json", "client", "list", "--limit", "10000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Like `head -c 10`: read a little, then close the pipe. The list is far longer than the
    // pipe's buffer, so the command is still printing.
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(first.starts_with(b"["));
}

/// The exit status of "server unreachable or timed out" (cli/README.md, "Exit codes").
const OFFLINE: i32 = 3;

fn error_line(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    lines[0].to_string()
}

/// With the server away, `sync`, `invite` and `devices list` say it is unreachable and that the
/// edits are kept; a server that accepts and never answers is "no answer … in N s". Both exit
/// 3, and `kartka status` tells the same.
#[test]
fn an_absent_or_silent_server_is_said_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _, rt) = local_server_in(dir.path(), "127.0.0.1:0");
    let a = Book::paired(&url);
    let st = a.json(&["status"]);
    assert_eq!(
        (st["connected"].clone(), st["pending"].clone()),
        (Value::Bool(true), 0.into())
    );
    assert!(
        st["last_synced_at"].is_string() && st["last_error"].is_null(),
        "{st}"
    );
    drop(rt);

    for n in 0..3 {
        a.add(&["--name", &format!("Офлайн {n}")]);
    }
    let out = a.run(&["sync"]);
    assert_eq!(out.status.code(), Some(OFFLINE));
    assert_eq!(
        error_line(&out),
        format!(
            "error: server {url} unreachable (connection refused); 3 changes are kept in this \
             book and will sync when it is back"
        )
    );
    for args in [&["invite"][..], &["devices", "list"]] {
        let out = a.run(args);
        assert_eq!(out.status.code(), Some(OFFLINE), "{args:?}");
        assert!(error_line(&out).contains("unreachable (connection refused); 3 changes"));
    }
    let st = a.json(&["status"]);
    assert_eq!(st["connected"], false);
    assert_eq!(st["pending"], 3);
    assert_eq!(st["last_error"]["kind"], "unreachable");
    let human = a.ok(&["status"]);
    assert!(human.contains("offline since"), "{human}");
    assert!(human.contains("3 changes, kept in this book"), "{human}");

    // Something at the address that never answers.
    let silent = std::net::TcpListener::bind(url.trim_start_matches("http://")).unwrap();
    let held = std::thread::spawn(move || {
        let conns: Vec<_> = silent.incoming().take(1).collect();
        std::thread::sleep(std::time::Duration::from_secs(5));
        drop(conns);
    });
    let out = a.run(&["--timeout", "1", "sync"]);
    assert_eq!(out.status.code(), Some(OFFLINE));
    assert_eq!(
        error_line(&out),
        format!(
            "error: no answer from {url} in 1 s; 3 changes are kept in this book and will sync \
             when it is back"
        )
    );
    assert_eq!(a.json(&["status"])["last_error"]["kind"], "timed_out");
    held.join().unwrap();

    // A book never paired, pointed at nothing: nothing was changed.
    let b = Book::new();
    let out = b.run(&[
        "pair",
        "--server",
        &url,
        "--create-business",
        "--device-name",
        "B",
    ]);
    assert_eq!(out.status.code(), Some(OFFLINE));
    assert!(
        error_line(&out).ends_with("the book is not paired yet: try again when it is back"),
        "{}",
        error_line(&out)
    );
    assert_eq!(b.json(&["status"])["paired"], false);
}

/// `sync --watch` keeps going while the server is away and says when it is back; the edits made
/// meanwhile go up.
#[test]
fn watch_says_when_the_server_is_back() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let (url, _, rt) = local_server_in(dir.path(), "127.0.0.1:0");
    let a = Book::paired(&url);
    drop(rt);
    a.add(&["--name", "Поки сервера нема"]);
    let mut watch = Command::new(env!("CARGO_BIN_EXE_kartka"))
        .arg("--db")
        .arg(&a.path)
        .args(["sync", "--watch", "--wait", "1"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with(&format!(
            "server {url} unreachable (connection refused); 1 waiting"
        )),
        "{first}"
    );
    let (_, _, back) = local_server_in(dir.path(), url.trim_start_matches("http://"));
    let reconnected = lines
        .map(Result::unwrap)
        .find(|l| l.starts_with("reconnected"))
        .expect("told when the server is back");
    assert_eq!(reconnected, format!("reconnected to {url}"));
    watch.kill().unwrap();
    watch.wait().unwrap();
    assert_eq!(a.json(&["status"])["pending"], 0);
    drop(back);
}

#[test]
fn edits_made_on_two_devices_at_once_are_listed_and_settled_once() {
    let server = local_server();
    let a = Book::new();
    let id = a.add(&["--name", "Anna Koval", "--phone", "+380671111111"]);
    a.ok(&[
        "pair",
        "--server",
        &server.url,
        "--create-business",
        "--device-name",
        "laptop",
    ]);
    let code = a.json(&["invite"])["code"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.db");
    let b = Book { _dir: dir, path };
    b.ok(&[
        "pair",
        "--server",
        &server.url,
        "--invite",
        &code,
        "--device-name",
        "phone B",
    ]);
    assert_eq!(b.json(&["client", "show", &id])["conflicts"], json!([]));

    // Apart: both rename her and both replace her number.
    a.ok(&[
        "client",
        "edit",
        &id,
        "--name",
        "Anna Kovalenko",
        "--phone",
        "+380672222222",
    ]);
    b.ok(&[
        "client",
        "edit",
        &id,
        "--name",
        "Ганна Коваль",
        "--phone",
        "+380673333333",
    ]);
    a.ok(&["sync"]);
    b.ok(&["sync"]);
    a.ok(&["sync"]);

    let (ca, cb) = (
        a.json(&["client", "show", &id]),
        b.json(&["client", "show", &id]),
    );
    // The merged card, the same on both: one name, both numbers.
    assert_eq!(ca["name"], cb["name"]);
    assert_eq!(ca["phones"], cb["phones"]);
    assert_eq!(ca["phones"].as_array().unwrap().len(), 2);
    for card in [&ca, &cb] {
        let conflicts = card["conflicts"].as_array().unwrap();
        assert_eq!(conflicts.len(), 2, "{card}");
        let name = &conflicts[0];
        assert_eq!(name["field"], "name");
        let shown = name["current"].as_u64().unwrap() as usize;
        assert_eq!(name["values"][shown]["value"], card["name"]);
        let mut who: Vec<(String, String)> = name["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["value"].as_str().unwrap().to_string(),
                    v["by"]["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        who.sort();
        assert_eq!(
            who,
            [
                ("Anna Kovalenko".to_string(), "laptop".to_string()),
                ("Ганна Коваль".to_string(), "phone B".to_string())
            ]
        );
        let phones = &conflicts[1];
        assert_eq!(phones["field"], "phones");
        assert_eq!(phones["current"], Value::Null);
    }
    assert_eq!(ca["conflicts"][0]["values"], {
        // The same values in the same order on both; only "this device" differs.
        let mut v = cb["conflicts"][0]["values"].clone();
        for x in v.as_array_mut().unwrap() {
            let mine = x["by"]["name"] == "laptop";
            x["by"]["this_device"] = json!(mine);
        }
        v
    });
    let shown = b.ok(&["client", "show", &id]);
    assert!(
        shown.contains("conflict name: changed on two devices at once"),
        "{shown}"
    );
    assert!(shown.contains("Anna Kovalenko  — by laptop"), "{shown}");
    assert!(
        shown.contains("Ганна Коваль  — by phone B (this device)"),
        "{shown}"
    );
    assert!(shown.contains(&format!(
        "kartka client settle {id} phones --keep N (or --keep all)"
    )));

    // Bad choices: one line, exit 2, nothing changed.
    assert!(
        b.bad(&["client", "settle", &id, "email", "--keep", "0"])
            .contains("unknown field")
    );
    assert!(
        b.bad(&["client", "settle", &id, "name", "--keep", "7"])
            .contains("no value 7")
    );
    assert!(
        b.bad(&["client", "settle", &id, "name", "--keep", "all"])
            .contains("keep")
    );
    assert!(
        b.bad(&["client", "settle", &id, "comment", "--keep", "0"])
            .contains("nothing to settle")
    );

    // B keeps A's name and every number.
    let keep = cb["conflicts"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .position(|v| v["value"] == "Anna Kovalenko")
        .unwrap()
        .to_string();
    let settled = b.json(&["client", "settle", &id, "name", "--keep", &keep]);
    assert_eq!(settled["name"], "Anna Kovalenko");
    assert_eq!(settled["conflicts"].as_array().unwrap().len(), 1);
    let settled = b.json(&["client", "settle", &id, "phones", "--keep", "all"]);
    assert_eq!(settled["conflicts"], json!([]));
    assert_eq!(settled["phones"], cb["phones"]);
    // A lists them until it hears of it.
    assert_eq!(
        a.json(&["client", "show", &id])["conflicts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    b.ok(&["sync"]);
    a.ok(&["sync"]);
    let ca = a.json(&["client", "show", &id]);
    assert_eq!(ca["conflicts"], json!([]));
    assert_eq!(ca["name"], "Anna Kovalenko");
    assert_eq!(ca["phones"], cb["phones"]);
    assert!(!a.ok(&["client", "show", &id]).contains("conflict"));
}
