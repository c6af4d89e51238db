//! Redis killed mid-run (queue, resend window and all, as it keeps nothing on disk)
//! and started again empty on the same port.
use super::support::{RedisServer, tally};
use super::{addresses, invite_all, wait_settled};
use entity::{audit_event, email_delivery};
use portal_tests::{Backend, Queue, TestApp, error_code, spawn_mail_app};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::time::{Duration, Instant};

/// Rows written for one client: (email deliveries, audit events).
async fn rows_of(app: &TestApp, client_id: &str) -> (u64, u64) {
    let id = uuid::Uuid::parse_str(client_id).expect("client id");
    let deliveries = email_delivery::Entity::find()
        .filter(email_delivery::Column::ClientId.eq(id))
        .count(&app.state.db)
        .await
        .expect("count deliveries");
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::ClientId.eq(id))
        .count(&app.state.db)
        .await
        .expect("count audit events");
    (deliveries, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stopped_the_api_refuses_cleanly_and_recovers_by_itself() {
    let mut redis = RedisServer::start().await;
    let url = redis.url();
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[("REDIS_URL", &url)]).await;
    let provider = app.signed_in_provider("Practice").await;
    let before = addresses("before", 20);
    let ids = invite_all(&app, &provider.token, &before).await;

    // Killed while those 20 are still going out: the queue in Redis is gone.
    redis.stop();
    let resent = &ids[0];
    let rows = rows_of(&app, resent).await;
    let refused =
        tokio::time::timeout(Duration::from_secs(15), app.resend(&provider.token, resent))
            .await
            .expect("answered within seconds, not hung");
    assert_eq!(
        error_code(&refused),
        Some("SERVICE_UNAVAILABLE"),
        "{refused}"
    );
    assert_eq!(rows_of(&app, resent).await, rows, "nothing written half");

    // Invites still work: the rows are the outbox, the sweeper pushes them later.
    let during = addresses("during", 10);
    invite_all(&app, &provider.token, &during).await;

    // Back on the same port, empty; the same process recovers on its own.
    redis.restart().await;
    let restarted = Instant::now();
    let mut answer = serde_json::Value::Null;
    for _ in 0..60 {
        answer = app.resend(&provider.token, resent).await;
        match error_code(&answer) {
            Some("SERVICE_UNAVAILABLE") => tokio::time::sleep(Duration::from_millis(250)).await,
            _ => break,
        }
    }
    let recovered = restarted.elapsed();
    assert!(
        answer["errors"].is_null(),
        "the resend goes through: {answer}"
    );

    let counts = wait_settled(&app.state.db, Duration::from_secs(60)).await;
    let drained = restarted.elapsed();
    assert!(
        !counts.contains_key("queued") && !counts.contains_key("sending"),
        "{counts:?}"
    );
    assert!(!counts.contains_key("failed"), "{counts:?}");
    // The resent client may have two emails by design; count everyone else.
    let others: Vec<String> = before[1..].iter().chain(&during).cloned().collect();
    let result = tally(app.smtp(), &others);
    let resent_got = app.smtp().messages_to(&before[0]).len();
    println!(
        "redis down: lost {}, duplicated {} of {} (API answering {:.1}s after restart, outbox drained {:.1}s after; resent client got {resent_got})",
        result.lost,
        result.duplicated,
        others.len(),
        recovered.as_secs_f64(),
        drained.as_secs_f64()
    );
    assert_eq!(result.lost, 0, "{counts:?}");
    assert!(resent_got >= 1);
    assert_eq!(
        result.duplicated, 0,
        "no worker died, so nothing was sent twice"
    );
}
