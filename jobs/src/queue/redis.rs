//! apalis-redis settings and the two chores apalis 1.0 does not do well itself.
use super::QueueError;
use apalis_redis::{Config, RedisStorage};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Due jobs moved per Lua call, and set members examined per vacuum call.
const CHUNK: usize = 1000;

/// How long finished jobs' data stays in Redis (for inspection) before it is removed.
pub const KEEP_FINISHED: Duration = Duration::from_secs(3600);

/// A queue's settings on Redis. apalis-redis 1.0 declares a worker dead only after
/// `missed_heartbeats` beats: with the default 30 s beat a killed worker's jobs
/// waited minutes; a 1 s beat and three misses re-run them within seconds.
pub fn config(prefix: &str, job: &str) -> Config {
    Config::default()
        .queue(format!("{prefix}:{job}"))
        .heartbeat_interval(Duration::from_secs(1))
        .missed_heartbeats(3)
        .batch_size(32)
        // Nobody subscribes to apalis' per-job pub/sub events.
        .emit_events(false)
        // apalis-redis 1.0's task locks only write metadata (who runs a job since
        // when), and taking one `LREM`s the job from the active list, which its
        // fetch already trimmed it from: a scan of the whole backlog per job, 100 µs
        // each at 10,000 queued, most of Redis' time. A dead worker's jobs come back
        // through its in-flight set and missed heartbeats, which need no lock.
        .lock_tasks(false)
}

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

/// Moves due scheduled jobs to the active list a chunk at a time.
///
/// apalis-redis 1.0 promotes *all* due jobs in one Lua `unpack`, which fails once
/// about 8,000 are due ("too many results to unpack"), and then every poll fails:
/// a backlog would stall the queue for good. The consumer calls this before each
/// (re)start and the sweeper on every pass, so apalis never finds more due jobs
/// than it can unpack.
pub async fn promote_due<T>(storage: &RedisStorage<T>) -> Result<usize, QueueError> {
    let mut storage = storage.clone();
    let config = storage.get_config().clone();
    let mut moved = 0;
    loop {
        let n: usize = ::redis::Script::new(PROMOTE_DUE)
            .key(config.scheduled_jobs_set())
            .key(config.active_jobs_list())
            .key(config.signal_list())
            .arg(CHUNK)
            .invoke_async(storage.get_connection())
            .await
            .map_err(QueueError::from_display)?;
        moved += n;
        if n < CHUNK {
            return Ok(moved);
        }
    }
}

/// KEYS: data hash, a set of finished ids; ARGV: cursor, count. Removes up to
/// `count` examined members whose data is gone; returns the next cursor.
const FORGET_VACUUMED_IDS: &str = r"
local scan = redis.call('SSCAN', KEYS[2], ARGV[1], 'COUNT', tonumber(ARGV[2]))
for _, id in ipairs(scan[2]) do
  if redis.call('HEXISTS', KEYS[1], id) == 0 then
    redis.call('SREM', KEYS[2], id)
  end
end
return scan[1]
";

/// Removes jobs finished more than `keep` ago from Redis: apalis-redis 1.0 keeps
/// every job's data otherwise, and the outbox already holds the history.
pub async fn vacuum<T: Unpin + Send + Sync + 'static>(
    storage: &RedisStorage<T>,
    keep: Duration,
) -> Result<usize, QueueError> {
    use apalis_core::backend::Vacuum;
    let mut storage = storage.clone();
    let removed = storage
        .vacuum_before(keep)
        .await
        .map_err(QueueError::from_display)?;
    // apalis-redis 1.0's vacuum leaves finished ids in plain sets; drop those whose
    // data is gone, a chunk per call so Redis never blocks on one large set.
    let config = storage.get_config().clone();
    for set in [config.done_jobs_set(), config.dead_jobs_set()] {
        let mut cursor = "0".to_owned();
        loop {
            cursor = ::redis::Script::new(FORGET_VACUUMED_IDS)
                .key(config.job_data_hash())
                .key(&set)
                .arg(&cursor)
                .arg(CHUNK)
                .invoke_async(storage.get_connection())
                .await
                .map_err(QueueError::from_display)?;
            if cursor == "0" {
                break;
            }
        }
    }
    Ok(removed)
}

/// How long ago `worker` last beat its heart in `storage`'s registry of workers (the
/// set apalis-redis 1.0 keeps, scored in whole seconds); `None` if it is not
/// registered (not yet, or declared dead by another worker).
pub async fn since_heartbeat<T>(
    storage: &RedisStorage<T>,
    worker: &str,
) -> Result<Option<Duration>, QueueError> {
    let mut storage = storage.clone();
    let workers = storage.get_config().workers_set();
    let seen: Option<f64> = ::redis::cmd("ZSCORE")
        .arg(workers)
        .arg(worker)
        .query_async(storage.get_connection())
        .await
        .map_err(QueueError::from_display)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    Ok(seen.map(|at| Duration::from_secs_f64((now - at).max(0.0))))
}
