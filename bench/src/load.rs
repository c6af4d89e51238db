//! A closed-loop load generator: `concurrency` tasks each issue one request after
//! another for `duration`; latencies are kept for percentiles.
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, header};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Stats {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    pub fn from_latencies(mut latencies: Vec<Duration>, errors: usize, seconds: f64) -> Self {
        latencies.sort();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len().max(1) - 1) as f64 * p) as usize)
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(f64::NAN)
        };
        Self {
            requests: latencies.len(),
            errors,
            seconds,
            p50_ms: pct(0.5),
            p99_ms: pct(0.99),
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "requests": self.requests, "errors": self.errors, "seconds": self.seconds,
            "per_second": self.per_second(), "p50_ms": self.p50_ms, "p99_ms": self.p99_ms,
        })
    }
}

/// Runs `call(task, iteration)` from `concurrency` tasks for `duration`; a call
/// returns whether it succeeded.
pub async fn closed_loop<F, Fut>(concurrency: usize, duration: Duration, call: F) -> Stats
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let call = call.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors, mut i) = (Vec::new(), 0usize, 0u64);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let ok = call(task, i).await;
                    i += 1;
                    if ok {
                        latencies.push(t.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        if let Ok((latencies, e)) = task.await {
            all.extend(latencies);
            errors += e;
        }
    }
    Stats::from_latencies(all, errors, started.elapsed().as_secs_f64())
}

/// The bench's HTTP client: HTTP/1.1 to the service on this host, connections kept
/// open between requests. hyper's own client, already in the tree through poem,
/// rather than reqwest, whose TLS, redirects and cookies the bench has no use for.
pub type Http = Client<HttpConnector, Full<Bytes>>;

pub fn http() -> Http {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Posts one GraphQL operation; true when it answered without errors.
pub async fn graphql(http: &Http, url: &str, token: Option<&str>, body: &Value) -> bool {
    let mut request =
        Request::post(format!("{url}/graphql")).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let Ok(request) = request.body(Full::new(Bytes::from(body.to_string()))) else {
        return false;
    };
    let Ok(response) = http.request(request).await else {
        return false;
    };
    let Ok(answer) = response.into_body().collect().await else {
        return false;
    };
    serde_json::from_slice::<Value>(&answer.to_bytes()).is_ok_and(|v| v.get("errors").is_none())
}
