//! Per-request span with a request id and the client address, access log without query strings,
//! security headers, and request metrics.
use super::client_address::ClientAddress;
use super::graphql_summary::GraphqlSummary;
use crate::telemetry::metrics::{GRAPHQL_DURATION, HTTP_DURATION, HTTP_REQUESTS};
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
    let request_id = request_id(&req);
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let client_ip = ClientAddress::of(&req).ip().map(tracing::field::display);
    let span = tracing::info_span!("request", %request_id, %method, %path, client_ip);
    async move {
        let started = Instant::now();
        let mut resp = match next.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        let elapsed = started.elapsed();
        let status = resp.status().as_u16();
        let elapsed_ms = elapsed.as_millis() as u64;
        let route = metric_route(&path);
        metrics::counter!(HTTP_REQUESTS, "route" => route, "status" => status.to_string())
            .increment(1);
        metrics::histogram!(HTTP_DURATION, "route" => route).record(elapsed.as_secs_f64());
        match resp.extensions().get::<GraphqlSummary>() {
            Some(graphql) => {
                metrics::histogram!(GRAPHQL_DURATION, "operation" => graphql.label.clone())
                    .record(elapsed.as_secs_f64());
                let error_codes = graphql.codes.join(",");
                let operation = graphql.operation.as_str();
                tracing::info!(
                    status,
                    elapsed_ms,
                    operation,
                    error_codes,
                    "request finished"
                );
            }
            None => tracing::info!(status, elapsed_ms, "request finished"),
        }
        secure_headers(&mut resp, &request_id, https);
        Ok(resp)
    }
    .instrument(span)
    .await
}

/// The id this request's logs carry and its answer echoes: a sane `X-Request-Id`
/// from the caller (a proxy, a frontend) as sent, else the trace id of a valid W3C
/// `traceparent`, else a fresh one. Anything else is ignored, never logged.
fn request_id(req: &Request) -> String {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(id) = header("x-request-id").filter(|id| sane_request_id(id)) {
        return id.to_owned();
    }
    if let Some(trace) = header("traceparent").and_then(trace_id) {
        return trace.to_owned();
    }
    uuid::Uuid::new_v4().to_string()
}

/// 1 to 128 characters of letters, digits and `. _ : -`.
fn sane_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), unless it
/// is malformed or all zeros.
fn trace_id(traceparent: &str) -> Option<&str> {
    let parts: Vec<&str> = traceparent.trim().split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match parts[..] {
        [version, trace, parent, flags]
            if hex(version, 2)
                && version != "ff"
                && hex(trace, 32)
                && hex(parent, 16)
                && hex(flags, 2)
                && trace.bytes().any(|b| b != b'0') =>
        {
            Some(trace)
        }
        _ => None,
    }
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
        p if p.starts_with("/graphiql/assets/") => "/graphiql/assets",
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

#[cfg(test)]
mod tests {
    use super::{sane_request_id, trace_id};

    #[test]
    fn a_callers_request_id_is_kept_only_when_it_is_sane() {
        for ok in ["abc-123", "0af7651916cd43dd8448eb211c80319c", "req:42.a_b"] {
            assert!(sane_request_id(ok), "{ok}");
        }
        let long = "a".repeat(129);
        for bad in ["", "<script>", "a b", "tab\there", "é", long.as_str()] {
            assert!(!sane_request_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_valid_traceparent_gives_its_trace_id() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(trace_id(tp), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "not a traceparent",
        ] {
            assert_eq!(trace_id(bad), None, "{bad}");
        }
    }
}
