//! Running job handlers on apalis workers until told to stop.
use super::{
    CheckIntakeForms, DELIVERIES_PER_JOB, DeliverEmail, DeliverEmails, WorkerBackend, promote_due,
    since_heartbeat,
};
use crate::periodic::FailureLog;
use apalis::prelude::*;
use apalis_redis::RedisStorage;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What the worker does with each job; all a handler knows of the queue.
/// Delivery is at least once: handlers must be idempotent, and they report
/// failures themselves (the outbox row records them), so nothing is returned.
pub trait Handlers: Send + Sync + 'static {
    /// May be dropped midway (see `deliver` below): whatever must not be cut off
    /// runs in a task of its own.
    fn deliver(&self, job: DeliverEmail) -> impl Future<Output = ()> + Send;
    /// Likewise.
    fn deliver_backlog(&self, job: DeliverEmails) -> impl Future<Output = ()> + Send;
    fn check_intake(&self, job: CheckIntakeForms) -> impl Future<Output = ()> + Send;
}

/// Intake checks one consumer runs at once (the email consumer's is configured).
const INTAKE_CONCURRENCY: usize = 8;
/// An idle worker looks for new emails this often: the latency floor of one email
/// (apalis-redis 1.0 otherwise waits for its heartbeat, 30 s, to fetch new jobs).
/// About 100 small Lua scripts a second per idle worker.
const POLL: Duration = Duration::from_millis(10);
/// Intake checks are due hours after activation, and a backlog takes seconds to
/// drain: no hurry to notice either.
const POLL_SLOW: Duration = Duration::from_millis(25);
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

// apalis 1.0 drops its in-flight handlers when the queue connection fails (Redis
// restarting), and a send cut off between the SMTP hand-off and recording `sent`
// would go out again once its lease ran out. A delivery handler only hands its job
// to the batcher, whose batches run in tasks of their own, so dropping the handler
// cuts nothing off; an intake check runs in a task of its own.
async fn deliver<H: Handlers>(job: DeliverEmail, h: Data<Arc<H>>) -> Result<(), BoxDynError> {
    h.deliver(job).await;
    Ok(())
}

async fn deliver_backlog<H: Handlers>(
    job: DeliverEmails,
    h: Data<Arc<H>>,
) -> Result<(), BoxDynError> {
    h.deliver_backlog(job).await;
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

/// Starts an embedded consumer of `storage` in a task of its own.
macro_rules! spawn_embedded {
    ($role:expr, $storage:expr, $handlers:expr, $handler:expr, $concurrency:expr, $stop:expr) => {{
        let (name, storage, h, stop) = (unique_name($role), $storage, $handlers.clone(), $stop.clone());
        tokio::spawn(async move {
            if let Err(e) = run_consumer!(name, storage, h, $handler, $concurrency, stop) {
                tracing::error!(error = %e, "embedded {} consumer stopped", $role);
            }
        })
    }};
}

/// Starts a consumer of the Redis `storage` in a task of its own, polling every
/// `$poll`, restarted (under a new name) after an error or a stall; due jobs are
/// promoted before each start, failures reported to `$log`.
macro_rules! spawn_redis {
    ($suffix:expr, $storage:expr, $handlers:expr, $handler:expr, $concurrency:expr, $poll:expr, $log:expr, $stop:expr) => {{
        let (storage, h, log) = ($storage, $handlers.clone(), $log.clone());
        tokio::spawn(restart_on_error($stop.clone(), move |name, stop| {
            let (storage, h, log) = ((*storage).clone(), h.clone(), log.clone());
            async move {
                log.observe(promote_due(&storage).await);
                let backend = storage.clone().poll_with_interval($poll);
                let name = format!("{name}{}", $suffix);
                let worker = name.clone();
                let run =
                    async move { run_consumer!(worker, backend, h, $handler, $concurrency, stop) };
                watched(&storage, &name, run).await
            }
        }))
    }};
}

/// Runs the three consumers until `stop` turns true: single emails with
/// `concurrency` jobs at once, backlogs with as many emails in hand (jobs of
/// [`DELIVERIES_PER_JOB`]), intake checks; promotion failures before each (re)start
/// are reported to `promote_log`, which the sweeper shares.
///
/// Each consumer runs in a task of its own. In one task (`join!`) every wake of
/// either polled both, and an apalis consumer that is polled fetches: while emails
/// flowed, the empty intake queue was fetched ~360 times a second (`redis-cli
/// monitor`) instead of once per [`POLL_SLOW`]. The same cross-polling had made
/// the email queue look for new jobs more often than its interval, so that interval
/// is now shorter ([`POLL`]).
pub async fn consume<H: Handlers>(
    backend: WorkerBackend,
    concurrency: usize,
    handlers: Arc<H>,
    stop: watch::Receiver<bool>,
    promote_log: Arc<FailureLog>,
) {
    let backlogs = concurrency.div_ceil(DELIVERIES_PER_JOB);
    let consumers = match backend {
        WorkerBackend::Memory {
            deliver: emails,
            backlog,
            intake,
        } => [
            spawn_embedded!(
                "embedded",
                emails,
                handlers,
                deliver::<H>,
                concurrency,
                stop
            ),
            spawn_embedded!(
                "embedded-backlog",
                backlog,
                handlers,
                deliver_backlog::<H>,
                backlogs,
                stop
            ),
            spawn_embedded!(
                "embedded-intake",
                intake,
                handlers,
                check_intake::<H>,
                INTAKE_CONCURRENCY,
                stop
            ),
        ],
        WorkerBackend::Redis {
            deliver: emails,
            backlog,
            intake,
        } => {
            let log = promote_log;
            [
                spawn_redis!(
                    "",
                    emails,
                    handlers,
                    deliver::<H>,
                    concurrency,
                    POLL,
                    log,
                    stop
                ),
                spawn_redis!(
                    "-backlog",
                    backlog,
                    handlers,
                    deliver_backlog::<H>,
                    backlogs,
                    POLL_SLOW,
                    log,
                    stop
                ),
                spawn_redis!(
                    "-intake",
                    intake,
                    handlers,
                    check_intake::<H>,
                    INTAKE_CONCURRENCY,
                    POLL_SLOW,
                    log,
                    stop
                ),
            ]
        }
    };
    for ended in consumers {
        if let Err(e) = ended.await {
            tracing::error!(error = %e, "queue consumer task failed");
        }
    }
}

/// How long a consumer may go without a heartbeat (it beats every second) before it
/// counts as stalled: apalis-redis declares a worker dead after three missed beats.
const STALLED: Duration = Duration::from_secs(5);

/// Runs the consumer `name` until it ends, or until it stops beating its heart in
/// Redis; then ends with an error, so that [`restart_on_error`] starts a fresh one.
///
/// apalis-redis 1.0 can stop polling with no error: seen in the browser test, a
/// consumer acknowledged a job, beat once more and then neither beat nor fetched for
/// 25 s (its intake sibling with it), until shutdown woke it. Its jobs wait in Redis
/// meanwhile, and the sweeper's pushes land in the same stalled queue. Its own
/// heartbeat is the one sign of life apalis keeps, so that is what is watched.
pub async fn watched<T>(
    storage: &RedisStorage<T>,
    name: &str,
    run: impl Future<Output = Result<(), WorkerError>>,
) -> Result<(), WorkerError> {
    let stalled = async {
        // Registration comes first; a consumer is not judged before it could beat.
        tokio::time::sleep(STALLED).await;
        loop {
            match since_heartbeat(storage, name).await {
                Ok(Some(age)) if age <= STALLED => {}
                Ok(_) => return,
                // Redis trouble: the consumer meets it too and fails on its own.
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    tokio::select! {
        ended = run => ended,
        () = stalled => Err(WorkerError::IoError(std::io::Error::other(
            "no heartbeat in Redis for 5 s: the consumer stalled",
        ))),
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
