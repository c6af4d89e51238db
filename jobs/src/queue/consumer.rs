//! Running job handlers on apalis workers until told to stop.
use super::{CheckIntakeForms, DeliverEmail, WorkerBackend, promote_due};
use crate::periodic::FailureLog;
use apalis::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the worker does with each job; all a handler knows of the queue.
/// Delivery is at least once: handlers must be idempotent, and they report
/// failures themselves (the outbox row records them), so nothing is returned.
pub trait Handlers: Send + Sync + 'static {
    fn deliver(&self, job: DeliverEmail) -> impl Future<Output = ()> + Send;
    fn check_intake(&self, job: CheckIntakeForms) -> impl Future<Output = ()> + Send;
}

/// Intake checks one consumer runs at once (the email consumer's is configured).
const INTAKE_CONCURRENCY: usize = 8;
/// Idle workers look for new jobs this often (the latency floor of one email).
/// apalis-redis 1.0 otherwise waits for its heartbeat (30 s) to fetch new jobs.
const POLL: Duration = Duration::from_millis(25);
/// The longest pause between restarts of a consumer whose connection keeps failing.
const MAX_RESTART_DELAY: Duration = Duration::from_secs(30);

/// A name unique across hosts and restarts: apalis 1.0 refuses a name still
/// registered, and a second worker under the same name silently stops.
pub fn unique_name(role: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{role}-{host}-{}-{}", std::process::id(), &random[..8])
}

// Each job runs in a task of its own: apalis 1.0 drops its in-flight handlers
// when the queue connection fails (Redis restarting), and a send cut off between
// the SMTP hand-off and recording `sent` would go out again once its lease ran out.
async fn deliver<H: Handlers>(job: DeliverEmail, h: Data<Arc<H>>) -> Result<(), BoxDynError> {
    let h = Arc::clone(&h);
    if let Err(e) = tokio::spawn(async move { h.deliver(job).await }).await {
        tracing::error!(delivery_id = %job.delivery_id, error = %e, "delivery task failed");
    }
    Ok(())
}

async fn check_intake<H: Handlers>(
    job: CheckIntakeForms,
    h: Data<Arc<H>>,
) -> Result<(), BoxDynError> {
    let h = Arc::clone(&h);
    if let Err(e) = tokio::spawn(async move { h.check_intake(job).await }).await {
        tracing::error!(client_id = %job.client_id, error = %e, "intake check task failed");
    }
    Ok(())
}

/// Builds an apalis worker for one job type and runs it until `stop`.
macro_rules! run_consumer {
    ($name:expr, $backend:expr, $handlers:expr, $handler:expr, $concurrency:expr, $stop:expr) => {{
        let worker = WorkerBuilder::new($name)
            .backend($backend)
            .data($handlers)
            .concurrency($concurrency)
            .build($handler);
        let mut rx = $stop;
        worker
            .run_until(async move {
                let _ = rx.wait_for(|s| *s).await;
                Ok::<(), std::io::Error>(())
            })
            .await
    }};
}

/// Runs both consumers until `stop` turns true, the email one with `concurrency`
/// jobs at once; promotion failures before each (re)start are reported to
/// `promote_log`, which the sweeper shares.
pub async fn consume<H: Handlers>(
    backend: WorkerBackend,
    concurrency: usize,
    handlers: Arc<H>,
    stop: watch::Receiver<bool>,
    promote_log: Arc<FailureLog>,
) {
    match backend {
        WorkerBackend::Memory { deliver: d, intake } => {
            let (h, s) = (handlers.clone(), stop.clone());
            let name = unique_name("embedded");
            let emails = async move { run_consumer!(name, d, h, deliver::<H>, concurrency, s) };
            let name = unique_name("embedded-intake");
            let checks = async move {
                run_consumer!(
                    name,
                    intake,
                    handlers,
                    check_intake::<H>,
                    INTAKE_CONCURRENCY,
                    stop
                )
            };
            let (emails, checks) = tokio::join!(emails, checks);
            if let Err(e) = emails.and(checks) {
                tracing::error!(error = %e, "embedded worker stopped");
            }
        }
        WorkerBackend::Redis { deliver: d, intake } => {
            let emails = restart_on_error(stop.clone(), |name, stop| {
                let (storage, h, log) = ((*d).clone(), handlers.clone(), promote_log.clone());
                async move {
                    log.observe(promote_due(&storage).await);
                    let backend = storage.poll_with_interval(POLL);
                    run_consumer!(name, backend, h, deliver::<H>, concurrency, stop)
                }
            });
            let checks = restart_on_error(stop.clone(), |name, stop| {
                let (storage, h, log) = ((*intake).clone(), handlers.clone(), promote_log.clone());
                async move {
                    log.observe(promote_due(&storage).await);
                    let backend = storage.poll_with_interval(POLL);
                    run_consumer!(
                        format!("{name}-intake"),
                        backend,
                        h,
                        check_intake::<H>,
                        INTAKE_CONCURRENCY,
                        stop
                    )
                }
            });
            tokio::join!(emails, checks);
        }
    }
}

/// apalis 1.0 ends a worker for good on any Redis error: start a fresh one (under
/// a new name) until told to stop, waiting longer after each failure in a row.
async fn restart_on_error<F, Fut>(stop: watch::Receiver<bool>, mut run: F)
where
    F: FnMut(String, watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    let mut delay = Duration::from_secs(1);
    loop {
        let name = unique_name("worker");
        let started = tokio::time::Instant::now();
        match run(name.clone(), stop.clone()).await {
            Ok(()) => return,
            Err(e) => {
                if *stop.borrow() {
                    return;
                }
                if started.elapsed() > MAX_RESTART_DELAY {
                    delay = Duration::from_secs(1);
                }
                tracing::warn!(worker = %name, error = %e, retry_in = ?delay, "queue consumer stopped; restarting");
                let mut stopped = stop.clone();
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
                delay = (delay * 2).min(MAX_RESTART_DELAY);
            }
        }
    }
}
