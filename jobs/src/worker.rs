//! A worker process: the apalis `DeliverEmail` consumer, the outbox sweeper and
//! housekeeping, all stopped together by one shutdown signal.
use crate::deliver_email::{DeliverEmail, Deliverer, Outcome};
use crate::maintenance;
use crate::queue::{JobQueue, WorkerBackend};
use crate::sweeper;
use apalis::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the sweeper looks for stranded outbox rows.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Jobs one worker runs at once.
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

/// A name unique across hosts and restarts: apalis refuses a name still registered.
pub fn unique_name(role: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{role}-{host}-{}-{}", std::process::id(), &random[..8])
}

/// The job handler. Errors are logged, never returned: the outbox row records what
/// happened, and the sweeper, not apalis' retry, drives the next attempt.
async fn deliver(job: DeliverEmail, deliverer: Data<Arc<Deliverer>>) -> Result<(), BoxDynError> {
    match deliverer.deliver(job.delivery_id).await {
        Ok(Outcome::Skipped) => tracing::debug!(delivery_id = %job.delivery_id, "nothing to do"),
        Ok(outcome) => {
            tracing::debug!(delivery_id = %job.delivery_id, ?outcome, "delivery handled")
        }
        Err(e) => {
            tracing::warn!(delivery_id = %job.delivery_id, error = %e, "delivery failed; the sweeper will retry")
        }
    }
    Ok(())
}

impl Worker {
    /// Runs until `shutdown` resolves.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let consumer = tokio::spawn(consume(
            self.backend,
            self.deliverer.clone(),
            stop_rx.clone(),
        ));
        let sweeper = tokio::spawn(sweep(
            self.deliverer.clone(),
            self.queue,
            self.sweep_grace,
            stop_rx.clone(),
        ));
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
            let _ = tokio::join!(consumer, sweeper, housekeeping);
        })
        .await;
        if drained.is_err() {
            tracing::warn!("worker stopped with jobs still running; they will be retried");
        }
        tracing::info!("worker stopped");
    }
}

async fn consume(backend: WorkerBackend, deliverer: Arc<Deliverer>, stop: watch::Receiver<bool>) {
    match backend {
        WorkerBackend::Memory(storage) => {
            let worker = WorkerBuilder::new(unique_name("embedded"))
                .backend(storage)
                .data(deliverer)
                .concurrency(CONCURRENCY)
                .build(deliver);
            let mut rx = stop;
            let until = async move {
                let _ = rx.wait_for(|s| *s).await;
                Ok::<(), std::io::Error>(())
            };
            if let Err(e) = worker.run_until(until).await {
                tracing::error!(error = %e, "embedded worker stopped");
            }
        }
        WorkerBackend::Redis(storage) => {
            let vacuum = tokio::spawn(vacuum_redis((*storage).clone(), stop.clone()));
            consume_redis(storage, deliverer, stop).await;
            let _ = vacuum.await;
        }
    }
}

async fn vacuum_redis(
    storage: apalis_redis::RedisStorage<DeliverEmail>,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(maintenance::EVERY);
    loop {
        let stopped = tokio::select! {
            _ = stop.wait_for(|s| *s) => true,
            _ = ticker.tick() => false,
        };
        if stopped {
            return;
        }
        match crate::queue::vacuum(&storage, crate::queue::KEEP_FINISHED).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "removed finished jobs from Redis"),
            Err(e) => tracing::warn!(error = %e, "Redis vacuum failed; will retry"),
        }
    }
}

async fn consume_redis(
    storage: Box<apalis_redis::RedisStorage<DeliverEmail>>,
    deliverer: Arc<Deliverer>,
    stop: watch::Receiver<bool>,
) {
    loop {
        // Any Redis error ends an apalis worker for good; start a fresh one
        // (under a new name) until we are told to stop.
        let name = unique_name("worker");
        let backend = storage
            .clone()
            .poll_with_interval(Duration::from_millis(100));
        let worker = WorkerBuilder::new(name.clone())
            .backend(backend)
            .data(deliverer.clone())
            .concurrency(CONCURRENCY)
            .build(deliver);
        let mut rx = stop.clone();
        let until = async move {
            let _ = rx.wait_for(|s| *s).await;
            Ok::<(), std::io::Error>(())
        };
        match worker.run_until(until).await {
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

async fn sweep(
    deliverer: Arc<Deliverer>,
    queue: JobQueue,
    grace: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(SWEEP_EVERY);
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = ticker.tick() => {}
        }
        let due = match sweeper::due_deliveries(&deliverer.db, &deliverer.clock, grace).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "sweep failed; will retry");
                continue;
            }
        };
        for delivery_id in due {
            if let Err(e) = queue.push(DeliverEmail { delivery_id }).await {
                tracing::warn!(%delivery_id, error = %e, "re-push failed; will retry");
            }
        }
    }
}
