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
}

impl Server {
    /// Starts a server on SQLite in `dir` (its data survives restarts), on a free port.
    pub fn start(bin: &Path, dir: &Path) -> Server {
        Server::start_with(bin, dir, &[])
    }

    /// Starts a server with extra environment (e.g. `KARTKA_DATABASE_URL`, `KARTKA_CONFIG`).
    pub fn start_with(bin: &Path, dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut s = Server {
            child: None,
            url: String::new(),
            bind: "127.0.0.1:0".into(),
            dir: dir.to_path_buf(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            bin: bin.to_path_buf(),
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
            .env("KARTKA_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if !self.env.iter().any(|(k, _)| k == "KARTKA_CONFIG") {
            // Tests pair many businesses from one address.
            let config = self.dir.join("test-server.toml");
            std::fs::write(&config, "[limits]\npairing_per_minute = 100000\nsync_per_second = 100000\n")
                .unwrap();
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
        let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
        c.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
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
        d
    }

    /// Another device of `owner`'s business.
    pub fn join(server: &str, owner: &Device) -> Device {
        let code = sync::invite(&owner.store.lock().unwrap()).unwrap().code;
        let d = Device::empty();
        sync::join(&mut d.store.lock().unwrap(), server, &code, "phone").unwrap();
        d
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.store.lock().unwrap())
    }

    pub fn sync(&self) -> kartka_core::Result<SyncReport> {
        sync::sync_now(&self.store)
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
