//! The real tools a bench run drives as separate processes, so that neither the load
//! nor the floors share anything with the service: `wrk` (HTTP load), `pgbench` (the
//! SQL floor, one connection per concurrent client) and postfix's `smtp-sink` (a fast
//! SMTP server). Debian: `apt-get install wrk postgresql-client postfix`.
use crate::load::Stats;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn floor_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("floor")
        .join(name)
}

/// Fails early, naming the package, when a tool is missing.
pub fn require_tools() -> Result<()> {
    for (tool, package) in [
        ("wrk", "wrk"),
        ("pgbench", "postgresql-client"),
        ("smtp-sink", "postfix"),
    ] {
        let found = Command::new("sh")
            .args([
                "-c",
                &format!("command -v {tool} || test -x /usr/sbin/{tool}"),
            ])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            bail!("the bench needs `{tool}`: apt-get install {package}");
        }
    }
    Ok(())
}

/// `wrk` running bench/floor/resend.lua against `url`, with `targets` ("token
/// client-id" per line) for `connections` connections and `duration`.
pub fn wrk_resend(
    url: &str,
    targets: &Path,
    connections: usize,
    duration: Duration,
) -> Result<Stats> {
    let targets = targets.display().to_string();
    wrk("resend.lua", url, &[&targets], 2, connections, duration)
}

/// `wrk` running bench/floor/sign_in.lua: `connections` connections signing in.
pub fn wrk_sign_in(
    url: &str,
    email: &str,
    password: &str,
    connections: usize,
    duration: Duration,
) -> Result<Stats> {
    wrk(
        "sign_in.lua",
        url,
        &[email, password],
        1,
        connections,
        duration,
    )
}

/// Runs a wrk script from bench/floor/ that prints a `RESULT` line.
fn wrk(
    script: &str,
    url: &str,
    args: &[&str],
    threads: usize,
    connections: usize,
    duration: Duration,
) -> Result<Stats> {
    let out = Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs()))
        .arg("--timeout=10s")
        .arg("-s")
        .arg(floor_file(script))
        .arg(url)
        .arg("--")
        .args(args)
        .output()
        .context("running wrk")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .with_context(|| {
            format!(
                "wrk printed no result: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let field = |name: &str| -> Result<f64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .with_context(|| format!("no {name} in {line}"))?
            .parse::<f64>()
            .context("a number")
    };
    let requests = field("requests")? as usize;
    let errors = field("errors")? as usize;
    Ok(Stats {
        requests: requests.saturating_sub(errors),
        errors,
        seconds: field("seconds")?,
        p50_ms: field("p50_us")? / 1000.0,
        p99_ms: field("p99_us")? / 1000.0,
    })
}

/// `pgbench` running `script` (bench/floor/resend*.sql) with one connection per
/// client, over `clients` seeded clients in `orgs` practices.
pub fn pgbench_resend(
    database_url: &str,
    script: &str,
    (clients, orgs): (usize, usize),
    connections: usize,
    duration: Duration,
) -> Result<Stats> {
    let logs = tempfile::tempdir()?;
    let out = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2"])
        .arg(format!("-c{connections}"))
        .arg(format!("-T{}", duration.as_secs()))
        .arg(format!("-Dclients={clients}"))
        .arg(format!("-Dorgs={orgs}"))
        .arg("-l")
        .arg(format!("--log-prefix={}", logs.path().join("tx").display()))
        .arg("-f")
        .arg(floor_file(script))
        .arg(database_url)
        .current_dir(logs.path())
        .output()
        .context("running pgbench")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "pgbench failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let failed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("number of failed transactions: "))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    // Each log line: client transaction latency_us script epoch epoch_us.
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(logs.path())? {
        let text = std::fs::read_to_string(entry?.path())?;
        for line in text.lines() {
            if let Some(us) = line
                .split_whitespace()
                .nth(2)
                .and_then(|v| v.parse::<u64>().ok())
            {
                latencies.push(Duration::from_micros(us));
            }
        }
    }
    Ok(Stats::from_latencies(
        latencies,
        failed,
        duration.as_secs_f64(),
    ))
}

/// postfix's `smtp-sink`, accepting every message, killed when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
}

impl SmtpSink {
    /// Starts it on a free loopback port (it cannot take port 0: a released port
    /// taken by someone else makes it exit, and it is retried on another).
    pub fn start() -> Result<Self> {
        let sink = if Path::new("/usr/sbin/smtp-sink").exists() {
            "/usr/sbin/smtp-sink"
        } else {
            "smtp-sink"
        };
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let mut child = Command::new(sink)
                .args(["-u", "nobody", "-m", "1000"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("1024")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting smtp-sink")?;
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(Self { child, port });
                }
                if child.try_wait()?.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        bail!("smtp-sink did not start")
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
