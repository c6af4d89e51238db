//! Liveness, readiness and Prometheus metrics, for `serve` and for `worker`.
use crate::state::AppState;
use jobs::Mailer;
use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::{Map, Value};
use std::time::Duration;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What readiness checks: the database and Redis always, the mail server on a worker.
#[derive(Clone)]
pub struct Probes {
    pub app: AppState,
    /// A mailer of its own for the check (see [`Mailer::probe_from_url`]).
    pub mailer: Option<Mailer>,
}

/// The process is up.
#[handler]
pub fn healthz() -> &'static str {
    "ok"
}

/// `200` when the database, Redis (when configured) and, on a worker, the mail
/// server answer; `503` otherwise. The body names each check.
#[handler]
pub async fn readyz(Data(probes): Data<&Probes>) -> Response {
    let app = &probes.app;
    let database = async {
        tokio::time::timeout(CHECK_TIMEOUT, app.db.ping())
            .await
            .is_ok_and(|r| r.is_ok())
    };
    let redis = async {
        match &app.redis {
            None => None,
            Some(client) => Some(redis_answers(client).await),
        }
    };
    let smtp = async {
        match &probes.mailer {
            None => None,
            Some(mailer) => Some(mailer.answers().await),
        }
    };
    let (database, redis, smtp) = tokio::join!(database, redis, smtp);
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let mut body = Map::new();
    body.insert("database".into(), word(database).into());
    body.insert(
        "redis".into(),
        redis.map(word).unwrap_or("not configured").into(),
    );
    if let Some(smtp) = &smtp {
        if let Err(reason) = smtp {
            tracing::warn!(reason = %reason, "readiness: the mail server does not answer");
        }
        body.insert("smtp".into(), word(smtp.is_ok()).into());
    }
    let ready = database && redis.unwrap_or(true) && smtp.is_none_or(|s| s.is_ok());
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Json(Value::Object(body))
        .with_status(status)
        .into_response()
}

async fn redis_answers(client: &redis::Client) -> bool {
    let ping = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    matches!(tokio::time::timeout(CHECK_TIMEOUT, ping).await, Ok(Ok(_)))
}

/// Prometheus text exposition.
#[handler]
pub fn metrics_text(Data(probes): Data<&Probes>) -> Response {
    crate::telemetry::metrics::render(&probes.app.db)
        .with_content_type("text/plain; version=0.0.4")
        .into_response()
}
