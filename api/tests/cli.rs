//! The `portal` binary as an operator meets it: help, one-line config errors,
//! create-provider from stdin, and the printed schema (serving is in `serve.rs`).
mod support;

use std::io::Write;
use std::process::{Output, Stdio};
use support::portal;

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
        vec!["healthcheck", "--help"],
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
    let cases: [(&str, &str, &str); 10] = [
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
        (
            "PUBLIC_URL",
            "https://portal.example@evil.example",
            "PUBLIC_URL",
        ),
        ("PUBLIC_URL", "https://portal example", "PUBLIC_URL"),
        ("RESEND_WINDOW_SECS", "10000000000000", "RESEND_WINDOW_SECS"),
        ("ABUSE_LIMIT_SCALE", "1000000000", "ABUSE_LIMIT_SCALE"),
        (
            "TRUSTED_PROXIES",
            "10.0.0.0/8, proxy.internal",
            "TRUSTED_PROXIES",
        ),
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
fn production_refuses_to_start_with_trial_settings() {
    let dir = tempfile::tempdir().unwrap();
    // Each step fixes the previous refusal; the last one names the next variable.
    let steps: [(&str, &str, &str); 5] = [
        ("APP_ENV", "production", "DATABASE_URL"),
        (
            "DATABASE_URL",
            "postgres://portal:portal@127.0.0.1:1/portal",
            "DATABASE_URL",
        ),
        (
            "DATABASE_URL",
            "postgres://portal:hunter2-long@127.0.0.1:1/portal",
            "REDIS_URL",
        ),
        ("REDIS_URL", "redis://127.0.0.1:1", "SMTP_URL"),
        ("SMTP_URL", "file:///tmp/mail", "SMTP_URL"),
    ];
    let mut cmd = portal(dir.path());
    cmd.arg("serve");
    for (name, value, refused) in steps {
        cmd.env(name, value);
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        assert_one_line_error(&out, refused);
        assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
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
    // Every required argument is there, so `--password` itself is the reason.
    let argv = portal(dir.path())
        .args([
            "create-provider",
            "--organization",
            "Sunrise",
            "--email",
            "doc@sunrise.test",
            "--name",
            "Dr Who",
            "--password",
            support::PASSWORD,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!argv.status.success());
    let stderr = String::from_utf8_lossy(&argv.stderr);
    assert!(
        stderr.contains("unexpected argument '--password'"),
        "{stderr}"
    );
    assert!(!stderr.contains("required"), "{stderr}");
    assert!(!String::from_utf8_lossy(&argv.stdout).contains("Created provider"));
}
#[test]
fn create_provider_refuses_links_and_hidden_characters_in_names() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [
        ("--organization", "Sunrise https://evil.example/verify"),
        ("--organization", "Sunrise\u{202e}cinilC"),
        ("--name", "Dr Who www.evil.example"),
        ("--name", "Dr\u{200b}Who"),
    ] {
        let mut args = vec![
            "create-provider",
            "--organization",
            "Sunrise",
            "--email",
            "doc@sunrise.test",
            "--name",
            "Dr Who",
            "--password-stdin",
        ];
        let at = args.iter().position(|a| *a == flag).unwrap() + 1;
        args[at] = value;
        let mut child = portal(dir.path())
            .args(&args)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = format!("{}\n", support::PASSWORD);
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flag} {value:?} was accepted");
        assert!(stderr.contains(&format!("{flag}:")), "{stderr}");
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

/// The container files as an operator relies on them (there is no Docker engine
/// here to build them; `docker-compose config -q` checks the syntax).
#[test]
fn the_image_and_compose_file_keep_their_operational_promises() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |name: &str| std::fs::read_to_string(root.join(name)).unwrap();
    let dockerfile = read("Dockerfile");
    let user = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        user.split(':')
            .all(|id| id.parse::<u32>().is_ok_and(|n| n > 0)),
        "numeric non-root user: {user}"
    );
    assert!(dockerfile.contains(r#"CMD ["portal", "healthcheck"]"#));
    let first_build = dockerfile.find("cargo build").unwrap();
    let sources = dockerfile.find("COPY . .").unwrap();
    assert!(
        first_build < sources,
        "dependencies build before the sources"
    );
    let ignored = read(".dockerignore");
    for entry in ["/target", ".env", "/.git"] {
        assert!(ignored.lines().any(|l| l == entry), "{entry}");
    }

    let compose = read("docker-compose.yml");
    let services = compose.split("\nservices:\n").nth(1).unwrap();
    let services = services.split("\nvolumes:").next().unwrap();
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in services.lines() {
        match line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            Some(name) if !name.starts_with(' ') => blocks.push((name.to_owned(), String::new())),
            _ => {
                if let Some((_, body)) = blocks.last_mut() {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    let names: Vec<&str> = blocks.iter().map(|(n, _)| n.as_str()).collect();
    for expected in ["postgres", "redis", "mailpit", "migrate", "api", "worker"] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    for (name, body) in &blocks {
        assert!(
            body.contains("    restart: "),
            "{name} has a restart policy"
        );
        let image = body
            .lines()
            .find_map(|l| l.trim().strip_prefix("image: "))
            .unwrap_or_else(|| panic!("{name} names its image"));
        let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
        assert!(
            !tag.is_empty() && tag != "latest",
            "{name}: pinned tag, got {image}"
        );
    }
    let block = |name: &str| &blocks.iter().find(|(n, _)| n == name).unwrap().1;
    assert!(block("migrate").contains(r#"command: ["migrate"]"#));
    for (name, check) in [
        ("api", r#""healthcheck"]"#),
        ("worker", r#""healthcheck", "--worker"]"#),
    ] {
        let body = block(name);
        assert!(
            body.contains("service_completed_successfully"),
            "{name} waits for migrate"
        );
        assert!(body.contains(check), "{name} health check");
    }
    // The one-shot service runs a command the binary has.
    let dir = tempfile::tempdir().unwrap();
    let help = portal(dir.path())
        .args(["migrate", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
}
