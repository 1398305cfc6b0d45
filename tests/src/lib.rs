//! The harness of the cross-crate tests: a real `kartka-server` process on loopback, and devices
//! that are real books in temporary directories syncing over HTTP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kartka_core::Store;
use kartka_core::model::NewBusiness;
use kartka_core::sync::{self, SyncReport};

/// A `kartka-server` process. Killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    bind: String,
    dir: PathBuf,
    env: Vec<(String, String)>,
    bin: PathBuf,
    extra: String,
}

impl Server {
    /// Starts a server on SQLite in `dir` (its data survives restarts), on a free port.
    pub fn start(bin: &Path, dir: &Path) -> Server {
        Server::start_with(bin, dir, &[])
    }

    /// Starts a server with extra environment (e.g. `KARTKA_DATABASE_URL`, `KARTKA_CONFIG`).
    pub fn start_with(bin: &Path, dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_configured(bin, dir, env, "")
    }

    /// Starts a server whose configuration file has `extra` appended to the test defaults.
    pub fn start_configured(bin: &Path, dir: &Path, env: &[(&str, &str)], extra: &str) -> Server {
        Server::start_bound(bin, dir, "127.0.0.1:0", env, extra)
    }

    /// A free port on loopback, for a server whose configuration must name its own address
    /// (`notify.public_url`) before it starts.
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// [`Server::start_configured`] on a given address.
    pub fn start_bound(
        bin: &Path,
        dir: &Path,
        bind: &str,
        env: &[(&str, &str)],
        extra: &str,
    ) -> Server {
        let mut s = Server {
            child: None,
            url: String::new(),
            bind: bind.into(),
            dir: dir.to_path_buf(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            bin: bin.to_path_buf(),
            extra: extra.to_string(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        std::fs::create_dir_all(&self.dir).unwrap();
        let mut cmd = Command::new(&self.bin);
        cmd.current_dir(&self.dir)
            .arg("--bind")
            .arg(&self.bind)
            .env("KARTKA_LOG", "warn,automerge=off")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !self.env.iter().any(|(k, _)| k == "KARTKA_CONFIG") {
            // Tests pair many businesses from one address.
            let config = self.dir.join("test-server.toml");
            let limits = if self.extra.contains("[limits]") {
                String::new()
            } else {
                "[limits]\npairing_per_minute = 100000\nsync_per_second = 100000\n".into()
            };
            std::fs::write(&config, format!("{limits}{}", self.extra)).unwrap();
            cmd.env("KARTKA_CONFIG", config);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start kartka-server");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        // Restarts come back on the same port, where the devices look for it.
        self.bind = url.trim_start_matches("http://").to_string();
        self.url = url;
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no flush beyond what was committed.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.kill9();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // The port may take a moment to be free again.
            if std::net::TcpListener::bind(&self.bind).is_ok() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.spawn();
    }

    /// SIGTERM, and the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        c.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `POST /v1/sync` with raw bytes: (status, body).
pub fn raw_sync(url: &str, token: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .header("content-type", kartka_core::sync::wire::MEDIA_TYPE)
        .body(body)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.bytes().unwrap().to_vec())
}

/// The `error` code of a JSON error body.
pub fn error_code(body: &[u8]) -> String {
    serde_json::from_slice::<kartka_core::sync::wire::ErrorBody>(body)
        .map(|b| b.error)
        .unwrap_or_else(|_| format!("not an error body: {}", String::from_utf8_lossy(body)))
}

/// A device: a real book in its own directory.
pub struct Device {
    pub dir: tempfile::TempDir,
    pub store: Mutex<Store>,
}

pub fn business() -> NewBusiness {
    NewBusiness {
        name: "Салон «Тест»".into(),
        region: "UA".into(),
        zone: "Europe/Kyiv".into(),
        currency: "UAH".into(),
        locale: Some("uk".into()),
    }
}

impl Device {
    pub fn empty() -> Device {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("book.db")).unwrap();
        Device {
            dir,
            store: Mutex::new(store),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("book.db")
    }

    /// The first device of a new business, paired with `server`.
    pub fn owner(server: &str) -> Device {
        let d = Device::empty();
        {
            let mut s = d.store.lock().unwrap();
            s.init_business(business()).unwrap();
            sync::create_business(&mut s, server, "owner").unwrap();
        }
        d.sync().unwrap();
        d
    }

    /// Another device of `owner`'s business, paired and synced once (so it has the business).
    pub fn join(server: &str, owner: &Device) -> Device {
        let d = Device::join_unsynced(server, owner);
        d.sync().unwrap();
        d
    }

    /// Another device of `owner`'s business, paired but still empty.
    pub fn join_unsynced(server: &str, owner: &Device) -> Device {
        let code = sync::invite(&owner.store.lock().unwrap()).unwrap().code;
        let d = Device::empty();
        sync::join(&mut d.store.lock().unwrap(), server, &code, "phone").unwrap();
        d
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.store.lock().unwrap())
    }

    pub fn token(&self) -> String {
        self.with(|s| s.sync_config().unwrap().unwrap().token)
    }

    pub fn sync(&self) -> kartka_core::Result<SyncReport> {
        sync::sync_now(&self.store)
    }

    /// Closes the book, keeping its directory (for another process to open it).
    pub fn close(self) -> tempfile::TempDir {
        drop(self.store);
        self.dir
    }

    /// Opens the book a [`Device::close`] left.
    pub fn open_at(dir: tempfile::TempDir) -> Device {
        let store = Store::open(dir.path().join("book.db")).unwrap();
        Device {
            dir,
            store: Mutex::new(store),
        }
    }

    /// Reopens the book from its file (as after the app was killed).
    pub fn reopen(&mut self) {
        let path = self.path();
        let mut guard = self.store.lock().unwrap();
        // Replace with a fresh handle; the old one closes when dropped.
        let fresh = Store::open(&path).unwrap();
        *guard = fresh;
    }
}

/// Every client of the book, deleted ones included, by id.
pub fn client_ids(s: &Store) -> Vec<uuid::Uuid> {
    let all = kartka_core::store::ClientFilter {
        include_deleted: true,
        ..Default::default()
    };
    let page = kartka_core::store::Page {
        offset: 0,
        limit: u32::MAX,
    };
    s.list_clients(&all, page)
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect()
}

/// Syncs every device, in turn, until a whole pass moves nothing.
pub fn converge(devices: &[&Device]) {
    for _ in 0..10 {
        let mut moved = 0;
        for d in devices {
            let r = d.sync().expect("sync");
            moved += r.pushed + r.pulled;
        }
        if moved == 0 {
            return;
        }
    }
    panic!("devices did not converge in 10 passes");
}

/// Every byte of every file under `dir` (a book's directory, a server's data directory), to
/// look for what must not be there.
pub fn bytes_under(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return all;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            all.extend(bytes_under(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            all.extend(b);
        }
    }
    all
}

/// Whether `needle` occurs in `hay` as UTF-8 bytes.
pub fn holds(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A template and an enabled SMS rule that sends it on `trigger`, at once and at any hour.
pub fn sms_rule(s: &mut Store, trigger: &str, name: &str, body: &str) -> (uuid::Uuid, uuid::Uuid) {
    use kartka_core::crdt::business::SettingsEdit;
    use kartka_core::model::{Channel, Rule, Template};
    let (t, r) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    s.edit_business(SettingsEdit::PutTemplate(Template {
        id: t,
        name: name.into(),
        channel: None,
        body: body.into(),
        whatsapp: None,
    }))
    .unwrap();
    s.edit_business(SettingsEdit::PutRule(Rule {
        id: r,
        name: name.into(),
        trigger: trigger.into(),
        offset_min: 0,
        channels: vec![Channel::Sms],
        template_id: Some(t),
        channel_templates: vec![],
        working_hours_only: false,
        statuses: vec![],
        enabled: true,
        staff: None,
    }))
    .unwrap();
    (t, r)
}
