//! Liveness, readiness and Prometheus metrics.
use super::WebState;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;
use std::sync::OnceLock;
use std::time::Duration;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The process is up.
#[handler]
pub fn healthz() -> &'static str {
    "ok"
}

/// The database (and Redis, when configured) answer.
#[handler]
pub async fn readyz(Data(web): Data<&WebState>) -> Response {
    let database = tokio::time::timeout(CHECK_TIMEOUT, web.app.db.ping())
        .await
        .is_ok_and(|r| r.is_ok());
    let redis = match &web.app.redis {
        None => None,
        Some(client) => Some(redis_answers(client).await),
    };
    let ready = database && redis.unwrap_or(true);
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let body = json!({
        "database": word(database),
        "redis": redis.map(word).unwrap_or("not configured"),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Json(body).with_status(status).into_response()
}

async fn redis_answers(client: &redis::Client) -> bool {
    let ping = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    matches!(tokio::time::timeout(CHECK_TIMEOUT, ping).await, Ok(Ok(_)))
}

/// The process-wide Prometheus recorder (installed once, shared by every app in it).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (e.g. by a test harness); the
        // handle still renders what this one records.
        let _ = ::metrics::set_global_recorder(recorder);
        handle
    })
}

/// Prometheus text exposition.
#[handler]
pub fn metrics_text() -> Response {
    prometheus()
        .render()
        .with_content_type("text/plain; version=0.0.4")
        .into_response()
}
