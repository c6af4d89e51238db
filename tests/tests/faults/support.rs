//! Real processes for fault injection: `portal worker` children, a private
//! `redis-server`, and the tally of what reached the mail sink.
use jobs::deliver_email::{Deliverer, DeliveryConfig};
use jobs::mailer::Mailer;
use portal_tests::{SmtpSink, TestApp};
use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// A child process killed (SIGKILL) and reaped when dropped, so a failing test
/// leaves nothing running.
pub struct Process {
    child: Child,
    log: PathBuf,
    /// Hand the process's JSON log to the suite's secret scan when it ends.
    scanned: bool,
    _dir: tempfile::TempDir,
}

impl Process {
    fn spawn(mut command: Command) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("stderr.log");
        let file = std::fs::File::create(&log).expect("log file");
        let out = std::fs::File::create(dir.path().join("stdout.log")).expect("stdout file");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        Self {
            child,
            log,
            scanned: false,
            _dir: dir,
        }
    }

    /// `kill -9`: no signal handler, no drain, no goodbye.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The OS process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True once the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// What the process wrote to stderr so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// What the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        let path = self.log.with_file_name("stdout.log");
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
        if self.scanned {
            portal_tests::logscan::ingest(&self.log());
        }
    }
}

/// Emails a worker process of these tests holds at once: the most a killed one can
/// have sent without recording it.
pub const WORKER_CONCURRENCY: usize = 16;

/// An in-process worker's deliverer for `app`'s outbox, sending to `smtp_url`, with
/// claims of `lease`: a test drives it by hand (`deliver`) to interleave workers.
pub fn deliverer(app: &TestApp, smtp_url: &str, lease: Duration) -> Arc<Deliverer> {
    Arc::new(Deliverer {
        db: app.state.db.clone(),
        mailer: Mailer::from_url(smtp_url).expect("mailer"),
        clock: app.state.clock.clone(),
        config: DeliveryConfig {
            public_url: app.state.settings.public_url.clone(),
            portal_url: app.state.settings.client_home_url(),
            mail_from: app.state.settings.email.mail_from.clone(),
            reset_link_ttl: Duration::from_secs(3600),
            max_attempts: 3,
            retry_base: Duration::from_millis(200),
            lease,
        },
    })
}

/// `portal worker` against the same database, Redis prefix and mail sink as `app`.
pub fn start_worker(app: &TestApp, smtp_url: &str) -> Process {
    let settings = &app.state.settings;
    let mut command = Command::new(portal_tests::process::portal_binary());
    command
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info,portal_api=debug,jobs=debug")
        .env("LOG_FORMAT", "json")
        // Workers run side by side: each takes a free port for its endpoints.
        .env("WORKER_BIND", "127.0.0.1:0")
        .env("DATABASE_URL", settings.database_url.expose_secret())
        .env("DATABASE_MAX_CONNECTIONS", "5")
        .env(
            "REDIS_URL",
            settings
                .redis_url
                .as_ref()
                .expect("production mode")
                .expose_secret(),
        )
        .env("REDIS_KEY_PREFIX", &settings.email.redis_key_prefix)
        .env("SMTP_URL", smtp_url)
        .env("EMAIL_RETRY_BASE_MS", "200")
        .env("EMAIL_SWEEP_GRACE_MS", "1000")
        .env("WORKER_CONCURRENCY", WORKER_CONCURRENCY.to_string());
    let mut worker = Process::spawn(command);
    worker.scanned = true;
    worker
}

/// A `redis-server` of the test's own on a fixed port, without persistence, so
/// stopping it loses everything it held (the worst case for the queue).
pub struct RedisServer {
    pub port: u16,
    process: Option<Process>,
}

impl RedisServer {
    /// Starts `redis-server` (from PATH) on a port the OS had free and waits until it
    /// answers. It cannot take a socket from the test, so another process may take
    /// the port first: the server that answers is checked to be ours (by pid), and
    /// another port is tried.
    pub async fn start() -> Self {
        let mut failures = Vec::new();
        for _ in 0..5 {
            let port = portal_tests::ports::released_port();
            let mut server = Self {
                port,
                process: None,
            };
            match server.try_start().await {
                Ok(()) => return server,
                Err(e) => failures.push(e),
            }
        }
        panic!("redis-server did not start: {failures:?}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill9();
        }
    }

    /// Starts it again on the same port, empty; fails the test if the port was
    /// taken meanwhile.
    pub async fn restart(&mut self) {
        if let Err(e) = self.try_start().await {
            panic!("{e}");
        }
    }

    /// Starts the server on `self.port`; Err when it did not come up as ours.
    async fn try_start(&mut self) -> Result<(), String> {
        self.stop();
        let mut command = Command::new("redis-server");
        command.args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]);
        if which("redis-server").is_none() {
            panic!("redis-server is not on PATH; install Redis (apt-get install redis-server)");
        }
        let (port, client) = (
            self.port,
            redis::Client::open(self.url()).expect("redis URL"),
        );
        let process = self.process.insert(Process::spawn(command));
        let ours = format!("process_id:{}", process.pid());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            if process.exited() {
                return Err(format!("exited on port {port}: {}", process.log()));
            }
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                let info: redis::RedisResult<String> = redis::cmd("INFO")
                    .arg("server")
                    .query_async(&mut conn)
                    .await;
                match info {
                    Ok(info) if info.lines().any(|l| l.trim() == ours) => return Ok(()),
                    Ok(_) => return Err(format!("port {port} answers another Redis")),
                    Err(_) => {}
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(format!("no answer on {port}: {}", process.log()))
    }
}

fn which(binary: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(binary))
            .find(|p| p.is_file())
    })
}

/// Deliveries lost (recipients without any email) and duplicated (recipients with
/// more than one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub lost: usize,
    pub duplicated: usize,
}

/// Counts what `sink` received for each of `addresses`.
pub fn tally(sink: &SmtpSink, addresses: &[String]) -> Tally {
    let messages = sink.messages();
    let mut tally = Tally {
        lost: 0,
        duplicated: 0,
    };
    for address in addresses {
        let n = messages
            .iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address)))
            .count();
        match n {
            0 => tally.lost += 1,
            1 => {}
            _ => tally.duplicated += 1,
        }
    }
    tally
}

/// Emails in `sink` whose link no longer works although nobody used it: a
/// duplicate's first copy must never carry a dead link.
pub async fn dead_links(db: &sea_orm::DatabaseConnection, sink: &SmtpSink) -> usize {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut dead = 0;
    for message in sink.messages() {
        let Some(token) = message.token() else {
            continue;
        };
        let hash = access::token::LinkToken::from_presented(&token)
            .expect("a link token")
            .hash();
        let link = entity::account_link::Entity::find()
            .filter(entity::account_link::Column::TokenHash.eq(hash))
            .one(db)
            .await
            .expect("link lookup")
            .expect("every emailed link is recorded");
        if link.revoked_at.is_some() && link.used_at.is_none() {
            dead += 1;
        }
    }
    dead
}
