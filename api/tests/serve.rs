//! `portal serve` as a user runs it: embedded with nothing set, and its JSON logs.
mod support;

use std::time::Duration;
use support::*;

#[path = "serve/metrics.rs"]
mod metrics;

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
    // Run from a cargo target directory, the banner names the command that works in a
    // source checkout (no `portal` is on the PATH there).
    let command = r#"cargo run -p portal-api -- create-provider --organization "My Practice" --email you@example.com --name "Your Name""#;
    assert!(lines.iter().any(|l| l.trim() == command), "{lines:?}");
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_request_ids_and_never_a_password_or_token() {
    let dir = tempfile::tempdir().unwrap();
    create_provider(dir.path());
    let (serving, url, banner, rest) = serve_raw(
        dir.path(),
        &["serve"],
        &[("LOG_FORMAT", "json"), ("RUST_LOG", "debug")],
    );
    // Drain the log pipe concurrently so a chatty server never blocks on it.
    let reader = std::thread::spawn(move || rest.collect::<Vec<String>>());
    let wrong = "wrong-password-marker-7f3a9c";
    let failing = format!(
        r#"mutation SignInWrong {{ signIn(input: {{email: "doc@sunrise.test", password: "{wrong}"}}) {{ token }} }}"#
    );
    assert_eq!(
        post(&url, &failing, None).await["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let token = sign_in(&url, PASSWORD).await["data"]["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    post(
        &url,
        "query ClientCount { clients { totalCount } }",
        Some(&token),
    )
    .await;
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
    let logs: Vec<String> = banner.into_iter().chain(reader.join().unwrap()).collect();
    // Nothing but JSON on stdout, each line flat with the fields log pipelines index.
    let lines: Vec<serde_json::Value> = logs
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    for line in &lines {
        for field in ["timestamp", "level", "message"] {
            assert!(line[field].is_string(), "no {field}: {line}");
        }
    }
    assert!(
        lines.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("portal-access listening on"))),
        "{logs:?}"
    );
    let finished: Vec<_> = lines
        .iter()
        .filter(|l| l["message"] == "request finished")
        .collect();
    assert!(finished.len() >= 4, "{logs:?}");
    assert!(
        finished.iter().all(|l| l["request_id"].is_string()),
        "{finished:?}"
    );
    // The access line of a GraphQL request names the operation and its error codes.
    let wrong_line = finished
        .iter()
        .find(|l| l["operation"] == "SignInWrong")
        .unwrap_or_else(|| panic!("no access line for SignInWrong: {finished:?}"));
    assert_eq!(wrong_line["error_codes"], "UNAUTHENTICATED", "{wrong_line}");
    assert_eq!(wrong_line["path"], "/graphql", "{wrong_line}");
    let count_line = finished
        .iter()
        .find(|l| l["operation"] == "ClientCount")
        .unwrap_or_else(|| panic!("no access line for ClientCount: {finished:?}"));
    assert_eq!(count_line["error_codes"], "", "{count_line}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_exits_0_when_ready_and_1_when_nothing_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (_serving, url, _, rest) = serve(dir.path(), &[]);
    std::thread::spawn(move || rest.for_each(drop));
    let port = url.rsplit(':').next().unwrap().to_owned();
    // By default it asks /readyz on BIND; 0.0.0.0 means this machine.
    let ready = portal(dir.path())
        .arg("healthcheck")
        .env("BIND", format!("0.0.0.0:{port}"))
        .output()
        .unwrap();
    assert!(
        ready.status.success(),
        "{}",
        String::from_utf8_lossy(&ready.stderr)
    );
    let by_url = portal(dir.path())
        .args(["healthcheck", "--url", &format!("{url}/readyz")])
        .output()
        .unwrap();
    assert!(by_url.status.success());
    // A port nothing listens on (just released by this test), and a route that 404s.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    for target in [
        format!("http://127.0.0.1:{closed_port}/readyz"),
        format!("{url}/no-such-page"),
    ] {
        let out = portal(dir.path())
            .args(["healthcheck", "--url", &target])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{target}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

/// SIGTERM during the very first start (while migrations run on a new SQLite file)
/// once left a database on which every later start failed with `table "client"
/// already exists`. Whenever the first start is killed, the next one must work.
#[test]
fn a_first_start_killed_at_any_moment_leaves_a_database_the_next_start_can_use() {
    for delay_ms in [20, 50, 80, 120, 160, 200, 300, 400] {
        let dir = tempfile::tempdir().unwrap();
        let mut first = portal(dir.path())
            .arg("serve")
            .env("BIND", "127.0.0.1:0")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // The kill lands at a chosen moment of start-up; nothing to wait for.
        std::thread::sleep(Duration::from_millis(delay_ms));
        let pid = i32::try_from(first.id()).unwrap();
        // SAFETY: signalling our own child process by its pid.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let _ = first.wait();
        let next = portal(dir.path()).arg("migrate").output().unwrap();
        assert!(
            next.status.success(),
            "killed after {delay_ms} ms: {}",
            String::from_utf8_lossy(&next.stderr)
        );
    }
}
