//! The confirmation page in a real browser: a reminder with `{confirm_link}` goes out through
//! the `log` gateway of a real server process; headless Chromium (Debian's, driven by
//! playwright-core from `tests/browser`) opens the link as the client would and presses
//! Confirm; a syncing device then shows the visit confirmed, with the answer in the history.
//!
//! Needs Node.js, `npm install` in `tests/browser` and Chromium at /usr/bin/chromium (or
//! CHROMIUM). Without them the test says so and passes, unless KARTKA_REQUIRE_BROWSER=1
//! (scripts/test-all sets it, and CI installs both), when it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kartka_core::model::{
    Channel, ConsentSource, ConsentSubject, MessageKind, NewClient, NewVisit, ServiceLine,
    VisitStatus,
};
use kartka_tests::{Device, Server};
use uuid::Uuid;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_server-under-test"))
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Whether Node, playwright-core and Chromium are all here.
fn browser_ready() -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ));
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        return Err("playwright-core is not installed (npm ci in tests/browser)".into());
    }
    Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("no node: {e}"))?;
    Ok(())
}

/// The text of the first message the log gateway wrote, waiting for the dispatcher.
fn first_sent(outbox: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(outbox)
            && let Some(line) = text.lines().next()
        {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            return v["text"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no message was sent");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A client with SMS consent, a visit in two days, and a rule that sends
/// `{confirm_link}` when a visit is booked.
fn booked(phone: &Device) -> (Uuid, Uuid) {
    phone.with(|s| {
        kartka_tests::sms_rule(
            s,
            "visit_created",
            "Підтвердження",
            "{client_first_name}, підтвердіть запис: {confirm_link}",
        );
        let c = s
            .create_client(NewClient {
                name: "Олена Коваленко".into(),
                phones: vec![("067 123 45 67".into(), String::new())],
                ..Default::default()
            })
            .unwrap();
        s.set_consent(
            c.id,
            ConsentSubject::Channel(Channel::Sms),
            true,
            ConsentSource::Written,
            "анкета",
        )
        .unwrap();
        let v = s
            .add_visit(NewVisit::booked(
                c.id,
                chrono::Utc::now() + chrono::Duration::days(2),
                60,
                vec![ServiceLine {
                    name: "Манікюр".into(),
                    price: 80000,
                    quantity: 1,
                }],
            ))
            .unwrap();
        (c.id, v.id)
    })
}

#[test]
fn a_client_confirms_in_chromium_and_the_device_shows_it() {
    if let Err(why) = browser_ready() {
        if std::env::var("KARTKA_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("the browser test cannot run: {why}");
        }
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = Server::free_port();
    let public = format!("http://127.0.0.1:{port}");
    let _server = Server::start_bound(
        bin(),
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[],
        &format!("[notify]\ntick_ms = 50\npublic_url = \"{public}\"\n"),
    );
    let phone = Device::owner(&public);
    let (client, visit) = booked(&phone);
    phone.sync().unwrap();

    let text = first_sent(&dir.path().join("kartka-data/outbox.jsonl"));
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{public}/c/")))
        .unwrap_or_else(|| panic!("no link in {text:?}"))
        .to_string();

    let shot = dir.path().join("confirmed.png");
    let out = Command::new("node")
        .arg(browser_dir().join("confirm.mjs"))
        .arg(&link)
        .arg("confirm")
        .env("SCREENSHOT", &shot)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["before"]["status"], 200);
    assert_eq!(seen["before"]["title"], "Ваш запис");
    assert_eq!(
        seen["before"]["buttons"],
        serde_json::json!(["Підтвердити", "Скасувати"])
    );
    // The visit's day and time as the salon's clock shows them.
    let start = phone.with(|s| s.get_visit(visit).unwrap().start);
    let local = start.with_timezone(&chrono_tz::Europe::Kyiv);
    let when = seen["before"]["when"].as_str().unwrap();
    assert!(
        when.ends_with(&local.format(", %H:%M").to_string())
            && when.contains(&local.format(" %Y").to_string()),
        "{when}"
    );
    assert_eq!(
        seen["after"]["state"],
        "Запис підтверджено. Чекаємо на вас!"
    );
    assert!(std::fs::metadata(&shot).unwrap().len() > 0);

    // The phone syncs: the visit is confirmed, and the answer is in the card's history.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        phone.sync().unwrap();
        let status = phone.with(|s| s.get_visit(visit).unwrap().status);
        if status == VisitStatus::Confirmed {
            break;
        }
        assert!(Instant::now() < deadline, "the device never saw the answer");
        std::thread::sleep(Duration::from_millis(100));
    }
    let history = phone.with(|s| s.history(client).unwrap());
    let answer = history
        .iter()
        .find(|m| m.kind == MessageKind::Inbound)
        .expect("the answer is in the history");
    assert_eq!(answer.visit_id, Some(visit));
    assert_eq!(
        answer.detail.as_deref(),
        Some("confirmed the visit through the link")
    );
}

/// The master sends the link by hand from the visit: the device asks the server, which signs
/// it; only a device of the business gets one, and only while the visit is ahead.
#[test]
fn a_device_gets_the_link_of_its_own_visit_to_send_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let port = Server::free_port();
    let public = format!("http://127.0.0.1:{port}");
    let server = Server::start_bound(
        bin(),
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[],
        &format!("[notify]\npublic_url = \"{public}\"\n"),
    );
    let phone = Device::owner(&server.url);
    let (client, visit) = booked(&phone);
    phone.sync().unwrap();
    let remote = phone.with(|s| kartka_core::sync::remote_of(s).unwrap());
    let link = remote.confirm_link(client, visit).unwrap();
    assert!(
        link.link.starts_with(&format!("{public}/c/")),
        "{}",
        link.link
    );
    let page = reqwest::blocking::get(&link.link).unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("Підтвердити"));

    // Another business's device cannot have a link to this visit.
    let stranger = Device::owner(&server.url);
    let theirs = stranger.with(|s| kartka_core::sync::remote_of(s).unwrap());
    assert!(matches!(
        theirs.confirm_link(client, visit),
        Err(kartka_core::Error::Server { status: 404, .. })
    ));
    // Nor a request without a device token.
    let anonymous = reqwest::blocking::Client::new()
        .post(format!("{}/v1/confirm-links", server.url))
        .json(&serde_json::json!({ "client": client, "visit": visit }))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // A cancelled visit has no link.
    phone.with(|s| s.set_visit_status(visit, VisitStatus::Cancelled).unwrap());
    phone.sync().unwrap();
    assert!(matches!(
        remote.confirm_link(client, visit),
        Err(kartka_core::Error::Server { status: 410, .. })
    ));
}
