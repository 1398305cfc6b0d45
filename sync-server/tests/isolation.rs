//! Tenant isolation, generated from the server's own route table: every path any router in
//! `sync-server/src` registers (`.route("…"`, every source file read, so a new router module is
//! found too) must have a case below, or this test fails naming it. Each case is the attacker's
//! try: business B's token (or none) against business A's ids, on a real server over loopback,
//! and nothing of A may be changed or come back in the answer. Runs on SQLite and PostgreSQL.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::served::{Served, serve};
use common::{World, local};
use kartka_core::model::Channel;
use kartka_core::sync::wire::{self, Chunk, Cursor, SyncRequest, SyncResponse};
use kartka_server::storage::Storage;
use kartka_server::storage::sqlite::SqliteStorage;
use uuid::Uuid;

/// Every path registered with `.route("…"` anywhere in the server's sources.
fn route_table() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.ends_with("notify/doubles.rs") {
                // The providers' remote ends the tests talk to: not routes of the server.
                continue;
            } else if p.extension().is_some_and(|x| x == "rs") {
                let src = std::fs::read_to_string(&p).unwrap();
                for piece in src.split(".route(").skip(1) {
                    let Some(start) = piece.find('"').map(|s| s + 1) else {
                        continue;
                    };
                    let len = piece[start..].find('"').unwrap();
                    out.insert(piece[start..start + len].to_string());
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

/// A's things the attacker knows (every book that ever synced holds the ids).
struct Victim {
    business: Uuid,
    device: Uuid,
    token: String,
    client: Uuid,
    visit: Uuid,
    staff: Uuid,
    number: String,
    name: &'static str,
}

struct Attack<'a> {
    served: &'a Served,
    a: &'a Victim,
    b_token: &'a str,
    b_client: Uuid,
}

impl Attack<'_> {
    /// Nothing of A in an answer (but what the attacker sent, echoed in a refusal).
    fn clean(&self, path: &str, body: &str, echoed: &[Uuid]) {
        for secret in [
            self.a.business.to_string(),
            self.a.device.to_string(),
            self.a.client.to_string(),
            self.a.visit.to_string(),
            self.a.staff.to_string(),
            self.a.number.clone(),
            self.a.name.to_string(),
        ] {
            if echoed.iter().any(|e| e.to_string() == secret) {
                continue;
            }
            assert!(!body.contains(&secret), "{path} leaked {secret}: {body}");
        }
    }

    async fn send(&self, path: &str, r: reqwest::RequestBuilder) -> (u16, String) {
        self.send_echo(path, r, &[]).await
    }

    async fn send_echo(
        &self,
        path: &str,
        r: reqwest::RequestBuilder,
        echoed: &[Uuid],
    ) -> (u16, String) {
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        self.clean(path, &body, echoed);
        (status, body)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.served.url)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.served
            .http
            .post(self.url(path))
            .bearer_auth(self.b_token)
    }

    fn refused(path: &str, status: u16) {
        assert!(
            [401, 403, 404].contains(&status),
            "{path}: another business's ids must be refused, got {status}"
        );
    }

    /// The case of one path; `false` for a path this test has no case for.
    async fn case(&self, path: &str) -> bool {
        let a = self.a;
        match path {
            // Public, and about no business.
            "/healthz" | "/v1/openapi.yaml" => {
                let (status, _) = self.send(path, self.served.http.get(self.url(path))).await;
                assert_eq!(status, 200, "{path}");
            }
            // The operator's, on the admin address only (walls.rs shows it there).
            "/metrics" => {
                let (status, _) = self.send(path, self.served.http.get(self.url(path))).await;
                assert_eq!(status, 404, "{path} on the public port");
            }
            "/v1/businesses" => {
                // Creating "A" again, under A's own id.
                let req = wire::CreateBusiness {
                    business_id: a.business,
                    name: "A again".into(),
                    device_name: "attacker".into(),
                };
                let (status, _) = self
                    .send(path, self.served.http.post(self.url(path)).json(&req))
                    .await;
                assert_eq!(status, 409, "{path}: a business id is taken once");
            }
            "/v1/join" => {
                let req = wire::JoinBusiness {
                    code: a.business.to_string(),
                    device_name: "attacker".into(),
                };
                let (status, _) = self
                    .send(path, self.served.http.post(self.url(path)).json(&req))
                    .await;
                assert!((400..500).contains(&status), "{path}: {status}");
            }
            "/v1/invites" => {
                // B's invite joins B, whatever B knows of A.
                let (status, body) = self.send(path, self.post(path)).await;
                assert_eq!(status, 201, "{path}: {body}");
                let code: wire::Invite = serde_json::from_str(&body).unwrap();
                let req = wire::JoinBusiness {
                    code: code.code,
                    device_name: "B's new".into(),
                };
                let (_, joined) = self
                    .send(
                        "/v1/join",
                        self.served.http.post(self.url("/v1/join")).json(&req),
                    )
                    .await;
                let paired: wire::Paired = serde_json::from_str(&joined).unwrap();
                assert_ne!(paired.business_id, a.business);
            }
            "/v1/devices" => {
                let r = self
                    .served
                    .http
                    .get(self.url(path))
                    .bearer_auth(self.b_token);
                let (status, _) = self.send(path, r).await;
                assert_eq!(status, 200);
            }
            "/v1/devices/{id}" => {
                let p = format!("/v1/devices/{}", a.device);
                let r = self
                    .served
                    .http
                    .delete(self.url(&p))
                    .bearer_auth(self.b_token);
                let (status, _) = self.send(path, r).await;
                Self::refused(path, status);
                // A's device still works.
                let r = self
                    .served
                    .http
                    .get(self.url("/v1/devices"))
                    .bearer_auth(&a.token);
                assert_eq!(
                    r.send().await.unwrap().status(),
                    200,
                    "A's device was revoked"
                );
            }
            "/v1/erasures" => {
                let req = wire::Erase {
                    docs: vec![a.client],
                };
                let r = self.post(path).json(&req);
                let (status, body) = self.send_echo(path, r, &[a.client]).await;
                if status == 200 {
                    let e: wire::Erased = serde_json::from_str(&body).unwrap();
                    assert_eq!(e.erased, 0, "{path}: A's client erased by B");
                } else {
                    Self::refused(path, status);
                }
            }
            "/v1/sync" => {
                // Pull everything: nothing of A. Push into A's client: refused.
                let pull = wire::encode(&SyncRequest {
                    cursor: Cursor::Start,
                    push: vec![],
                });
                let r = self
                    .post(path)
                    .header("content-type", wire::MEDIA_TYPE)
                    .body(pull);
                let r = r.send().await.unwrap();
                assert_eq!(r.status(), 200);
                let got: SyncResponse = wire::decode(&r.bytes().await.unwrap()).unwrap();
                assert!(
                    got.pull
                        .iter()
                        .all(|c| c.doc != a.client && c.doc != a.business)
                );
                let mut doc = automerge::AutoCommit::new();
                automerge::transaction::Transactable::put(
                    &mut doc,
                    automerge::ROOT,
                    "name",
                    "taken over",
                )
                .unwrap();
                let push = wire::encode(&SyncRequest {
                    cursor: Cursor::Start,
                    push: vec![Chunk {
                        doc: a.client,
                        data: doc.save(),
                    }],
                });
                let r = self
                    .post(path)
                    .header("content-type", wire::MEDIA_TYPE)
                    .body(push);
                let (status, _) = self.send_echo(path, r, &[a.client]).await;
                Self::refused(path, status);
            }
            "/v1/confirm-links" => {
                let req = wire::ConfirmLinkRequest {
                    client: a.client,
                    visit: a.visit,
                };
                let (status, _) = self.send(path, self.post(path).json(&req)).await;
                Self::refused(path, status);
                // A's visit under B's own client: no such visit there.
                let req = wire::ConfirmLinkRequest {
                    client: self.b_client,
                    visit: a.visit,
                };
                let (status, _) = self.send(path, self.post(path).json(&req)).await;
                Self::refused(path, status);
            }
            "/v1/telegram-links" => {
                for req in [
                    wire::TelegramLinkRequest {
                        client: Some(a.client),
                        staff: None,
                    },
                    wire::TelegramLinkRequest {
                        client: None,
                        staff: Some(a.staff),
                    },
                ] {
                    let (status, _) = self.send(path, self.post(path).json(&req)).await;
                    Self::refused(path, status);
                }
            }
            "/c/{token}" => {
                // A link for A's visit signed with any key but the server's reaches nothing.
                let target = kartka_server::notify::confirm::LinkTarget {
                    business: a.business,
                    client: a.client,
                    visit: a.visit,
                };
                let forged = kartka_server::notify::confirm::token(b"not the key", target);
                let p = format!("/c/{forged}");
                let (status, _) = self.send(path, self.served.http.get(self.url(&p))).await;
                assert_eq!(status, 404, "{path}");
                let form = [("answer", "cancel")];
                let (status, _) = self
                    .send(path, self.served.http.post(self.url(&p)).form(&form))
                    .await;
                assert!((400..500).contains(&status), "{path}: {status}");
            }
            // Providers' webhooks: unsigned, they change nothing and answer nothing of A; signed
            // ones reach one business only (walls.rs, webhooks.rs).
            "/v1/hooks/twilio/status" | "/v1/hooks/twilio/inbound" => {
                let form = [
                    ("From", a.number.as_str()),
                    ("Body", "Так"),
                    ("MessageSid", "SMx"),
                ];
                let r = self
                    .served
                    .http
                    .post(self.url(path))
                    .header("X-Twilio-Signature", "forged")
                    .form(&form);
                let (status, _) = self.send(path, r).await;
                assert_eq!(status, 403, "{path}");
            }
            "/v1/hooks/whatsapp" => {
                let r = self
                    .served
                    .http
                    .post(self.url(path))
                    .header("X-Hub-Signature-256", "sha256=00")
                    .body("{}");
                let (status, _) = self.send(path, r).await;
                assert_eq!(status, 403, "{path}");
                let q = "?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=x";
                let (status, _) = self
                    .send(path, self.served.http.get(self.url(&format!("{path}{q}"))))
                    .await;
                assert_eq!(status, 403, "{path}");
            }
            "/v1/hooks/telegram" => {
                let start = format!(
                    r#"{{"update_id":1,"message":{{"chat":{{"id":1}},"text":"/start {}"}}}}"#,
                    a.client
                );
                let r = self
                    .served
                    .http
                    .post(self.url(path))
                    .header("X-Telegram-Bot-Api-Secret-Token", "guess")
                    .body(start);
                let (status, _) = self.send(path, r).await;
                assert_eq!(status, 403, "{path}");
            }
            _ => return false,
        }
        true
    }
}

async fn every_route_keeps_one_business_out_of_another<S: Storage>(storage: S) {
    let number = format!("+38067{:07}", rand::random::<u32>() % 10_000_000);
    let mut a = World::new(storage.clone()).await;
    let client = a.client("Олена Ізольована", &number, &[Channel::Sms]);
    let visit = a.visit(client, local(1, 10, 0));
    let staff = a.book.add_staff("Марія Ізольована").unwrap();
    a.sync().await;
    let mut b = World::new(storage.clone()).await;
    let b_client = b.client("Ірина", &number, &[Channel::Sms]);
    b.sync().await;
    let served = serve(&a).await;
    let victim = Victim {
        business: a.business,
        device: a.device,
        token: a.token.clone(),
        client,
        visit,
        staff,
        number,
        name: "Ізольована",
    };
    let attack = Attack {
        served: &served,
        a: &victim,
        b_token: &b.token,
        b_client,
    };
    let mut missing = Vec::new();
    for path in route_table() {
        if !attack.case(&path).await {
            missing.push(path);
        }
    }
    assert!(
        missing.is_empty(),
        "routes without an isolation case: {missing:?}"
    );
    // After every attempt, A's book is A's: the client, the visit, the staff as they were.
    a.sync().await;
    let c = a.book.get_client(client).unwrap();
    assert_eq!(c.name, "Олена Ізольована");
    assert!(!c.deleted);
    assert_eq!(
        a.book.get_visit(visit).unwrap().status,
        kartka_core::model::VisitStatus::Booked
    );
    assert_eq!(a.book.staff_member(staff).unwrap().telegram, None);
}

#[test]
fn the_route_table_is_read() {
    let t = route_table();
    assert!(
        t.contains("/v1/sync") && t.contains("/c/{token}") && t.len() > 10,
        "{t:?}"
    );
}

static PG: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    every_route_keeps_one_business_out_of_another(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    let _one_at_a_time = PG.lock().await;
    if let Some(s) = common::postgres().await {
        every_route_keeps_one_business_out_of_another(s).await;
    }
}
