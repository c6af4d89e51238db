//! The job queue: apalis on Redis in production (any number of workers), apalis'
//! in-process storage in embedded mode. The API only pushes; workers consume.
use crate::deliver_email::DeliverEmail;
use apalis::prelude::*;
use apalis_redis::{Config, RedisStorage};
use futures::{SinkExt, StreamExt};
use redis::aio::ConnectionManager;
use std::sync::Arc;
use std::time::Duration;

/// Where `DeliverEmail` jobs are pushed.
#[derive(Clone)]
pub enum JobQueue {
    Redis(Box<RedisStorage<DeliverEmail>>),
    /// A plain channel sender: apalis' `MemorySink` panics under concurrent pushes.
    Memory(futures::channel::mpsc::UnboundedSender<Task<DeliverEmail>>),
}

impl std::fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Redis(_) => "JobQueue::Redis",
            Self::Memory(_) => "JobQueue::Memory",
        })
    }
}

/// What a worker consumes.
pub enum WorkerBackend {
    Redis(Box<RedisStorage<DeliverEmail>>),
    Memory(MemoryStorage<DeliverEmail>),
}

/// The queue's settings on Redis: a short heartbeat so a killed worker's jobs run
/// again within seconds (three missed beats; fewer declares slow workers dead).
pub fn redis_config(prefix: &str) -> Config {
    Config::default()
        .queue(format!("{prefix}:deliver_email"))
        .heartbeat_interval(Duration::from_secs(1))
        .missed_heartbeats(3)
        .batch_size(4)
}

/// A queue on Redis; `conn` may be lazy (the API starts while Redis is down).
pub fn redis(conn: ConnectionManager, prefix: &str) -> (JobQueue, WorkerBackend) {
    let storage = RedisStorage::new(conn).with_config(redis_config(prefix));
    (
        JobQueue::Redis(Box::new(storage.clone())),
        WorkerBackend::Redis(Box::new(storage)),
    )
}

/// An in-process queue for embedded mode.
pub fn memory() -> (JobQueue, WorkerBackend) {
    let (tx, rx) = futures::channel::mpsc::unbounded::<Task<DeliverEmail>>();
    let sink: Box<
        dyn futures::Sink<Task<DeliverEmail>, Error = MemoryStorageError> + Send + Sync + Unpin,
    > = Box::new(tx.clone().sink_map_err(MemoryStorageError::from));
    let sink = MemorySink::new(Arc::new(futures::lock::Mutex::new(sink)));
    let storage = MemoryStorage::new_with(sink, rx.boxed());
    (JobQueue::Memory(tx), WorkerBackend::Memory(storage))
}

/// How long finished jobs' data stays in Redis (for inspection) before it is removed.
pub const KEEP_FINISHED: Duration = Duration::from_secs(3600);

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

impl JobQueue {
    /// Pushes one delivery job. A failure is not fatal: the row stays `queued` and
    /// the sweeper pushes it again.
    pub async fn push(&self, job: DeliverEmail) -> Result<(), String> {
        match self {
            Self::Redis(storage) => {
                let mut handle = (**storage).clone();
                handle.push(job).await.map_err(|e| e.to_string())
            }
            Self::Memory(tx) => {
                let task = TaskBuilder::new(job)
                    .task_id(TaskId::from_string(uuid::Uuid::new_v4().to_string()))
                    .build();
                tx.unbounded_send(task).map_err(|e| e.to_string())
            }
        }
    }
}
