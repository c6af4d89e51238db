//! The queue adapter: everything apalis-specific lives under this module (storage
//! choice, pushing, consuming, and the workarounds for apalis 1.0's limits), so job
//! handlers see only [`Handlers`] and the API only [`JobQueue`]. Each workaround
//! names its upstream limitation where it is made; the day one is fixed upstream,
//! its code can go.
//!
//! - `redis`: storage settings, chunked promotion of due jobs, vacuum in batches;
//! - `memory`: the in-process queue of embedded mode;
//! - `consumer`: running handlers, restarting after connection failures and after
//!   a consumer silently stops beating its heart, and keeping a handler alive when
//!   apalis drops it.

mod consumer;
mod memory;
mod redis;

pub use consumer::{Handlers, consume, watched};
pub use redis::{KEEP_FINISHED, promote_due, since_heartbeat, vacuum};

use apalis::prelude::*;
use apalis_redis::RedisStorage;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// The job: deliver the outbox row `delivery_id`. Carries no address, name or token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverEmail {
    pub delivery_id: Uuid,
}

/// The job: run this client's due intake checks (R8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIntakeForms {
    pub client_id: Uuid,
}

/// A push or queue operation that failed (Redis unreachable, a closed channel).
#[derive(Debug, thiserror::Error)]
#[error("job queue: {0}")]
pub struct QueueError(String);

impl QueueError {
    fn from_display(e: impl std::fmt::Display) -> Self {
        Self(e.to_string())
    }
}

/// Where jobs are pushed: `DeliverEmail` and the delayed `CheckIntakeForms`.
#[derive(Clone)]
pub enum JobQueue {
    Redis {
        deliver: Box<RedisStorage<DeliverEmail>>,
        intake: Box<RedisStorage<CheckIntakeForms>>,
    },
    Memory {
        deliver: memory::Sender<DeliverEmail>,
        intake: memory::Sender<CheckIntakeForms>,
    },
}

impl std::fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Redis { .. } => "JobQueue::Redis",
            Self::Memory { .. } => "JobQueue::Memory",
        })
    }
}

/// What a worker consumes.
pub enum WorkerBackend {
    Redis {
        deliver: Box<RedisStorage<DeliverEmail>>,
        intake: Box<RedisStorage<CheckIntakeForms>>,
    },
    Memory {
        deliver: MemoryStorage<DeliverEmail>,
        intake: MemoryStorage<CheckIntakeForms>,
    },
}

/// Queues on Redis under `prefix`; `conn` may be lazy (the API starts while Redis
/// is down).
pub fn redis(conn: ::redis::aio::ConnectionManager, prefix: &str) -> (JobQueue, WorkerBackend) {
    let deliver =
        RedisStorage::new(conn.clone()).with_config(redis::config(prefix, "deliver_email"));
    let intake = RedisStorage::new(conn).with_config(redis::config(prefix, "check_intake_forms"));
    (
        JobQueue::Redis {
            deliver: Box::new(deliver.clone()),
            intake: Box::new(intake.clone()),
        },
        WorkerBackend::Redis {
            deliver: Box::new(deliver),
            intake: Box::new(intake),
        },
    )
}

/// In-process queues for embedded mode.
pub fn memory() -> (JobQueue, WorkerBackend) {
    let (deliver_tx, deliver) = memory::storage();
    let (intake_tx, intake) = memory::storage();
    (
        JobQueue::Memory {
            deliver: deliver_tx,
            intake: intake_tx,
        },
        WorkerBackend::Memory { deliver, intake },
    )
}

/// Jobs pushed per script call: large enough that a backlog goes in a few calls,
/// small enough that no call holds Redis for long (~5 ms).
const PUSH_CHUNK: usize = 1000;

fn task<T>(job: T) -> TaskBuilder<T> {
    TaskBuilder::new(job).task_id(TaskId::from_string(Uuid::new_v4().to_string()))
}

impl JobQueue {
    /// Pushes one delivery job. A failure is not fatal: the row stays `queued` and
    /// the sweeper pushes it again.
    pub async fn push(&self, job: DeliverEmail) -> Result<(), QueueError> {
        match self {
            Self::Redis { deliver, .. } => {
                let mut handle = (**deliver).clone();
                handle.push(job).await.map_err(QueueError::from_display)
            }
            Self::Memory { deliver, .. } => deliver
                .unbounded_send(task(job).build())
                .map_err(QueueError::from_display),
        }
    }

    /// Pushes delivery jobs for rows just committed. A failed push is only logged:
    /// the row is `queued` and the sweeper pushes it again.
    ///
    /// On Redis, several jobs go in one script call per [`PUSH_CHUNK`] (a backlog the
    /// sweeper re-pushes after an outage): one at a time, 10,000 jobs took ~10,000
    /// round trips. apalis-redis 1.0 pushes every job as due now, into the set it
    /// promotes from in one Lua `unpack` (see [`promote_due`]): each chunk is
    /// promoted right after its push, so a backlog pushed this fast never leaves more
    /// due jobs than apalis can promote.
    pub async fn push_deliveries(&self, ids: impl IntoIterator<Item = Uuid>) {
        let jobs: Vec<DeliverEmail> = ids
            .into_iter()
            .map(|delivery_id| DeliverEmail { delivery_id })
            .collect();
        match self {
            Self::Redis { deliver, .. } if jobs.len() > 1 => {
                for chunk in jobs.chunks(PUSH_CHUNK) {
                    let mut handle = (**deliver).clone();
                    if let Err(e) = handle.push_bulk(chunk.to_vec()).await {
                        tracing::warn!(jobs = chunk.len(), error = %e, "job push failed; the sweeper will retry");
                        continue;
                    }
                    if let Err(e) = promote_due(deliver).await {
                        tracing::warn!(error = %e, "promoting pushed jobs failed; the next fetch will");
                    }
                }
            }
            _ => {
                for job in jobs {
                    if let Err(e) = self.push(job).await {
                        tracing::warn!(delivery_id = %job.delivery_id, error = %e, "job push failed; the sweeper will retry");
                    }
                }
            }
        }
    }

    /// Schedules the intake check of `client_id` `after` from now (a delayed job on
    /// Redis; a timer in embedded mode). The `intake_check` row is the record: a
    /// lost job is swept.
    pub async fn schedule_intake_check(
        &self,
        client_id: Uuid,
        after: Duration,
    ) -> Result<(), QueueError> {
        let job = CheckIntakeForms { client_id };
        match self {
            Self::Redis { intake, .. } => {
                let mut handle = (**intake).clone();
                let delayed = task(job).run_after(after).build();
                handle
                    .push_task(delayed)
                    .await
                    .map_err(QueueError::from_display)
            }
            Self::Memory { intake, .. } => {
                let intake = intake.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = intake.unbounded_send(task(job).build());
                });
                Ok(())
            }
        }
    }

    /// Moves due delayed jobs to the active lists (Redis only; see [`promote_due`]).
    pub async fn promote_due(&self) -> Result<usize, QueueError> {
        match self {
            Self::Redis { deliver, intake } => {
                Ok(promote_due(deliver).await? + promote_due(intake).await?)
            }
            Self::Memory { .. } => Ok(0),
        }
    }
}
