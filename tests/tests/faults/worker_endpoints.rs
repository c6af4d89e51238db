//! `portal worker`'s own endpoints on `WORKER_BIND`, as an orchestrator and
//! Prometheus see them: ready only while the mail server answers, and metrics with
//! the delivery families; its stdout holds nothing but JSON log lines.
use super::support::{Process, start_worker};
use portal_tests::{Backend, Queue, ReservedPort, SmtpSink, spawn_mail_app_with};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// A TCP relay to the SMTP sink on a port of the test's: the mail server as the
/// worker sees it, which the test can take away (mailin-embedded cannot stop).
struct Relay(JoinHandle<()>);

impl Relay {
    fn start(listener: std::net::TcpListener, to: u16) -> Self {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        Self(tokio::spawn(async move {
            // Dropped with the task: every relayed connection ends with it.
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(("127.0.0.1", to)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        }))
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The URL the worker announces for its endpoints.
async fn endpoints(worker: &mut Process) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let announced = worker.stdout().lines().find_map(|l| {
            let line: serde_json::Value = serde_json::from_str(l).ok()?;
            let message = line["message"].as_str()?;
            Some(message.split_once("health and metrics on ")?.1.to_owned())
        });
        if let Some(url) = announced {
            return url;
        }
        assert!(!worker.exited(), "worker exited: {}", worker.log());
        assert!(Instant::now() < deadline, "no address: {}", worker.stdout());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `/readyz` until it answers `status` (at most 20 s); returns the body.
async fn readiness(url: &str, status: u16) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let resp = reqwest::get(format!("{url}/readyz")).await.unwrap();
        let got = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap();
        if got == status {
            return body;
        }
        assert!(Instant::now() < deadline, "readyz stayed {got}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_is_ready_only_while_the_mail_server_answers_and_exports_its_deliveries() {
    let port = ReservedPort::new();
    let held = port.port;
    let smtp_url = format!("smtp://127.0.0.1:{held}");
    let env = [("SMTP_URL", smtp_url.as_str())];
    let app = spawn_mail_app_with(Backend::Postgres, Queue::Redis, &env, false).await;
    let mut worker = start_worker(&app, &smtp_url);
    let url = endpoints(&mut worker).await;
    let live = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(live.status(), 200);

    // Nothing listens on the mail server's port yet.
    let down = readiness(&url, 503).await;
    assert_eq!(down["smtp"], "unavailable", "{down}");
    assert_eq!(down["database"], "ok", "{down}");
    assert_eq!(down["redis"], "ok", "{down}");

    let sink = SmtpSink::start();
    let relay = Relay::start(port.listen().unwrap(), sink.port);
    let up = readiness(&url, 200).await;
    assert_eq!(up["smtp"], "ok", "{up}");

    let provider = app.signed_in_provider("Practice").await;
    app.invite_client(&provider.token, "Jane", "jane@example.com")
        .await;
    sink.wait_for("jane@example.com", 1).await;
    let sent = r#"email_deliveries_total{kind="welcome",outcome="sent"} 1"#;
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = reqwest::get(format!("{url}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains(sent) || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(text.contains(sent), "{text}");
    for family in [
        "email_deliveries_total",
        "email_delivery_latency_seconds",
        "email_outbox_emails",
        "db_pool_connections",
        "process_resident_memory_bytes",
    ] {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family}: {text}"
        );
    }
    assert!(
        text.contains(r#"email_delivery_latency_seconds_bucket{kind="welcome",le="+Inf"} 1"#),
        "{text}"
    );
    let failed = r#"email_deliveries_total{kind="welcome",outcome="failed"} 0"#;
    assert!(text.contains(failed), "{text}");

    // The mail server goes away: not ready again.
    drop(relay);
    let gone = readiness(&url, 503).await;
    assert_eq!(gone["smtp"], "unavailable", "{gone}");

    // LOG_FORMAT=json: every line on stdout is a flat JSON log line.
    let stdout = worker.stdout();
    assert!(stdout.lines().count() >= 3, "{stdout}");
    for line in stdout.lines() {
        let json: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        for field in ["timestamp", "level", "message"] {
            assert!(json[field].is_string(), "no {field}: {line}");
        }
    }
    let access = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["message"] == "request finished" && l["path"] == "/readyz")
        .unwrap_or_else(|| panic!("no access line: {stdout}"));
    assert!(access["request_id"].is_string(), "{access}");
}
