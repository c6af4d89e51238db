//! The `portal` binary as an operator meets it: help, one-line config errors,
//! create-provider from stdin, and `serve` in embedded mode with nothing set up.
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple tuba";

fn portal(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portal"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    cmd
}

fn assert_one_line_error(out: &Output, variable: &str) {
    assert!(!out.status.success(), "should fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line, got: {stderr}");
    assert!(
        lines[0].starts_with(&format!("error: {variable}")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["worker", "--help"],
        vec!["migrate", "--help"],
        vec!["create-provider", "--help"],
        vec!["print-schema", "--help"],
    ] {
        let out = portal(dir.path()).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
    let help = portal(dir.path())
        .args(["create-provider", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--password-stdin"));
}

#[test]
fn bad_configuration_is_one_line_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    let cases: [(&str, &str, &str); 5] = [
        (
            "DATABASE_URL",
            "mysql://root:hunter2@db/portal",
            "DATABASE_URL",
        ),
        (
            "DATABASE_URL",
            "postgres://postgres:hunter2@127.0.0.1:1/portal",
            "DATABASE_URL",
        ),
        ("BIND", "localhost", "BIND"),
        ("BIND", &taken_addr, "BIND"),
        ("REDIS_URL", "http://redis", "REDIS_URL"),
    ];
    for (name, value, variable) in cases {
        let out = portal(dir.path())
            .arg("serve")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/x.db?mode=rwc", dir.path().display()),
            )
            .env(name, value)
            .output()
            .unwrap();
        assert_one_line_error(&out, variable);
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("hunter2"),
            "secret printed"
        );
    }
}

#[test]
fn create_provider_refuses_a_weak_password_and_never_takes_one_from_argv() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = portal(dir.path())
        .args([
            "create-provider",
            "--organization",
            "Sunrise",
            "--email",
            "doc@sunrise.test",
            "--name",
            "Dr Who",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"password123\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password refused"));
    let argv = portal(dir.path())
        .args(["create-provider", "--password", "x"])
        .output()
        .unwrap();
    assert!(!argv.status.success());
}

fn create_provider(dir: &std::path::Path) {
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

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `portal serve` with `BIND=127.0.0.1:0` and reads the URL it prints.
fn serve(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (
    Serving,
    String,
    Vec<String>,
    Box<dyn Iterator<Item = String> + Send>,
) {
    let mut child = portal(dir)
        .arg("serve")
        .env("BIND", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let serving = Serving(child);
    let mut lines = Vec::new();
    let started = Instant::now();
    let mut rest = BufReader::new(stdout).lines().map_while(Result::ok);
    for line in rest.by_ref() {
        lines.push(line.clone());
        if line.starts_with("Create a provider") || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    let url = lines
        .iter()
        .find_map(|l| l.strip_prefix("portal-access listening on "))
        .expect("serve prints its address")
        .to_owned();
    (serving, url, lines, Box::new(rest))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_embedded_with_nothing_set_and_a_cli_provider_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = portal(dir.path()).arg("migrate").output().unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    create_provider(dir.path());
    assert!(
        dir.path().join("portal.db").exists(),
        "default SQLite file in the working directory"
    );
    let (_serving, url, lines, _) = serve(dir.path(), &[]);
    assert!(lines.iter().any(|l| l.contains("/graphiql")), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("Embedded mode")),
        "{lines:?}"
    );
    let graphiql = reqwest::get(format!("{url}/graphiql")).await.unwrap();
    assert_eq!(graphiql.status(), 200);
    let token = sign_in(&url, PASSWORD).await["data"]["signIn"]["token"]
        .as_str()
        .expect("signed in")
        .to_owned();
    let created = post(
        &url,
        r#"mutation { createClient(input: {firstName: "Jane", lastName: "Doe", email: "jane@example.com"}) { client { id } } }"#,
        Some(&token),
    )
    .await;
    assert!(created["errors"].is_null(), "{created}");
    let listed = post(&url, "{ clients { totalCount } }", Some(&token)).await;
    assert_eq!(listed["data"]["clients"]["totalCount"], 1);

    // With nothing set, the welcome email lands as an .eml file under ./mail.
    let eml = wait_for_eml(&dir.path().join("mail"));
    assert!(eml.contains("To: jane@example.com"), "{eml}");
    assert!(eml.contains("Set up your"), "{eml}");
    assert!(eml.contains("multipart/alternative"), "{eml}");
}

/// Waits for the first `.eml` file in `mail_dir` and returns it.
fn wait_for_eml(mail_dir: &std::path::Path) -> String {
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
fn link_token(eml: &str) -> String {
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

async fn post(url: &str, query: &str, token: Option<&str>) -> serde_json::Value {
    let mut req = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .json(&serde_json::json!({ "query": query }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

async fn sign_in(url: &str, password: &str) -> serde_json::Value {
    let query = format!(
        r#"mutation {{ signIn(input: {{email: "doc@sunrise.test", password: "{password}"}}) {{ token }} }}"#
    );
    post(url, &query, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_request_ids_and_never_a_password_or_token() {
    let dir = tempfile::tempdir().unwrap();
    create_provider(dir.path());
    let (serving, url, _, rest) =
        serve(dir.path(), &[("LOG_FORMAT", "json"), ("RUST_LOG", "debug")]);
    // Drain the log pipe concurrently so a chatty server never blocks on it.
    let reader = std::thread::spawn(move || rest.collect::<Vec<String>>());
    let wrong = "wrong-password-marker-7f3a9c";
    assert!(sign_in(&url, wrong).await["errors"].is_array());
    let token = sign_in(&url, PASSWORD).await["data"]["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    post(&url, "{ clients { totalCount } }", Some(&token)).await;
    let create = r#"mutation { createClient(input: {firstName: "Jane", lastName: "Doe", email: "jane@example.com"}) { client { id } } }"#;
    post(&url, create, Some(&token)).await;
    let link = link_token(&wait_for_eml(&dir.path().join("mail")));
    // The page the email opens: its query string (the token) must not reach the log.
    let page = reqwest::get(format!("{url}/account/setup?token={link}"))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let client_password = "client-secret-marker-91be lantern";
    let status = format!(r#"{{ accountLink(token: "{link}") {{ state }} }}"#);
    assert_eq!(
        post(&url, &status, None).await["data"]["accountLink"]["state"],
        "VALID"
    );
    let complete = format!(
        r#"mutation {{ completeAccountLink(input: {{token: "{link}", password: "{client_password}"}}) {{ token }} }}"#
    );
    let done = post(&url, &complete, None).await;
    let client_token = done["data"]["completeAccountLink"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{done}"))
        .to_owned();
    post(&url, "mutation { signOut }", Some(&token)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(serving);
    let logs = reader.join().unwrap();
    let json_lines: Vec<serde_json::Value> = logs
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        json_lines.len() >= 4,
        "JSON log lines expected, got {logs:?}"
    );
    let finished: Vec<_> = json_lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request finished")
        .collect();
    assert!(finished.len() >= 4, "{logs:?}");
    assert!(
        finished.iter().all(|l| l["span"]["request_id"].is_string()),
        "{finished:?}"
    );
    let all = logs.join("\n");
    let secrets = [
        PASSWORD,
        wrong,
        token.as_str(),
        &token[4..],
        link.as_str(),
        &link[4..],
        client_password,
        client_token.as_str(),
    ];
    for secret in secrets {
        assert!(!all.contains(secret), "a secret reached the log");
    }
}

#[test]
fn print_schema_matches_the_committed_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = portal(dir.path()).arg("print-schema").output().unwrap();
    assert!(out.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql")).unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout) == committed,
        "run: portal print-schema > schema.graphql"
    );
}
