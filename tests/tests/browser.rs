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

use kartka_core::crdt::business::SettingsEdit;
use kartka_core::model::{
    Channel, ConsentSource, ConsentSubject, MessageKind, NewClient, NewVisit, ReminderOverride,
    Rule, ServiceLine, Template, VisitStatus,
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
    let (client, visit) = phone.with(|s| {
        let t = Uuid::now_v7();
        s.edit_business(SettingsEdit::PutTemplate(Template {
            id: t,
            name: "Підтвердження".into(),
            channel: None,
            body: "{client_first_name}, підтвердіть запис: {confirm_link}".into(),
            whatsapp: None,
        }))
        .unwrap();
        s.edit_business(SettingsEdit::PutRule(Rule {
            id: Uuid::now_v7(),
            name: "Запис".into(),
            trigger: "visit_created".into(),
            offset_min: 0,
            channels: vec![Channel::Sms],
            template_id: Some(t),
            channel_templates: vec![],
            working_hours_only: false,
            statuses: vec![],
            enabled: true,
        }))
        .unwrap();
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
            .add_visit(NewVisit {
                client_id: c.id,
                start: chrono::Utc::now() + chrono::Duration::days(2),
                duration_min: 60,
                services: vec![ServiceLine {
                    name: "Манікюр".into(),
                    price: 80000,
                    quantity: 1,
                }],
                total: None,
                paid: 0,
                status: VisitStatus::Booked,
                staff_id: None,
                note: None,
                reminder: ReminderOverride::Default,
                repeat_after_days: None,
            })
            .unwrap();
        (c.id, v.id)
    });
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
