//! Gathering the delivery jobs a worker holds at once into batches.
//!
//! Each job's handler hands its delivery id over and waits for that delivery's
//! outcome, so the queue acknowledges a job only once its row is recorded. No job
//! waits for a batch to fill: a batch is whatever arrived while the previous ones
//! were busy, so at idle every email goes out alone and at once, and under load
//! the batches grow by themselves (as group commit does).
//!
//! The batches in flight hold at most `max_batch` emails between them (the
//! worker's `WORKER_CONCURRENCY`): that many at most can have gone out unrecorded
//! when the worker is killed, and go out a second time. The queue may hand over
//! more at once (single emails and backlog jobs are counted apart, and the sweeper
//! pushes as backlogs what waited too long); they wait here, unclaimed, and a
//! killed worker's queue gives them to the next one to send once.
use super::{Deliverer, Outcome};
use crate::error::JobError;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};
use uuid::Uuid;

/// Batches one worker runs at once: while some wait on SMTP, others use the database.
const BATCHES_IN_FLIGHT: usize = 4;

/// Scheduler turns a new batch waits for jobs already on their way.
const GATHER_TURNS: usize = 3;

type Reply = oneshot::Sender<Result<Outcome, String>>;

/// Where delivery jobs are handed to the batching loop.
#[derive(Clone)]
pub struct Batcher {
    jobs: mpsc::UnboundedSender<(Uuid, Reply)>,
}

impl Batcher {
    /// Starts the batching loop: batches of at most `max_batch` jobs. The loop ends
    /// once every clone of the returned handle is dropped and its batches are done.
    pub fn start(deliverer: Arc<Deliverer>, max_batch: usize) -> Self {
        let (jobs, waiting) = mpsc::unbounded_channel();
        tokio::spawn(run(deliverer, waiting, max_batch.max(1)));
        Self { jobs }
    }

    /// Delivers `ids` (handed over together, so they go in the same batch when it has
    /// room); each one's outcome, in order.
    pub async fn deliver_all(
        &self,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> Vec<(Uuid, Result<Outcome, JobError>)> {
        let stopped = || JobError::Batch("the worker stopped handling deliveries".into());
        let waiting: Vec<_> = ids
            .into_iter()
            .map(|id| {
                let (reply, outcome) = oneshot::channel();
                let handed = self.jobs.send((id, reply)).is_ok();
                (id, handed.then_some(outcome))
            })
            .collect();
        let mut outcomes = Vec::with_capacity(waiting.len());
        for (id, outcome) in waiting {
            let outcome = match outcome {
                Some(outcome) => outcome.await.map_err(|_| stopped()),
                None => Err(stopped()),
            };
            outcomes.push((id, outcome.and_then(|o| o.map_err(JobError::Batch))));
        }
        outcomes
    }
}

async fn run(
    deliverer: Arc<Deliverer>,
    mut waiting: mpsc::UnboundedReceiver<(Uuid, Reply)>,
    max_batch: usize,
) {
    let slots = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
    // One permit per email in flight, across the batches.
    let in_flight = Arc::new(Semaphore::new(max_batch));
    loop {
        // Jobs gather in the channel while every slot is busy: the next batch.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch = Vec::with_capacity(max_batch);
        if waiting.recv_many(&mut batch, max_batch).await == 0 {
            return;
        }
        // Jobs the queue handed over together are a few scheduler turns apart:
        // take those too, without waiting for any that are not on their way.
        for _ in 0..GATHER_TURNS {
            tokio::task::yield_now().await;
            let room = max_batch - batch.len();
            if room == 0 {
                break;
            }
            if !waiting.is_empty() {
                waiting.recv_many(&mut batch, room).await;
            }
        }
        // A batch is never larger than all the permits: it waits for its own.
        let Ok(emails) = in_flight
            .clone()
            .acquire_many_owned(batch.len() as u32)
            .await
        else {
            return;
        };
        let deliverer = deliverer.clone();
        // A task of its own: a handler dropped by the queue (apalis drops in-flight
        // handlers when its connection fails) must not cut a batch off between the
        // SMTP hand-off and recording `sent`.
        tokio::spawn(async move {
            let ids: Vec<Uuid> = batch.iter().map(|(id, _)| *id).collect();
            match deliverer.deliver_batch(&ids).await {
                Ok(mut outcomes) => {
                    for (id, reply) in batch {
                        let outcome = outcomes.remove(&id).unwrap_or(Outcome::Skipped);
                        let _ = reply.send(Ok(outcome));
                    }
                }
                Err(e) => {
                    let message = e.to_string();
                    for (_, reply) in batch {
                        let _ = reply.send(Err(message.clone()));
                    }
                }
            }
            drop((slot, emails));
        });
    }
}
