//! What the binary tests share: running `portal` in a directory of its own,
//! serving it on a free port, and reading what it writes.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct horse battery staple tuba";
pub fn portal(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portal"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Never the default 127.0.0.1:8000: the reader's own `serve` may be on it, and
        // tests running side by side would take it from each other.
        .env("BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn");
    cmd
}
pub fn create_provider(dir: &std::path::Path) {
    let mut child = portal(dir)
        .args([
            "create-provider",
            "--organization",
            "Sunrise Clinic",
            "--email",
            "Doc@Sunrise.test",
            "--name",
            "Dr Who",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Created provider"), "{stdout}");
    assert!(!stdout.contains(PASSWORD) && !stdout.contains("argon2"));
}

pub struct Serving(pub Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `portal serve` with `BIND=127.0.0.1:0` and reads the URL it prints; the
/// banner's lines come back as text (with `LOG_FORMAT=json`, the messages).
pub fn serve(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (
    Serving,
    String,
    Vec<String>,
    Box<dyn Iterator<Item = String> + Send>,
) {
    let (serving, url, raw, rest) = serve_raw(dir, &["serve"], env);
    let lines = raw.iter().flat_map(|l| plain(l)).collect();
    (serving, url, lines, rest)
}

/// A stdout line as text: a JSON log line's message, or the line itself.
pub fn plain(line: &str) -> Vec<String> {
    let text = match serde_json::from_str::<serde_json::Value>(line) {
        Ok(json) => json["message"].as_str().unwrap_or_default().to_owned(),
        Err(_) => line.to_owned(),
    };
    text.lines().map(str::to_owned).collect()
}

/// Starts `portal <args>` (serve) and reads stdout up to the end of its banner;
/// returns the lines read as written and the rest of stdout.
pub fn serve_raw(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (
    Serving,
    String,
    Vec<String>,
    Box<dyn Iterator<Item = String> + Send>,
) {
    let mut child = portal(dir)
        .args(args)
        .env("BIND", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let serving = Serving(child);
    let mut raw = Vec::new();
    let started = Instant::now();
    let mut rest = BufReader::new(stdout).lines().map_while(Result::ok);
    for line in rest.by_ref() {
        raw.push(line.clone());
        // The banner ends with the command that creates a provider.
        if line.contains("create-provider") || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    let url = raw
        .iter()
        .flat_map(|l| plain(l))
        .find_map(|l| {
            l.strip_prefix("portal-access listening on ")
                .map(str::to_owned)
        })
        .expect("serve prints its address");
    (serving, url, raw, Box::new(rest))
}
/// Waits for the first `.eml` file in `mail_dir` and returns it.
pub fn wait_for_eml(mail_dir: &std::path::Path) -> String {
    let started = Instant::now();
    loop {
        let found = std::fs::read_dir(mail_dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "eml"));
        if let Some(path) = found {
            return std::fs::read_to_string(path).unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no .eml written"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The link token in an email's decoded text part.
pub fn link_token(eml: &str) -> String {
    let message = mail_parser::MessageParser::default()
        .parse(eml.as_bytes())
        .unwrap();
    let text = message.body_text(0).unwrap().into_owned();
    let start = text.find("token=").unwrap() + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

pub async fn post(url: &str, query: &str, token: Option<&str>) -> serde_json::Value {
    let mut req = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .json(&serde_json::json!({ "query": query }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

pub async fn sign_in(url: &str, password: &str) -> serde_json::Value {
    let query = format!(
        r#"mutation {{ signIn(input: {{email: "doc@sunrise.test", password: "{password}"}}) {{ token }} }}"#
    );
    post(url, &query, None).await
}
