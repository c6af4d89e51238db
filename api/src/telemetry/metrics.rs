//! Prometheus metrics of `serve` and `worker`: one recorder per process, every family
//! described (HELP) when it is installed, the counters alerts watch registered at 0
//! with all their label values, and latencies as histograms with fixed buckets. The
//! README's Monitoring section lists them; keep the two in step.
use crate::service::throttle::Action;
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use std::sync::OnceLock;

/// Request latencies, in seconds: 5 ms to 10 s.
const REQUEST_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// `http_requests_total{route, status}`.
pub const HTTP_REQUESTS: &str = "http_requests_total";
/// `http_request_duration_seconds{route}`.
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
/// `graphql_operation_duration_seconds{operation}`.
pub const GRAPHQL_DURATION: &str = "graphql_operation_duration_seconds";
/// `graphql_errors_total{code}`.
pub const GRAPHQL_ERRORS: &str = "graphql_errors_total";
/// `resend_cap_refusals_total{cap}`.
pub const RESEND_CAP_REFUSALS: &str = "resend_cap_refusals_total";
/// `abuse_limit_refusals_total{action}`.
pub const ABUSE_LIMIT_REFUSALS: &str = "abuse_limit_refusals_total";
/// `sign_in_failures_total{account}`.
pub const SIGN_IN_FAILURES: &str = "sign_in_failures_total";
/// `db_pool_connections{state}`.
pub const DB_POOL: &str = "db_pool_connections";
/// `http_connection_limit_reached_total`.
pub const CONNECTION_LIMIT: &str = "http_connection_limit_reached_total";

/// The process-wide recorder, installed (and every family described) on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), REQUEST_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full(jobs::metrics::DELIVERY_LATENCY.into()),
                    jobs::metrics::DELIVERY_LATENCY_BUCKETS,
                )
            })
            .expect("bucket lists are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (e.g. by a test harness); the
        // handle still renders what this one records.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        register_zeros();
        process().describe();
        jobs::metrics::describe();
        handle
    })
}

fn process() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route (unknown paths as `other`) and status code."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time from request received to answer ready, by route."
    );
    describe_histogram!(
        GRAPHQL_DURATION,
        Unit::Seconds,
        "Time to answer POST /graphql, by operation name (`anonymous`, `batch`, `other` past the first 200 names)."
    );
    describe_counter!(
        GRAPHQL_ERRORS,
        "GraphQL errors answered, by extensions.code."
    );
    describe_counter!(
        RESEND_CAP_REFUSALS,
        "Link emails refused by the resend cap (R5), by cap: provider (resendWelcomeEmail, updateClientEmail) or self_service (requestPasswordReset)."
    );
    describe_counter!(
        ABUSE_LIMIT_REFUSALS,
        "Requests refused by an abuse limit (per IP or per account), by action."
    );
    describe_counter!(
        SIGN_IN_FAILURES,
        "Sign-ins with a wrong email or password, by account kind (provider, client)."
    );
    describe_gauge!(
        DB_POOL,
        "Database pool connections of this process, by state (in_use, idle)."
    );
    describe_counter!(
        CONNECTION_LIMIT,
        "Times HTTP_MAX_CONNECTIONS was reached and a connection had to wait."
    );
}

/// Counters alerts compare against: present at 0 before the first event, so a rate
/// over them is 0 rather than missing.
fn register_zeros() {
    for cap in ["provider", "self_service"] {
        metrics::counter!(RESEND_CAP_REFUSALS, "cap" => cap).absolute(0);
    }
    for action in Action::ALL {
        metrics::counter!(ABUSE_LIMIT_REFUSALS, "action" => action.name()).absolute(0);
    }
    for account in ["provider", "client"] {
        metrics::counter!(SIGN_IN_FAILURES, "account" => account).absolute(0);
    }
    jobs::metrics::register_zeros();
}

/// The text exposition, with the gauges read at scrape time refreshed first
/// (process CPU and memory, the pool of `db`).
pub fn render(db: &DatabaseConnection) -> String {
    let handle = handle();
    process().collect();
    let (size, idle) = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        #[cfg(feature = "sqlite")]
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    metrics::gauge!(DB_POOL, "state" => "in_use").set(f64::from(size - idle));
    metrics::gauge!(DB_POOL, "state" => "idle").set(f64::from(idle));
    handle.render()
}
