//! The served OpenAPI description and the server's routes stay in step: every route the server
//! registers is described, and every described path is served.

use std::collections::BTreeSet;

use kartka_server::api::OPENAPI;
use kartka_server::config::Config;

/// Paths registered with `.route("…"` in the server's sources.
fn routes() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for src in [
        include_str!("../src/api.rs"),
        include_str!("../src/notify/webhooks.rs"),
        include_str!("../src/notify/confirm.rs"),
    ] {
        for piece in src.split(".route(").skip(1) {
            let start = piece.find('"').expect("a route's path") + 1;
            let len = piece[start..].find('"').expect("a closed string");
            out.insert(piece[start..start + len].to_string());
        }
    }
    out
}

/// Paths under `paths:` in the description (two-space indented keys).
fn described() -> BTreeSet<String> {
    OPENAPI
        .split("\npaths:\n")
        .nth(1)
        .expect("a paths section")
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| l.starts_with('/'))
        .map(|l| l.trim_end_matches(':').to_string())
        .collect()
}

#[test]
fn every_route_is_described_and_every_described_path_is_a_route() {
    let (r, d) = (routes(), described());
    assert!(r.len() >= 14, "{r:?}");
    assert_eq!(r, d);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_serves_its_description() {
    let data = tempfile::tempdir().unwrap();
    let mut cfg = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", data.path().join("server.db").display()),
        ..Config::default()
    };
    cfg.notify.outbox = data.path().join("outbox.jsonl");
    let running = kartka_server::start(cfg).await.unwrap();
    let resp = reqwest::get(format!("{}/v1/openapi.yaml", running.url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/yaml");
    assert_eq!(resp.text().await.unwrap(), OPENAPI);
    running.shutdown().await.unwrap();
}
