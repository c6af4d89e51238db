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

/// The job: deliver the outbox rows of a backlog pushed together (the sweeper after
/// an outage, a bulk change), up to [`DELIVERIES_PER_JOB`] of them. Carries no
/// address, name or token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverEmails {
    pub delivery_ids: Vec<Uuid>,
}

/// Deliveries one backlog job carries at most: a job costs ~50 µs of the machine in
/// apalis-redis (fetch, metadata hash, acknowledgement) whatever it carries, and a
/// worker's batches grow to this size under a backlog (its default 512 emails in
/// hand over four batches). Jobs of 32 cost Redis 15–18 µs per email in the bench's
/// drains, jobs of 128 6–12 (`bench/NOTES.md`, pipeline notes item 23).
pub const DELIVERIES_PER_JOB: usize = 128;

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

/// Where jobs are pushed: `DeliverEmail`, `DeliverEmails` and the delayed
/// `CheckIntakeForms`.
#[derive(Clone)]
pub enum JobQueue {
    Redis {
        deliver: Box<RedisStorage<DeliverEmail>>,
        backlog: Box<RedisStorage<DeliverEmails>>,
        intake: Box<RedisStorage<CheckIntakeForms>>,
    },
    Memory {
        deliver: memory::Sender<DeliverEmail>,
        backlog: memory::Sender<DeliverEmails>,
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
        backlog: Box<RedisStorage<DeliverEmails>>,
        intake: Box<RedisStorage<CheckIntakeForms>>,
    },
    Memory {
        deliver: MemoryStorage<DeliverEmail>,
        backlog: MemoryStorage<DeliverEmails>,
        intake: MemoryStorage<CheckIntakeForms>,
    },
}

/// Queues on Redis under `prefix`; `conn` may be lazy (the API starts while Redis
/// is down).
pub fn redis(conn: ::redis::aio::ConnectionManager, prefix: &str) -> (JobQueue, WorkerBackend) {
    let deliver =
        RedisStorage::new(conn.clone()).with_config(redis::config(prefix, "deliver_email"));
    // A worker fetches one backlog job at a time: it takes no more of a backlog than
    // it is about to send, and the rest stays for the other workers.
    let backlog = RedisStorage::new(conn.clone())
        .with_config(redis::config(prefix, "deliver_emails").batch_size(1));
    let intake = RedisStorage::new(conn).with_config(redis::config(prefix, "check_intake_forms"));
    (
        JobQueue::Redis {
            deliver: Box::new(deliver.clone()),
            backlog: Box::new(backlog.clone()),
            intake: Box::new(intake.clone()),
        },
        WorkerBackend::Redis {
            deliver: Box::new(deliver),
            backlog: Box::new(backlog),
            intake: Box::new(intake),
        },
    )
}

/// In-process queues for embedded mode.
pub fn memory() -> (JobQueue, WorkerBackend) {
    let (deliver_tx, deliver) = memory::storage();
    let (backlog_tx, backlog) = memory::storage();
    let (intake_tx, intake) = memory::storage();
    (
        JobQueue::Memory {
            deliver: deliver_tx,
            backlog: backlog_tx,
            intake: intake_tx,
        },
        WorkerBackend::Memory {
            deliver,
            backlog,
            intake,
        },
    )
}

/// Backlog jobs pushed per script call: large enough that a backlog goes in a few
/// calls (8,192 emails a call), small enough that no call holds Redis for long.
const PUSH_CHUNK: usize = 64;

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

    /// Pushes delivery jobs for rows just committed: one row alone as a
    /// `DeliverEmail`, several as `DeliverEmails` of [`DELIVERIES_PER_JOB`] rows each;
    /// the number of jobs pushed. A failed push is only logged: the row is `queued`
    /// and the sweeper pushes it again.
    ///
    /// On Redis, a backlog's jobs go in one script call per [`PUSH_CHUNK`] (one at a
    /// time, 10,000 jobs took ~10,000 round trips). apalis-redis 1.0 pushes every job
    /// as due now, into the set it promotes from in one Lua `unpack` (see
    /// [`promote_due`]): each chunk is promoted right after its push, so a backlog
    /// pushed this fast never leaves more due jobs than apalis can promote.
    pub async fn push_deliveries(&self, ids: impl IntoIterator<Item = Uuid>) -> usize {
        let ids: Vec<Uuid> = ids.into_iter().collect();
        if let [delivery_id] = ids[..] {
            return match self.push(DeliverEmail { delivery_id }).await {
                Ok(()) => 1,
                Err(e) => {
                    tracing::warn!(%delivery_id, error = %e, "job push failed; the sweeper will retry");
                    0
                }
            };
        }
        let jobs: Vec<DeliverEmails> = ids
            .chunks(DELIVERIES_PER_JOB)
            .map(|chunk| DeliverEmails {
                delivery_ids: chunk.to_vec(),
            })
            .collect();
        let mut pushed = 0;
        for chunk in jobs.chunks(PUSH_CHUNK) {
            let result = match self {
                Self::Redis { backlog, .. } => {
                    let mut handle = (**backlog).clone();
                    let pushed = handle.push_bulk(chunk.to_vec()).await;
                    let pushed = pushed.map(drop).map_err(QueueError::from_display);
                    if pushed.is_ok()
                        && let Err(e) = promote_due(backlog).await
                    {
                        tracing::warn!(error = %e, "promoting pushed jobs failed; the next fetch will");
                    }
                    pushed
                }
                Self::Memory { backlog, .. } => chunk.iter().try_for_each(|job| {
                    backlog
                        .unbounded_send(task(job.clone()).build())
                        .map_err(QueueError::from_display)
                }),
            };
            match result {
                Ok(()) => pushed += chunk.len(),
                Err(e) => {
                    tracing::warn!(jobs = chunk.len(), error = %e, "job push failed; the sweeper will retry")
                }
            }
        }
        pushed
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
            Self::Redis {
                deliver,
                backlog,
                intake,
            } => Ok(promote_due(deliver).await?
                + promote_due(backlog).await?
                + promote_due(intake).await?),
            Self::Memory { .. } => Ok(0),
        }
    }
}
