//! Per-request span with a request id, access log without query strings,
//! security headers, and request metrics.
use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Wraps every request: its span carries `request_id`; the path is logged without
/// the query string, so tokens in links never reach a log. `https` adds HSTS.
pub async fn observe<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    https: bool,
) -> poem::Result<Response> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", %request_id, %method, %path);
    async move {
        let started = Instant::now();
        let mut resp = match next.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        let elapsed = started.elapsed();
        let status = resp.status().as_u16();
        tracing::info!(
            status,
            elapsed_ms = elapsed.as_millis() as u64,
            "request finished"
        );
        let route = metric_route(&path);
        metrics::counter!("http_requests_total", "route" => route, "status" => status.to_string())
            .increment(1);
        metrics::histogram!("http_request_duration_seconds", "route" => route)
            .record(elapsed.as_secs_f64());
        secure_headers(&mut resp, &request_id, https);
        Ok(resp)
    }
    .instrument(span)
    .await
}

/// Known routes by name, everything else as one label (bounded cardinality).
fn metric_route(path: &str) -> &'static str {
    match path {
        "/graphql" => "/graphql",
        "/graphiql" => "/graphiql",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        "/account/setup" => "/account/setup",
        "/account/forgot" => "/account/forgot",
        _ => "other",
    }
}

fn secure_headers(resp: &mut Response, request_id: &str, https: bool) {
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", v);
    }
    let defaults = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
        ("cache-control", "no-store"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    if https {
        headers.insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    for (name, value) in defaults {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}
