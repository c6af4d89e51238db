//! What a benchmark runs against: a fresh PostgreSQL database, a Redis key prefix,
//! postfix's smtp-sink, and `portal` processes (release build) started as children.
use crate::external::SmtpSink;
use anyhow::{Context, Result};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `portal` process.
pub struct Process {
    pub child: Child,
    pub url: Option<String>,
}

impl Process {
    /// Peak resident memory so far (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The database, Redis prefix and mail sink of one bench run.
pub struct Stack {
    pub database_url: String,
    pub db: DatabaseConnection,
    admin_url: String,
    name: String,
    pub prefix: String,
    pub sink: SmtpSink,
    portal: std::path::PathBuf,
}

impl Stack {
    /// Creates the database (migrated) and the sink; builds `portal` if needed.
    pub async fn start() -> Result<Self> {
        // `portal` (as the bench's own `bench-portal` binary) is built with the
        // bench's profile (release for figures; a debug `cargo run -p bench -- costs`
        // counts statements without the wait) and its package selection, so a fresh
        // clone compiles the dependencies once.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-q", "-p", "bench", "--bin", "bench-portal"]);
        // `cargo run` gave this process its package's variables; ring's build script
        // reruns when CARGO_PKG_NAME & co. change, which would rebuild everything that
        // uses TLS, twice per run (here, then again for the next `cargo run`).
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|p| key.starts_with(p))
                || key == "CARGO_PRIMARY_PACKAGE"
            {
                build.env_remove(key.as_ref());
            }
        }
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let status = build.status().context("building portal")?;
        anyhow::ensure!(status.success(), "cargo build of portal failed");
        let portal = std::env::current_exe()?
            .parent()
            .context("target dir")?
            .join("bench-portal");
        let admin_url = postgres_admin_url();
        let name = format!("portal_bench_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        admin.close().await?;
        let server = admin_url
            .rsplit_once('/')
            .map(|(s, _)| s)
            .unwrap_or(&admin_url);
        let database_url = same_host_without_tls(&format!("{server}/{name}"));
        let db = Database::connect(&database_url).await?;
        use migration::MigratorTrait;
        migration::Migrator::up(&db, None).await?;
        Ok(Self {
            database_url,
            db,
            admin_url,
            name,
            prefix: format!("bench:{}", uuid::Uuid::new_v4().simple()),
            sink: SmtpSink::start()?,
            portal,
        })
    }

    /// The environment every `portal` process of this run gets.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("DATABASE_URL", self.database_url.clone()),
            ("REDIS_URL", redis_url()),
            ("REDIS_KEY_PREFIX", self.prefix.clone()),
            ("SMTP_URL", self.sink.url()),
            ("BIND", "127.0.0.1:0".into()),
            // Two workers run side by side: each takes a free port for its endpoints.
            ("WORKER_BIND", "127.0.0.1:0".into()),
            ("RESEND_LIMIT", "1000000".into()),
            ("ABUSE_LIMIT_SCALE", "1000000".into()),
            ("LOG_FORMAT", "json".into()),
            ("RUST_LOG", "error".into()),
            ("RUN_MIGRATIONS", "false".into()),
            ("DATABASE_MAX_CONNECTIONS", "10".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Starts `portal serve --no-worker` and waits until it listens.
    pub fn serve(&self) -> Result<Process> {
        let mut child = Command::new(&self.portal)
            .args(["serve", "--no-worker"])
            .envs(self.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines.next().context("serve exited")??;
            // LOG_FORMAT=json: the announcement is a log line's message.
            let message = serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|l| l["message"].as_str().map(str::to_owned))
                .unwrap_or_default();
            if let Some(url) = message.strip_prefix("portal-access listening on ") {
                break url.to_owned();
            }
        };
        // Keep draining so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Process {
            child,
            url: Some(url),
        })
    }

    /// Starts `portal worker`.
    pub fn worker(&self) -> Result<Process> {
        // Worker logs (warnings and up) go to bench/results/worker.log for diagnosis.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results/worker.log"))?;
        let child = Command::new(&self.portal)
            .arg("worker")
            .envs(self.env())
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        Ok(Process { child, url: None })
    }

    /// Drops the database and the Redis keys.
    pub async fn cleanup(self) -> Result<()> {
        self.delete_redis_keys().await?;
        self.db.close().await?;
        let admin = Database::connect(&self.admin_url).await?;
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await?;
        Ok(())
    }

    /// Deletes every Redis key under this run's prefix (jobs, counters) and its
    /// queues' entries in apalis's list of queues.
    pub async fn delete_redis_keys(&self) -> Result<()> {
        let mut conn = redis::Client::open(redis_url())?
            .get_multiplexed_async_connection()
            .await?;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut conn)
            .await?;
        let mut cleanup = redis::pipe();
        if !keys.is_empty() {
            cleanup.del(keys).ignore();
        }
        // apalis lists each queue's workers set (`{prefix}:{queue}:workers`) there.
        let listed: Vec<String> = redis::cmd("ZRANGE")
            .arg(QUEUES_LIST)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await?;
        let own = format!("{}:", self.prefix);
        let ours: Vec<&String> = listed.iter().filter(|m| m.starts_with(&own)).collect();
        if !ours.is_empty() {
            cleanup.zrem(QUEUES_LIST, ours).ignore();
        }
        // An empty pipeline is an error ("empty command"): nothing to clean then.
        if !cleanup.is_empty() {
            let () = cleanup.query_async(&mut conn).await?;
        }
        Ok(())
    }
}

/// The PostgreSQL server to create the bench database on (as for the tests).
fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with `sslmode=disable` when its server is on this host (loopback) and it
/// sets no `sslmode` itself: the README's advice for a database on the same host.
/// The service's processes, the bench's own connection and pgbench all use it, so
/// the API and its floor pay the same; TLS on loopback cost the worker ~0.15 s of
/// handshakes at start and ~10 µs of CPU per email in PostgreSQL and in `portal`.
fn same_host_without_tls(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback || parsed.query_pairs().any(|(k, _)| k == "sslmode") {
        return url.to_owned();
    }
    let joiner = if parsed.query().is_some() { '&' } else { '?' };
    format!("{url}{joiner}sslmode=disable")
}

/// apalis's list of queues, shared by every prefix on the server.
const QUEUES_LIST: &str = "core:apalis:queues:list";

/// The Redis server (as for the tests).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}
