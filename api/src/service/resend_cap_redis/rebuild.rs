//! Rebuilding every client's window at once, so that a client's missing set can be
//! read as "nothing counted in the window" without asking PostgreSQL each time (most
//! resends are a client's first in a day: that read was one transaction of three).
//!
//! The steps: read every counted send of the window from the record, fill each
//! client's set that is still missing (a set made meanwhile by a resend was itself
//! filled from the record first), then set the marker. Any number of processes may
//! do this at once. Losing Redis's data loses the marker with it, and the next
//! resend rebuilds; so does the marker's lapse, one window after it was set. Only a
//! Redis that never evicts keys (`maxmemory-policy noeviction`, its default, which
//! the job queue needs as well) may be trusted like this: one evicted set under a
//! kept marker would count a client from zero.
use super::{RedisLimiter, unavailable};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use redis::{AsyncCommands, Script};
use std::sync::LazyLock;
use std::sync::atomic::Ordering;
use uuid::Uuid;

/// KEYS[1] = a client's set; ARGV = window (ms), then the recorded send times (ms).
/// Fills the set only if it is missing.
static FILL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], tonumber(ARGV[i]), 'record:' .. ARGV[i] .. ':' .. (i + 4))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
",
    )
});

/// Clients filled per round trip.
const CHUNK: usize = 500;

/// Rebuilds the windows as of `now` and sets the marker; does nothing when Redis may
/// evict keys or the marker is already there.
pub(super) async fn run(limiter: &RedisLimiter, now: DateTime<Utc>) -> Result<(), AppError> {
    let mut conn = limiter.conn.clone();
    if !never_evicts(&mut conn).await? {
        limiter.evicting.store(true, Ordering::Release);
        tracing::warn!(
            cap = limiter.name,
            "Redis may evict keys (maxmemory-policy is not noeviction, or CONFIG is not \
             allowed): each client's window is read from PostgreSQL when missing"
        );
        return Ok(());
    }
    let marker = &limiter.marker;
    if conn.exists(marker).await.map_err(unavailable)? {
        return Ok(());
    }
    let since = now - limiter.window.chrono_length();
    // Client by client as the sends arrive (ordered by client), CHUNK clients per
    // round trip: memory holds one chunk, not the day's sends of every practice.
    let mut sends = limiter.history.all_counted_since(since);
    let mut chunk: Vec<(Uuid, Vec<i64>)> = Vec::with_capacity(CHUNK);
    let mut count = 0;
    while let Some((client, at)) = sends.try_next().await? {
        count += 1;
        match chunk.last_mut() {
            Some((last, times)) if *last == client => times.push(at.timestamp_millis()),
            _ => {
                if chunk.len() == CHUNK {
                    fill(limiter, &mut conn, chunk.drain(..)).await?;
                }
                chunk.push((client, vec![at.timestamp_millis()]));
            }
        }
    }
    fill(limiter, &mut conn, chunk.drain(..)).await?;
    // The marker lasts one window, like every key of the cap: nothing the cap writes
    // outlives its window in Redis (a prefix or a window no longer configured, a test
    // that ended while its rebuild ran). Once it lapses, the next resend reads its
    // client's record and rebuilds again in the background, one read of the window's
    // sends.
    let () = conn
        .pset_ex(marker, 1, limiter.window_ms().max(1) as u64)
        .await
        .map_err(unavailable)?;
    tracing::info!(
        cap = limiter.name,
        sends = count,
        "resend windows rebuilt from the record"
    );
    Ok(())
}

/// Fills the sets of `clients` (each with its send times, in ms) that are missing,
/// in one round trip.
async fn fill(
    limiter: &RedisLimiter,
    conn: &mut redis::aio::ConnectionManager,
    clients: impl ExactSizeIterator<Item = (Uuid, Vec<i64>)>,
) -> Result<(), AppError> {
    if clients.len() == 0 {
        return Ok(());
    }
    let mut pipe = redis::pipe();
    pipe.load_script(&FILL).ignore();
    for (client, times) in clients {
        let mut fill = FILL.key(limiter.key(client));
        fill.arg(limiter.window_ms()).arg(times);
        pipe.invoke_script(&fill).ignore();
    }
    let () = pipe.query_async(conn).await.map_err(unavailable)?;
    Ok(())
}

/// Whether Redis says it never evicts keys: `false` also when it refuses to say (no
/// `CONFIG` for this user); an error only when it cannot be reached.
async fn never_evicts(conn: &mut redis::aio::ConnectionManager) -> Result<bool, AppError> {
    let policy: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory-policy")
        .query_async(conn)
        .await;
    match policy {
        Ok(policy) => Ok(matches!(policy.as_slice(), [_, p] if p == "noeviction")),
        // Redis answered, but will not say (NOPERM, CONFIG renamed away).
        Err(e) if matches!(e.kind(), redis::ErrorKind::Server(_)) => Ok(false),
        Err(e) => Err(unavailable(e)),
    }
}
