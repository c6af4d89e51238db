//! Fault injection with real processes on loopback: a worker killed with `kill -9`,
//! Redis stopped mid-run or evicting keys, PostgreSQL connections dropped, the mail
//! server down.
//! Each test prints how many deliveries were lost and duplicated; delivery is
//! at-least-once, so duplicates are counted and bounded, lost ones must be zero.
mod evicting_redis;
mod kill_worker;
mod postgres_drop;
mod redis_down;
mod slow_send;
mod smtp_down;
mod stalled_claim;
mod support;
mod worker_endpoints;

use entity::email_delivery;
use futures_util::StreamExt;
use portal_tests::TestApp;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QuerySelect};
use std::collections::BTreeMap;
use std::time::Duration;

/// Invites one client per address (eight requests at a time); returns the client ids.
async fn invite_all(app: &TestApp, token: &str, addresses: &[String]) -> Vec<String> {
    futures_util::stream::iter(addresses.iter().enumerate())
        .map(|(i, address)| async move {
            app.invite_client(token, &format!("Client{i}"), address)
                .await
        })
        .buffered(8)
        .collect()
        .await
}

/// `n` distinct addresses for a test.
fn addresses(tag: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i}@example.com")).collect()
}

/// How many outbox rows are in each status.
async fn statuses(db: &DatabaseConnection) -> Result<BTreeMap<String, usize>, DbErr> {
    let rows: Vec<String> = email_delivery::Entity::find()
        .select_only()
        .column(email_delivery::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = BTreeMap::new();
    for status in rows {
        *counts.entry(status).or_insert(0) += 1;
    }
    Ok(counts)
}

/// Waits (at most `limit`) until every outbox row has settled (none `queued` or
/// `sending`); returns the last counts seen. Database errors count as "not yet".
async fn wait_settled(db: &DatabaseConnection, limit: Duration) -> BTreeMap<String, usize> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut last = BTreeMap::new();
    loop {
        if let Ok(counts) = statuses(db).await {
            last = counts;
        }
        let moving = last.contains_key("queued") || last.contains_key("sending");
        if (!moving && !last.is_empty()) || tokio::time::Instant::now() > deadline {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
