//! Prints rough figures for the resend path and the email pipeline (production mode:
//! PostgreSQL, Redis, a real SMTP sink). Not a test: nothing is asserted.
//!
//!     cargo run --release -p portal-tests --example pipeline_figures [-- CLIENTS]
use portal_tests::{Backend, Queue, spawn_mail_app};
use std::time::{Duration, Instant};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let clients: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[("LOG_FORMAT", "json")]).await;
    let provider = app.signed_in_provider("Figures").await;
    let mut ids = Vec::with_capacity(clients);
    for i in 0..clients {
        let body = app
            .graphql(
                "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }",
                serde_json::json!({ "i": { "firstName": "C", "lastName": format!("{i}"), "email": format!("c{i}@example.com"), "sendInvite": false } }),
                Some(&provider.token),
            )
            .await;
        ids.push(
            body["data"]["createClient"]["client"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    let started = Instant::now();
    let mut latencies = Vec::with_capacity(clients);
    for id in &ids {
        let t = Instant::now();
        let body = app.resend(&provider.token, id).await;
        assert!(body["errors"].is_null(), "{body}");
        latencies.push(t.elapsed());
    }
    let sending = started.elapsed();
    while app.smtp().messages().len() < clients {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drained = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!("resendWelcomeEmail over HTTP, one at a time, {clients} clients:");
    println!(
        "  p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(pct(1.0))
    );
    println!("email pipeline, one worker (8 concurrent jobs), SMTP on loopback:");
    println!(
        "  {clients} emails accepted by SMTP {:.2} s after the first resend ({:.0} emails/s; resends took {:.2} s)",
        drained.as_secs_f64(),
        clients as f64 / drained.as_secs_f64(),
        sending.as_secs_f64()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
