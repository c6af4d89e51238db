//! The resend path over HTTP, and its floor: the same SQL statements in one
//! transaction plus the same Redis EVALSHA, issued directly with the same pool size
//! and concurrency.
use crate::load::{self, Stats};
use crate::seed::Practice;
use access::audit::Actor;
use access::outbox::Outgoing;
use anyhow::Result;
use portal_api::service::resend::queue_link_email;
use portal_api::service::resend_cap::{OutboxHistory, ResendLimiter, Window};
use portal_api::service::resend_cap_redis::RedisLimiter;
use sea_orm::{ConnectOptions, Database, EntityTrait, TransactionTrait};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const RESEND: &str =
    "mutation($id: ID!) { resendWelcomeEmail(clientId: $id) { resendsRemaining } }";

/// Pairs of (provider token, client id) to spread the load over every practice.
fn targets(practices: &[Practice]) -> Arc<Vec<(String, uuid::Uuid)>> {
    let longest = practices.iter().map(|p| p.clients.len()).max().unwrap_or(0);
    let mut out = Vec::new();
    for i in 0..longest {
        for p in practices {
            if let Some(c) = p.clients.get(i) {
                out.push((p.token.clone(), *c));
            }
        }
    }
    Arc::new(out)
}

/// `resendWelcomeEmail` over HTTP at `concurrency` for `duration`.
pub async fn api(
    url: &str,
    practices: &[Practice],
    concurrency: usize,
    duration: Duration,
) -> Stats {
    let targets = targets(practices);
    let http = reqwest::Client::new();
    let url = url.to_owned();
    let stride = targets.len() / concurrency.max(1);
    load::closed_loop(concurrency, duration, move |task, i| {
        let (http, url, targets) = (http.clone(), url.clone(), targets.clone());
        async move {
            let (token, client) = &targets[(task * stride + i as usize) % targets.len()];
            let body = json!({ "query": RESEND, "variables": { "id": client } });
            load::graphql(&http, &url, Some(token), &body).await
        }
    })
    .await
}

/// The floor: what one resend must do in PostgreSQL and Redis, without HTTP,
/// GraphQL, sessions or the queue push.
pub async fn floor(
    database_url: &str,
    practices: &[Practice],
    concurrency: usize,
    duration: Duration,
) -> Result<Stats> {
    let mut options = ConnectOptions::new(database_url.to_owned());
    options.max_connections(10).sqlx_logging(false);
    let db = Database::connect(options).await?;
    let client = redis::Client::open(portal_tests::redis_url())?;
    let conn = client.get_connection_manager().await?;
    let window = Window {
        limit: 1_000_000,
        length: Duration::from_secs(86_400),
    };
    let prefix = format!("bench-floor:{}", uuid::Uuid::new_v4().simple());
    let history = Arc::new(OutboxHistory {
        db: db.clone(),
        cap: entity::email_delivery::Cap::Provider,
    });
    let limiter = Arc::new(RedisLimiter::new(conn, window, &prefix, "resend", history));
    let targets = targets(practices);
    let stride = targets.len() / concurrency.max(1);
    let stats = load::closed_loop(concurrency, duration, move |task, i| {
        let (db, limiter, targets) = (db.clone(), limiter.clone(), targets.clone());
        async move {
            let (_, client_id) = targets[(task * stride + i as usize) % targets.len()];
            one_resend(&db, &*limiter, client_id).await.is_ok()
        }
    })
    .await;
    Ok(stats)
}

async fn one_resend(
    db: &sea_orm::DatabaseConnection,
    limiter: &dyn ResendLimiter,
    client_id: uuid::Uuid,
) -> Result<()> {
    let now = chrono::Utc::now();
    limiter.acquire(client_id, now).await?;
    let client = entity::client::Entity::find_by_id(client_id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no client"))?;
    let txn = db.begin().await?;
    let email = Outgoing::link_for(&client, client.email.as_deref().unwrap_or_default());
    queue_link_email(&txn, &client, email, Actor::System, None, now).await?;
    txn.commit().await?;
    Ok(())
}
