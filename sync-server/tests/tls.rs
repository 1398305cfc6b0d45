//! HTTPS served directly from certificate files: a client trusting the issuing CA talks to the
//! server over TLS; a plain-HTTP request to the same port gets no answer; bad certificate
//! files are a clear start-up error.

use kartka_server::config::{Config, Tls};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

struct Pki {
    _dir: tempfile::TempDir,
    tls: Tls,
    ca_pem: String,
}

/// A throwaway CA and a server certificate for 127.0.0.1 signed by it, as PEM files.
fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("fullchain.pem");
    let key = dir.path().join("privkey.pem");
    std::fs::write(&cert, format!("{}{}", leaf.pem(), ca.pem())).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    Pki {
        tls: Tls { cert, key },
        ca_pem: ca.pem(),
        _dir: dir,
    }
}

fn config(data: &std::path::Path, tls: Tls) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: format!("sqlite://{}", data.join("server.db").display()),
        tls: Some(tls),
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn https_is_served_from_certificate_files() {
    let pki = pki();
    let data = tempfile::tempdir().unwrap();
    let mut cfg = config(data.path(), pki.tls.clone());
    cfg.notify.outbox = data.path().join("outbox.jsonl");
    let running = kartka_server::start(cfg).await.unwrap();
    let url = running.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let resp = trusting.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    // A client that does not trust the CA refuses the connection.
    let stranger = reqwest::Client::new();
    assert!(stranger.get(format!("{url}/healthz")).send().await.is_err());

    // Plain HTTP to the TLS port is not served.
    let plain = url.replacen("https://", "http://", 1);
    let r = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap()
        .get(format!("{plain}/healthz"))
        .send()
        .await;
    assert!(r.is_err() || !r.unwrap().status().is_success());

    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_certificate_files_stop_the_start_with_a_clear_error() {
    let pki = pki();
    let data = tempfile::tempdir().unwrap();
    let missing = Tls {
        cert: data.path().join("nope.pem"),
        key: pki.tls.key.clone(),
    };
    let err = kartka_server::start(config(data.path(), missing))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("TLS certificate"), "{err}");
    let swapped = Tls {
        cert: pki.tls.key.clone(),
        key: pki.tls.cert.clone(),
    };
    let err = kartka_server::start(config(data.path(), swapped))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("TLS"), "{err}");
}
