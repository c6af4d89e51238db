//! A worker process: the apalis consumers (`DeliverEmail`, `CheckIntakeForms`), the
//! outbox sweeper and housekeeping, all stopped together by one shutdown signal.
use crate::check_intake_forms::{self, CheckIntakeForms};
use crate::deliver_email::{DeliverEmail, Deliverer, Outcome};
use crate::maintenance;
use crate::queue::{JobQueue, WorkerBackend};
use crate::sweeper;
use apalis::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the sweeper looks for stranded outbox rows and overdue checks.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Jobs one consumer runs at once.
const CONCURRENCY: usize = 8;
/// How long a stopping worker waits for jobs in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Everything one worker runs.
pub struct Worker {
    pub deliverer: Arc<Deliverer>,
    pub backend: WorkerBackend,
    pub queue: JobQueue,
    pub sweep_grace: Duration,
}

/// What job handlers share.
pub struct JobContext {
    pub deliverer: Arc<Deliverer>,
    pub queue: JobQueue,
}

/// A name unique across hosts and restarts: apalis refuses a name still registered.
pub fn unique_name(role: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{role}-{host}-{}-{}", std::process::id(), &random[..8])
}

/// Handles `DeliverEmail`. Errors are logged, never returned: the outbox row
/// records what happened, and the sweeper, not apalis' retry, drives the next attempt.
///
/// The delivery runs in a task of its own: apalis drops its in-flight handlers
/// when the queue connection fails (Redis restarting), and a send cut off between
/// the SMTP hand-off and recording `sent` would go out again once the lease ran out.
async fn deliver(job: DeliverEmail, ctx: Data<Arc<JobContext>>) -> Result<(), BoxDynError> {
    let deliverer = ctx.deliverer.clone();
    let id = job.delivery_id;
    match tokio::spawn(async move { deliverer.deliver(id).await }).await {
        Ok(Ok(Outcome::Skipped)) => tracing::debug!(delivery_id = %id, "nothing to do"),
        Ok(Ok(outcome)) => tracing::debug!(delivery_id = %id, ?outcome, "delivery handled"),
        Ok(Err(e)) => {
            tracing::warn!(delivery_id = %id, error = %e, "delivery failed; the sweeper will retry")
        }
        Err(e) => tracing::error!(delivery_id = %id, error = %e, "delivery task failed"),
    }
    Ok(())
}

/// Handles `CheckIntakeForms`; a check that fails stays pending and is swept.
async fn check_intake(
    job: CheckIntakeForms,
    ctx: Data<Arc<JobContext>>,
) -> Result<(), BoxDynError> {
    let d = &ctx.deliverer;
    match check_intake_forms::run(&d.db, &d.clock, job.client_id).await {
        Ok(queued) => ctx.queue.push_deliveries(queued).await,
        Err(e) => {
            tracing::warn!(client_id = %job.client_id, error = %e, "intake check failed; will retry")
        }
    }
    Ok(())
}

/// Builds an apalis worker for one job type and runs it until `stop`.
macro_rules! run_consumer {
    ($name:expr, $backend:expr, $ctx:expr, $handler:expr, $stop:expr) => {{
        let worker = WorkerBuilder::new($name)
            .backend($backend)
            .data($ctx)
            .concurrency(CONCURRENCY)
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

impl Worker {
    /// Runs until `shutdown` resolves.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let ctx = Arc::new(JobContext {
            deliverer: self.deliverer.clone(),
            queue: self.queue.clone(),
        });
        let consumers = tokio::spawn(consume(self.backend, ctx.clone(), stop_rx.clone()));
        let sweeper = tokio::spawn(sweep(ctx, self.sweep_grace, stop_rx.clone()));
        let mut stopped = stop_rx.clone();
        let housekeeping = tokio::spawn(maintenance::run(
            self.deliverer.db.clone(),
            maintenance::EVERY,
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
        ));
        shutdown.await;
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            let _ = tokio::join!(consumers, sweeper, housekeeping);
        })
        .await;
        if drained.is_err() {
            tracing::warn!("worker stopped with jobs still running; they will be retried");
        }
        tracing::info!("worker stopped");
    }
}

async fn consume(backend: WorkerBackend, ctx: Arc<JobContext>, stop: watch::Receiver<bool>) {
    match backend {
        WorkerBackend::Memory { deliver: d, intake } => {
            let name = unique_name("embedded");
            let (ctx2, stop2) = (ctx.clone(), stop.clone());
            let emails = async move { run_consumer!(name, d, ctx2, deliver, stop2) };
            let intake_name = unique_name("embedded-intake");
            let checks = async move { run_consumer!(intake_name, intake, ctx, check_intake, stop) };
            let (emails, checks) = tokio::join!(emails, checks);
            if let Err(e) = emails.and(checks) {
                tracing::error!(error = %e, "embedded worker stopped");
            }
        }
        WorkerBackend::Redis { deliver: d, intake } => {
            let vacuum = tokio::spawn(vacuum_redis((*d).clone(), stop.clone()));
            // Idle workers look for new jobs this often (the latency floor of one email).
            let poll = Duration::from_millis(25);
            let emails = restart_on_error(stop.clone(), |name, stop| {
                let storage = (*d).clone();
                let ctx = ctx.clone();
                async move {
                    promote(&storage).await;
                    let backend = storage.poll_with_interval(poll);
                    run_consumer!(name, backend, ctx, deliver, stop)
                }
            });
            let checks = restart_on_error(stop.clone(), |name, stop| {
                let storage = (*intake).clone();
                let ctx = ctx.clone();
                async move {
                    promote(&storage).await;
                    let backend = storage.poll_with_interval(poll);
                    run_consumer!(format!("{name}-intake"), backend, ctx, check_intake, stop)
                }
            });
            tokio::join!(emails, checks);
            let _ = vacuum.await;
        }
    }
}

/// Moves due jobs to the active list in chunks apalis can handle (see
/// [`crate::queue::promote_due`]).
async fn promote<T>(storage: &apalis_redis::RedisStorage<T>) {
    match crate::queue::promote_due(storage).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(moved = n, "promoted due jobs"),
        Err(e) => tracing::warn!(error = %e, "promoting due jobs failed"),
    }
}

/// Any Redis error ends an apalis worker for good; start a fresh one (under a new
/// name) until we are told to stop.
async fn restart_on_error<F, Fut>(stop: watch::Receiver<bool>, mut run: F)
where
    F: FnMut(String, watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = Result<(), WorkerError>>,
{
    loop {
        let name = unique_name("worker");
        match run(name.clone(), stop.clone()).await {
            Ok(()) => return,
            Err(e) => {
                if *stop.borrow() {
                    return;
                }
                tracing::warn!(worker = %name, error = %e, "queue consumer stopped; restarting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Calls `work` every `period` until `stop` turns true.
async fn every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(period);
    loop {
        // Decided first, so no borrow of `stop` is held while `work` runs.
        let stopped = tokio::select! {
            _ = stop.wait_for(|s| *s) => true,
            _ = ticker.tick() => false,
        };
        if stopped {
            return;
        }
        work().await;
    }
}

async fn vacuum_redis(
    storage: apalis_redis::RedisStorage<DeliverEmail>,
    stop: watch::Receiver<bool>,
) {
    every(maintenance::EVERY, stop, || async {
        match crate::queue::vacuum(&storage, crate::queue::KEEP_FINISHED).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "removed finished jobs from Redis"),
            Err(e) => tracing::warn!(error = %e, "Redis vacuum failed; will retry"),
        }
    })
    .await
}

async fn sweep(ctx: Arc<JobContext>, grace: Duration, stop: watch::Receiver<bool>) {
    every(SWEEP_EVERY, stop, || sweep_once(&ctx, grace)).await
}

/// One pass: promote due jobs, re-push lost deliveries and overdue intake checks.
async fn sweep_once(ctx: &JobContext, grace: Duration) {
    let d = &ctx.deliverer;
    if let JobQueue::Redis { deliver, intake } = &ctx.queue {
        promote(deliver).await;
        promote(intake).await;
    }
    match sweeper::due_deliveries(&d.db, &d.clock, grace).await {
        Ok(due) => ctx.queue.push_deliveries(due).await,
        Err(e) => tracing::warn!(error = %e, "sweep failed; will retry"),
    }
    match check_intake_forms::overdue(&d.db, &d.clock, grace).await {
        Ok(clients) => {
            for client_id in clients {
                let job = CheckIntakeForms { client_id };
                if let Err(e) = ctx.queue.schedule_intake_check(job, Duration::ZERO).await {
                    tracing::warn!(error = %e, "intake check re-push failed; will retry");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "intake sweep failed; will retry"),
    }
}
