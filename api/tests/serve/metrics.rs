//! `/metrics` of the real `portal serve`: HELP for every family, refusals at 0 from
//! the start, and the counters a capped resend and wrong passwords move.
use super::support::*;
use std::time::Duration;

/// Every family named in the README's Monitoring section, as `/metrics` shows it
/// once the service has answered a request and sent an email.
const FAMILIES: &[&str] = &[
    "http_requests_total",
    "http_request_duration_seconds",
    "graphql_operation_duration_seconds",
    "graphql_errors_total",
    "resend_cap_refusals_total",
    "abuse_limit_refusals_total",
    "sign_in_failures_total",
    "db_pool_connections",
    "email_deliveries_total",
    "email_delivery_latency_seconds",
    "email_outbox_emails",
    "email_outbox_oldest_queued_seconds",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
];

async fn metrics(url: &str) -> String {
    let resp = reqwest::get(format!("{url}/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

/// The value of the sample `series` (name with labels, as rendered), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_have_help_start_refusals_at_zero_and_count_a_capped_resend_and_sign_in_failures() {
    let dir = tempfile::tempdir().unwrap();
    create_provider(dir.path());
    let (_serving, url, _, rest) = serve(dir.path(), &[("RESEND_LIMIT", "1")]);
    std::thread::spawn(move || rest.for_each(drop));

    // Before anything happened: the refusal counters are there, at 0.
    let first = metrics(&url).await;
    for series in [
        r#"resend_cap_refusals_total{cap="provider"}"#,
        r#"resend_cap_refusals_total{cap="self_service"}"#,
        r#"abuse_limit_refusals_total{action="sign_in"}"#,
        r#"abuse_limit_refusals_total{action="password_reset"}"#,
        r#"sign_in_failures_total{account="provider"}"#,
        r#"email_deliveries_total{kind="welcome",outcome="failed"}"#,
    ] {
        assert_eq!(sample(&first, series), Some(0.0), "{series} in\n{first}");
    }

    let token = sign_in(&url, PASSWORD).await["data"]["signIn"]["token"]
        .as_str()
        .expect("signed in")
        .to_owned();
    let create = r#"mutation { createClient(input: {firstName: "Jane", lastName: "Doe", email: "jane@example.com"}) { client { id } } }"#;
    let created = post(&url, create, Some(&token)).await;
    let id = created["data"]["createClient"]["client"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    wait_for_eml(&dir.path().join("mail"));
    let resend = format!(
        r#"mutation Resend {{ resendWelcomeEmail(clientId: "{id}") {{ resendsRemaining }} }}"#
    );
    // RESEND_LIMIT=1: at most two tries until the cap refuses.
    let mut refused = false;
    for _ in 0..2 {
        let body = post(&url, &resend, Some(&token)).await;
        if body["errors"][0]["extensions"]["code"] == "RATE_LIMITED" {
            refused = true;
            break;
        }
    }
    assert!(refused, "the cap never refused");
    // Wrong passwords until the abuse limit refuses (5 per account and IP).
    let mut wrong = 0;
    for _ in 0..8 {
        let body = sign_in(&url, "not the password at all").await;
        match body["errors"][0]["extensions"]["code"].as_str() {
            Some("UNAUTHENTICATED") => wrong += 1,
            Some("RATE_LIMITED") => break,
            other => panic!("{other:?}: {body}"),
        }
    }

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = metrics(&url).await;
        let sent = sample(
            &text,
            r#"email_deliveries_total{kind="welcome",outcome="sent"}"#,
        );
        let outbox = text.contains("email_outbox_emails{");
        if sent.is_some_and(|n| n >= 1.0) && outbox || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let refusals = r#"resend_cap_refusals_total{cap="provider"}"#;
    assert_eq!(sample(&text, refusals), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, r#"graphql_errors_total{code="RATE_LIMITED"}"#),
        Some(2.0),
        "{text}"
    );
    let failures = r#"sign_in_failures_total{account="provider"}"#;
    assert_eq!(sample(&text, failures), Some(f64::from(wrong)), "{text}");
    let limited = r#"abuse_limit_refusals_total{action="sign_in"}"#;
    assert_eq!(sample(&text, limited), Some(1.0), "{text}");
    // Every family has HELP and a TYPE; latencies are histograms with buckets.
    for family in FAMILIES {
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "no HELP for {family}:\n{text}"
        );
    }
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split_whitespace().nth(2).unwrap();
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP for {name}"
        );
        assert!(!line.ends_with(" summary"), "a summary: {line}");
    }
    assert!(
        text.contains(
            r#"graphql_operation_duration_seconds_bucket{operation="Resend",le="0.005"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains("email_delivery_latency_seconds_bucket{"),
        "{text}"
    );
}
