//! Every test's logs, as JSON, scanned for secrets and health information.
//!
//! The harness installs one JSON log layer for the whole test process (the service
//! in production logs JSON the same way) and keeps every line. Whatever the harness
//! sees pass by that must never be logged (passwords sent, session and link tokens
//! received, message bodies and form answers) is registered as a secret. Each app's
//! drop scans the lines written since against every secret, and the old lines
//! against the new secrets, so every test in the suite is also a log-leak test.
use serde_json::Value;
use std::io::Write;
use std::sync::{Mutex, Once};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};

/// Strings shorter than this are not tracked: they would match by chance.
const MIN_SECRET_LEN: usize = 8;
/// The start of every stored password hash (argon2id PHC string).
const ARGON2_PHC: &str = "$argon2id$";

#[derive(Default)]
struct Scan {
    lines: Vec<String>,
    secrets: Vec<String>,
    checked_lines: usize,
    checked_secrets: usize,
}

static SCAN: Mutex<Scan> = Mutex::new(Scan {
    lines: Vec::new(),
    secrets: Vec::new(),
    checked_lines: 0,
    checked_secrets: 0,
});

fn scan() -> std::sync::MutexGuard<'static, Scan> {
    SCAN.lock().unwrap_or_else(|p| p.into_inner())
}

/// Appends each formatted JSON line to the scan.
#[derive(Clone, Copy)]
struct Capture;

struct LineWriter(Vec<u8>);

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let mut scan = scan();
        scan.lines
            .extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(Vec::new())
    }
}

/// Installs the process-wide subscriber: JSON into the scan (info, and debug or
/// trace for the service's crates and the libraries that touch requests and mail) and readable lines into the
/// test's captured output (`RUST_LOG`, default info).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        secret(crate::PASSWORD);
        secret(crate::mail::CLIENT_PASSWORD);
        let scanned = EnvFilter::new(
            "info,portal_api=trace,jobs=trace,apalis=debug,apalis_core=debug,apalis_redis=debug,\
             lettre=debug,async_graphql=debug,poem=debug,sqlx=warn,sea_orm=warn,\
             portal_tests=off,mailin_embedded=off,mailin=off",
        );
        // A line for every span opened, so a span's fields are scanned even when no
        // event happens inside it.
        let json = fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_span_events(fmt::format::FmtSpan::NEW)
            .with_writer(Capture)
            .with_filter(scanned);
        let shown = EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
        let pretty = fmt::layer()
            .with_target(false)
            .with_test_writer()
            .with_filter(shown);
        let _ = tracing_subscriber::registry()
            .with(json)
            .with(pretty)
            .try_init();
    });
}

/// Adds another process's log (a `portal worker` child) to the scan.
pub fn ingest(log: &str) {
    let mut scan = scan();
    scan.lines
        .extend(log.lines().filter(|l| !l.is_empty()).map(str::to_owned));
}

/// Remembers a string that must never appear in a log.
pub fn secret(value: &str) {
    let value = value.trim();
    if value.len() >= MIN_SECRET_LEN {
        let mut scan = scan();
        if !scan.secrets.iter().any(|s| s == value) {
            scan.secrets.push(value.to_owned());
        }
    }
}

/// Registers what the database holds that no log may show: password hashes, and
/// client email addresses. Runs at an app's drop, on a thread of its own (drop is
/// not async), before the scan.
pub fn stored_secrets(database_url: &str) {
    use sea_orm::{Database, EntityTrait};
    let url = database_url.to_owned();
    let found = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(async {
            let db = Database::connect(url).await.ok()?;
            let clients = entity::client::Entity::find().all(&db).await.ok()?;
            let providers = entity::provider::Entity::find().all(&db).await.ok()?;
            let mut found: Vec<String> = Vec::new();
            for c in clients {
                found.extend(c.password_hash);
                found.extend(c.email);
            }
            found.extend(providers.into_iter().map(|p| p.password_hash));
            Some(found)
        })
    })
    .join()
    .ok()
    .flatten()
    .unwrap_or_default();
    for value in found {
        secret(&value);
    }
}

/// Argument and field names whose string values are secrets or health information.
fn is_sensitive(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    // Operation and flag names (`setClientPassword`, `mustChangePassword`) name a
    // password without holding one.
    let names_one = ["set", "change", "request", "must", "require"]
        .iter()
        .any(|verb| key.starts_with(verb));
    (key.contains("password") && !names_one)
        || key == "token"
        || key == "body"
        || key == "answers"
        || key == "email"
}

/// Registers every sensitive value in a request's variables or a response's data.
pub fn secrets_in(value: &Value) {
    fn strings(v: &Value) {
        match v {
            Value::String(s) => secret(s),
            Value::Array(items) => items.iter().for_each(strings),
            Value::Object(map) => map.values().for_each(strings),
            _ => {}
        }
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if is_sensitive(key) {
                    strings(v);
                } else {
                    secrets_in(v);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(secrets_in),
        _ => {}
    }
}

/// Registers the secrets of one GraphQL request: sensitive keys anywhere in the
/// variables, and variables passed to sensitive arguments (`password: $p`).
pub fn secrets_in_request(query: &str, variables: &Value) {
    secrets_in(variables);
    let Value::Object(vars) = variables else {
        return;
    };
    for (i, _) in query.match_indices(": $") {
        let argument: String = query[..i]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let variable: String = query[i + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if is_sensitive(&argument)
            && let Some(value) = vars.get(&variable)
        {
            secrets_in(&serde_json::json!({ argument: value }));
        }
    }
}

/// What a scan covered so far.
#[derive(Debug, Clone, Copy)]
pub struct Coverage {
    pub lines: usize,
    pub secrets: usize,
}

/// Scans what has not been scanned yet; returns each leak as a redacted description.
pub fn leaks() -> (Vec<String>, Coverage) {
    let mut scan = scan();
    let mut found = Vec::new();
    let (old_lines, old_secrets) = (scan.checked_lines, scan.checked_secrets);
    for (i, line) in scan.lines.iter().enumerate() {
        // Password hashes are recognisable by form, whichever hash it was.
        if i >= old_lines && line.contains(ARGON2_PHC) {
            let shown: String = line.chars().take(200).collect();
            found.push(format!("a password hash was logged: {shown}…"));
        }
        let secrets = if i < old_lines {
            &scan.secrets[old_secrets..]
        } else {
            &scan.secrets[..]
        };
        for s in secrets.iter().filter(|s| line.contains(s.as_str())) {
            let shown: String = line
                .replace(s.as_str(), "«SECRET»")
                .chars()
                .take(400)
                .collect();
            let hint: String = s.chars().take(4).collect();
            found.push(format!("a secret starting {hint:?} was logged: {shown}"));
        }
    }
    scan.checked_lines = scan.lines.len();
    scan.checked_secrets = scan.secrets.len();
    let coverage = Coverage {
        lines: scan.lines.len(),
        secrets: scan.secrets.len(),
    };
    (found, coverage)
}

/// Panics, naming the lines, if any secret reached a log (not while already panicking).
pub fn assert_no_leaks() -> Coverage {
    let (found, coverage) = leaks();
    if !found.is_empty() && !std::thread::panicking() {
        panic!("{} log leak(s):\n{}", found.len(), found.join("\n"));
    }
    coverage
}
