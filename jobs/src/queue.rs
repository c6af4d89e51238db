//! The job queue: apalis on Redis in production (any number of workers), apalis'
//! in-process storage in embedded mode. The API only pushes; workers consume.
use crate::check_intake_forms::CheckIntakeForms;
use crate::deliver_email::DeliverEmail;
use apalis::prelude::*;
use apalis_redis::{Config, RedisStorage};
use futures::{SinkExt, StreamExt};
use redis::aio::ConnectionManager;
use std::sync::Arc;
use std::time::Duration;

type Sender<T> = futures::channel::mpsc::UnboundedSender<Task<T>>;

/// Where jobs are pushed: `DeliverEmail` and the delayed `CheckIntakeForms`.
#[derive(Clone)]
pub enum JobQueue {
    Redis {
        deliver: Box<RedisStorage<DeliverEmail>>,
        intake: Box<RedisStorage<CheckIntakeForms>>,
    },
    /// Plain channel senders: apalis' `MemorySink` panics under concurrent pushes.
    Memory {
        deliver: Sender<DeliverEmail>,
        intake: Sender<CheckIntakeForms>,
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

/// A queue's settings on Redis: a short heartbeat so a killed worker's jobs run
/// again within seconds (three missed beats; fewer declares slow workers dead).
pub fn redis_config(prefix: &str, job: &str) -> Config {
    Config::default()
        .queue(format!("{prefix}:{job}"))
        .heartbeat_interval(Duration::from_secs(1))
        .missed_heartbeats(3)
        .batch_size(4)
}

/// Queues on Redis; `conn` may be lazy (the API starts while Redis is down).
pub fn redis(conn: ConnectionManager, prefix: &str) -> (JobQueue, WorkerBackend) {
    let deliver =
        RedisStorage::new(conn.clone()).with_config(redis_config(prefix, "deliver_email"));
    let intake = RedisStorage::new(conn).with_config(redis_config(prefix, "check_intake_forms"));
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

fn memory_storage<T: Send + 'static>() -> (Sender<T>, MemoryStorage<T>) {
    let (tx, rx) = futures::channel::mpsc::unbounded::<Task<T>>();
    let sink: Box<dyn futures::Sink<Task<T>, Error = MemoryStorageError> + Send + Sync + Unpin> =
        Box::new(tx.clone().sink_map_err(MemoryStorageError::from));
    let sink = MemorySink::new(Arc::new(futures::lock::Mutex::new(sink)));
    (tx, MemoryStorage::new_with(sink, rx.boxed()))
}

/// In-process queues for embedded mode.
pub fn memory() -> (JobQueue, WorkerBackend) {
    let (deliver_tx, deliver) = memory_storage();
    let (intake_tx, intake) = memory_storage();
    (
        JobQueue::Memory {
            deliver: deliver_tx,
            intake: intake_tx,
        },
        WorkerBackend::Memory { deliver, intake },
    )
}

fn task<T>(job: T) -> TaskBuilder<T> {
    TaskBuilder::new(job).task_id(TaskId::from_string(uuid::Uuid::new_v4().to_string()))
}

impl JobQueue {
    /// Pushes one delivery job. A failure is not fatal: the row stays `queued` and
    /// the sweeper pushes it again.
    pub async fn push(&self, job: DeliverEmail) -> Result<(), String> {
        match self {
            Self::Redis { deliver, .. } => {
                let mut handle = (**deliver).clone();
                handle.push(job).await.map_err(|e| e.to_string())
            }
            Self::Memory { deliver, .. } => deliver
                .unbounded_send(task(job).build())
                .map_err(|e| e.to_string()),
        }
    }

    /// Pushes delivery jobs for rows just committed. A failed push is only logged:
    /// the row is `queued` and the sweeper pushes it again.
    pub async fn push_deliveries(&self, ids: impl IntoIterator<Item = uuid::Uuid>) {
        for delivery_id in ids {
            if let Err(e) = self.push(DeliverEmail { delivery_id }).await {
                tracing::warn!(%delivery_id, error = %e, "job push failed; the sweeper will retry");
            }
        }
    }

    /// Schedules an intake check `after` from now (a delayed job on Redis; a timer
    /// in embedded mode). The `intake_check` row is the record: a lost job is swept.
    pub async fn schedule_intake_check(
        &self,
        job: CheckIntakeForms,
        after: Duration,
    ) -> Result<(), String> {
        match self {
            Self::Redis { intake, .. } => {
                let mut handle = (**intake).clone();
                let delayed = task(job).run_after(after).build();
                handle.push_task(delayed).await.map_err(|e| e.to_string())
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
}

/// How long finished jobs' data stays in Redis (for inspection) before it is removed.
pub const KEEP_FINISHED: Duration = Duration::from_secs(3600);

/// KEYS: scheduled set, active list, signal list; ARGV: chunk size. Moves up to a
/// chunk of due jobs (score = run-at seconds) to the active list.
const PROMOTE_DUE: &str = r"
local now = tonumber(redis.call('TIME')[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], 0, now, 'LIMIT', 0, tonumber(ARGV[1]))
if #ids > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ids))
  redis.call('ZREM', KEYS[1], unpack(ids))
  redis.call('DEL', KEYS[3])
  redis.call('LPUSH', KEYS[3], 1)
end
return #ids
";

/// Moves due scheduled jobs to the active list a thousand at a time.
///
/// apalis-redis 1.0 promotes *all* due jobs in one Lua `unpack`, which fails once
/// about 8,000 are due ("too many results to unpack"), and then every poll fails: a
/// backlog (workers down while mail piles up) would stall the queue for good. The
/// worker calls this before each (re)start and on every sweep, so apalis never
/// finds more due jobs than it can unpack.
pub async fn promote_due<T>(storage: &RedisStorage<T>) -> Result<usize, String> {
    let mut storage = storage.clone();
    let config = storage.get_config().clone();
    let mut moved = 0;
    loop {
        let n: usize = redis::Script::new(PROMOTE_DUE)
            .key(config.scheduled_jobs_set())
            .key(config.active_jobs_list())
            .key(config.signal_list())
            .arg(1000)
            .invoke_async(storage.get_connection())
            .await
            .map_err(|e| e.to_string())?;
        moved += n;
        if n < 1000 {
            return Ok(moved);
        }
    }
}

/// KEYS: data hash, done set, dead set. Removes set members without data.
const FORGET_VACUUMED_IDS: &str = r"
local removed = 0
for i = 2, 3 do
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    if redis.call('HEXISTS', KEYS[1], id) == 0 then
      redis.call('SREM', KEYS[i], id)
      removed = removed + 1
    end
  end
end
return removed
";

/// Removes jobs finished more than `keep` ago from Redis: apalis keeps every job's
/// data and metadata otherwise, and the outbox already holds the history.
pub async fn vacuum(storage: &RedisStorage<DeliverEmail>, keep: Duration) -> Result<usize, String> {
    use apalis_core::backend::Vacuum;
    let mut storage = storage.clone();
    let removed = storage
        .vacuum_before(keep)
        .await
        .map_err(|e| e.to_string())?;
    // apalis keeps finished ids in plain sets; drop those whose data is gone.
    let config = storage.get_config().clone();
    let _: i64 = redis::Script::new(FORGET_VACUUMED_IDS)
        .key(config.job_data_hash())
        .key(config.done_jobs_set())
        .key(config.dead_jobs_set())
        .invoke_async(storage.get_connection())
        .await
        .map_err(|e| e.to_string())?;
    Ok(removed)
}
