//! `kartka-server senders`: the businesses' own senders as the configuration gives them,
//! checked before anything is served.

use std::process::{Command, Output};

fn senders(config: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kartka.toml");
    std::fs::write(&path, config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_kartka-server"))
        .arg("--config")
        .arg(&path)
        .arg("senders")
        .env_remove("KARTKA_CONFIG")
        .output()
        .unwrap()
}

const A: &str = "0190a1b2-0000-7000-8000-00000000000a";
const B: &str = "0190a1b2-0000-7000-8000-00000000000b";

#[test]
fn lists_each_business_with_its_own_numbers() {
    let out = senders(&format!(
        "[[notify.senders]]\nbusiness = \"{A}\"\nsms = \"+15550002222\"\n\
         [[notify.senders]]\nbusiness = \"{B}\"\nwhatsapp = \"109876\"\n"
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            format!("{A}  sms +15550002222  whatsapp -"),
            format!("{B}  sms -  whatsapp 109876"),
        ]
    );
}

#[test]
fn without_senders_it_says_who_replies_belong_to() {
    let out = senders("[notify]\nreply_window_hours = 48\n");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("wrote to that number last, within 48 h")
    );
}

#[test]
fn a_number_claimed_twice_or_not_in_e164_is_refused() {
    for bad in [
        format!(
            "[[notify.senders]]\nbusiness = \"{A}\"\nsms = \"+15550002222\"\n\
             [[notify.senders]]\nbusiness = \"{B}\"\nsms = \"+15550002222\"\n"
        ),
        format!("[[notify.senders]]\nbusiness = \"{A}\"\nsms = \"067 123 45 67\"\n"),
    ] {
        let out = senders(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("notify.senders"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}
