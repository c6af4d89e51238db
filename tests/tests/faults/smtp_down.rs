//! The mail server down while twenty emails are due, then back.
use super::support::tally;
use super::{addresses, invite_all, wait_settled};
use portal_tests::{Backend, Queue, ReservedPort, SmtpSink, spawn_mail_app};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_mail_server_down_twenty_emails_retry_then_each_arrives_once() {
    let port = ReservedPort::new();
    let url = format!("smtp://127.0.0.1:{}", port.port);
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[("SMTP_URL", &url)]).await;
    let provider = app.signed_in_provider("Practice").await;
    let to = addresses("down", 20);
    let ids = invite_all(&app, &provider.token, &to).await;

    // Every email is tried at least twice and is still waiting, as providers see it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut waiting = ids.clone();
    while !waiting.is_empty() && Instant::now() < deadline {
        let mut still = Vec::new();
        for id in waiting {
            let view = app.client_view(&provider.token, &id).await;
            let delivery = &view["emailDeliveries"][0];
            let retried = delivery["attempts"].as_i64().unwrap_or(0) >= 2;
            if retried {
                let status = delivery["status"].as_str().unwrap_or_default();
                assert!(["QUEUED", "SENDING"].contains(&status), "{view}");
                let reason = delivery["lastError"].as_str().unwrap_or_default();
                assert!(reason.contains("SMTP"), "{view}");
            } else {
                still.push(id);
            }
        }
        waiting = still;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(waiting.is_empty(), "not retried: {waiting:?}");

    let sink = SmtpSink::start_on(port).expect("the held port listens");
    let up = Instant::now();
    let counts = wait_settled(&app.state.db, Duration::from_secs(60)).await;
    assert_eq!(counts.get("sent"), Some(&20), "{counts:?}");
    let result = tally(&sink, &to);
    println!(
        "smtp down: lost {}, duplicated {} of 20 (all sent {:.1}s after the server came up)",
        result.lost,
        result.duplicated,
        up.elapsed().as_secs_f64()
    );
    assert_eq!(result.lost, 0);
    assert_eq!(result.duplicated, 0, "each email once");
}
