//! A worker process: the queue consumers (`DeliverEmail`, `CheckIntakeForms`), the
//! outbox sweeper and housekeeping, all stopped together by one shutdown signal.
use crate::check_intake_forms;
use crate::deliver_email::{Batcher, Deliverer, Outcome};
use crate::maintenance;
use crate::periodic::{FailureLog, every};
use crate::queue::{
    self, CheckIntakeForms, DeliverEmail, DeliverEmails, Handlers, JobQueue, WorkerBackend,
};
use crate::sweeper;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the sweeper looks for stranded outbox rows and overdue checks.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How long a stopping worker waits for jobs in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Everything one worker runs.
pub struct Worker {
    pub deliverer: Arc<Deliverer>,
    pub backend: WorkerBackend,
    pub queue: JobQueue,
    pub sweep_grace: Duration,
    /// Emails one worker has in hand at once (`WORKER_CONCURRENCY`): the queue's
    /// concurrency, and the largest batch.
    pub concurrency: usize,
}

/// What job handlers share.
struct JobContext {
    deliverer: Arc<Deliverer>,
    batcher: Batcher,
    queue: JobQueue,
    /// One log for every place that promotes due jobs, so an outage warns once.
    promote_log: Arc<FailureLog>,
}

impl Handlers for JobContext {
    /// Errors are logged, never returned: the outbox row records what happened,
    /// and the sweeper, not the queue's retry, drives the next attempt.
    async fn deliver(&self, job: DeliverEmail) {
        self.deliver_all([job.delivery_id]).await
    }

    async fn deliver_backlog(&self, job: DeliverEmails) {
        self.deliver_all(job.delivery_ids).await
    }

    /// A check that fails stays pending and is swept.
    async fn check_intake(&self, job: CheckIntakeForms) {
        let d = &self.deliverer;
        match check_intake_forms::run(&d.db, &d.clock, job.client_id).await {
            Ok(queued) => {
                self.queue.push_deliveries(queued).await;
            }
            Err(e) => {
                tracing::warn!(client_id = %job.client_id, error = %e, "intake check failed; will retry")
            }
        }
    }
}

impl JobContext {
    /// Hands `ids` to the batcher together and waits for their outcomes.
    async fn deliver_all(&self, ids: impl IntoIterator<Item = uuid::Uuid>) {
        for (id, outcome) in self.batcher.deliver_all(ids).await {
            match outcome {
                Ok(Outcome::Skipped) => tracing::debug!(delivery_id = %id, "nothing to do"),
                Ok(outcome) => tracing::debug!(delivery_id = %id, ?outcome, "delivery handled"),
                Err(e) => {
                    tracing::warn!(delivery_id = %id, error = %e, "delivery failed; the sweeper will retry")
                }
            }
        }
    }
}

impl Worker {
    /// Runs until `shutdown` resolves.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop) = watch::channel(false);
        let ctx = Arc::new(JobContext {
            deliverer: self.deliverer.clone(),
            batcher: Batcher::start(self.deliverer.clone(), self.concurrency),
            queue: self.queue.clone(),
            promote_log: Arc::new(FailureLog::new("promoting due jobs")),
        });
        let vacuum = match &self.backend {
            WorkerBackend::Redis {
                deliver, backlog, ..
            } => Some(tokio::spawn(vacuum_redis(
                (**deliver).clone(),
                (**backlog).clone(),
                stop.clone(),
            ))),
            WorkerBackend::Memory { .. } => None,
        };
        let consumers = tokio::spawn(queue::consume(
            self.backend,
            self.concurrency,
            ctx.clone(),
            stop.clone(),
            ctx.promote_log.clone(),
        ));
        let grace = self.sweep_grace;
        let sweeper = tokio::spawn(every(SWEEP_EVERY, stop.clone(), move || {
            let ctx = ctx.clone();
            async move { sweep_once(&ctx, grace).await }
        }));
        let db = self.deliverer.db.clone();
        let housekeeping = tokio::spawn(every(maintenance::EVERY, stop, move || {
            let db = db.clone();
            async move { maintenance::run_once(&db).await }
        }));
        shutdown.await;
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            let _ = tokio::join!(consumers, sweeper, housekeeping);
            if let Some(vacuum) = vacuum {
                let _ = vacuum.await;
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!("worker stopped with jobs still running; they will be retried");
        }
        tracing::info!("worker stopped");
    }
}

async fn vacuum_redis(
    emails: apalis_redis::RedisStorage<DeliverEmail>,
    backlog: apalis_redis::RedisStorage<DeliverEmails>,
    stop: watch::Receiver<bool>,
) {
    every(maintenance::EVERY, stop, || async {
        let removed = match queue::vacuum(&emails, queue::KEEP_FINISHED).await {
            Ok(n) => queue::vacuum(&backlog, queue::KEEP_FINISHED)
                .await
                .map(|m| n + m),
            Err(e) => Err(e),
        };
        match removed {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "removed finished jobs from Redis"),
            Err(e) => tracing::warn!(error = %e, "Redis vacuum failed; will retry"),
        }
    })
    .await
}

/// One pass: promote due jobs, re-push lost deliveries and overdue intake checks.
async fn sweep_once(ctx: &JobContext, grace: Duration) {
    let d = &ctx.deliverer;
    ctx.promote_log.observe(ctx.queue.promote_due().await);
    match sweeper::due_deliveries(&d.db, &d.clock, grace).await {
        Ok(due) => {
            ctx.queue.push_deliveries(due).await;
        }
        Err(e) => tracing::warn!(error = %e, "sweep failed; will retry"),
    }
    match check_intake_forms::overdue(&d.db, &d.clock, grace).await {
        Ok(clients) => {
            for client_id in clients {
                let pushed = ctx.queue.schedule_intake_check(client_id, Duration::ZERO);
                if let Err(e) = pushed.await {
                    tracing::warn!(error = %e, "intake check re-push failed; will retry");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "intake sweep failed; will retry"),
    }
}
