//! The Redis implementation of the resend cap: one sorted set per client (scores are
//! milliseconds), one Lua script that trims, counts and adds only under the limit, so
//! any number of API processes share one exact count. Redis down → refuse (fail closed).
//!
//! A client's set missing from Redis means "no counted send in the window" only while
//! Redis holds the whole window: a marker key says so (see [`rebuild`]). Without it
//! (Redis restarted empty, or never rebuilt) the client's set is first rebuilt from the
//! record in PostgreSQL, and the whole store is rebuilt in the background; if that
//! read fails, refuse too.
use super::resend_cap::{Acquired, Quota, ResendLimiter, SendHistory, Slot, Window};
use crate::error::AppError;
use chrono::{DateTime, TimeZone, Utc};
use futures::future::BoxFuture;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

mod rebuild;

/// KEYS[1] = the client's set, KEYS[2] = the marker that Redis holds every counted
/// send in the window; ARGV = now (ms), window (ms), limit, member, mode, then (mode
/// `seed`) the recorded send times (ms). With mode `check`, no set and no marker,
/// returns {-1, 0, -1}: the caller reads the record and calls again with `seed`,
/// which fills a still-missing set from it first. Otherwise returns {granted (0/1),
/// count after, oldest score or -1}.
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[5] == 'check' and redis.call('EXISTS', KEYS[2]) == 0 then return {-1, 0, -1} end
  for i = 6, #ARGV do
    redis.call('ZADD', KEYS[1], tonumber(ARGV[i]), 'record:' .. ARGV[i] .. ':' .. i)
  end
  if #ARGV >= 6 then redis.call('PEXPIRE', KEYS[1], window) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local granted = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  count = count + 1
  granted = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local oldest_score = -1
if oldest[2] then oldest_score = tonumber(oldest[2]) end
return {granted, count, oldest_score}
",
    )
});

/// Resend windows in Redis.
#[derive(Clone)]
pub struct RedisLimiter {
    conn: ConnectionManager,
    window: Window,
    /// Namespaces the keys: `{prefix}:{name}:{client_id}`.
    prefix: String,
    name: &'static str,
    history: Arc<dyn SendHistory>,
    /// Set once Redis holds every counted send of the window; named by the window's
    /// length, so that a longer window configured later is rebuilt, not trusted.
    marker: String,
    /// A rebuild of the whole store is under way in this process.
    rebuilding: Arc<AtomicBool>,
    /// Redis may evict keys: a missing set is always read from the record.
    evicting: Arc<AtomicBool>,
}

impl RedisLimiter {
    /// One cap, `name` (`resend`, `reset`), under `prefix`, rebuilt from `history`.
    pub fn new(
        conn: ConnectionManager,
        window: Window,
        prefix: &str,
        name: &'static str,
        history: Arc<dyn SendHistory>,
    ) -> Self {
        Self {
            conn,
            window,
            prefix: prefix.to_owned(),
            marker: format!("{prefix}:{name}:complete:{}", window.length.as_millis()),
            name,
            history,
            rebuilding: Arc::default(),
            evicting: Arc::default(),
        }
    }

    fn key(&self, client_id: Uuid) -> String {
        format!("{}:{}:{client_id}", self.prefix, self.name)
    }

    /// The client's windows are missing and Redis does not hold the whole window:
    /// rebuild it from the record in the background (once at a time per process).
    fn rebuild_in_background(&self, now: DateTime<Utc>) {
        if self.evicting.load(Ordering::Acquire) || self.rebuilding.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = rebuild::run(&this, now).await {
                tracing::warn!(error = %e, cap = this.name, "could not rebuild the resend windows");
            }
            this.rebuilding.store(false, Ordering::Release);
        });
    }

    /// The recorded sends still in the window, as scores.
    async fn recorded(&self, client_id: Uuid, now: DateTime<Utc>) -> Result<Vec<i64>, AppError> {
        let since = now - self.window.chrono_length();
        let sends = self.history.counted_since(client_id, since).await?;
        Ok(sends.iter().map(DateTime::timestamp_millis).collect())
    }

    async fn run_acquire(
        &self,
        client_id: Uuid,
        now: DateTime<Utc>,
        member: &str,
        seeds: Option<Vec<i64>>,
    ) -> Result<(i64, u32, i64), AppError> {
        let mut conn = self.conn.clone();
        let mut call = ACQUIRE.key(self.key(client_id));
        call.key(&self.marker);
        call.arg(now.timestamp_millis())
            .arg(self.window_ms())
            .arg(self.window.limit)
            .arg(member);
        match seeds {
            None => call.arg("check"),
            Some(seeds) => call.arg("seed").arg(seeds),
        };
        call.invoke_async(&mut conn).await.map_err(unavailable)
    }

    fn window_ms(&self) -> i64 {
        self.window.length.as_millis() as i64
    }
}

fn unavailable(e: redis::RedisError) -> AppError {
    tracing::warn!(error = %e, "Redis unavailable for the resend cap");
    AppError::ServiceUnavailable("The resend limiter")
}

fn from_ms(ms: i64) -> Option<DateTime<Utc>> {
    (ms >= 0)
        .then(|| Utc.timestamp_millis_opt(ms).single())
        .flatten()
}

impl ResendLimiter for RedisLimiter {
    fn acquire(
        &self,
        client_id: Uuid,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Acquired, AppError>> {
        Box::pin(async move {
            let member = Uuid::new_v4().to_string();
            let mut answer = self.run_acquire(client_id, now, &member, None).await?;
            if answer.0 == -1 {
                self.rebuild_in_background(now);
                let seeds = self.recorded(client_id, now).await?;
                answer = self
                    .run_acquire(client_id, now, &member, Some(seeds))
                    .await?;
            }
            let (granted, count, oldest) = answer;
            let quota: Quota = self.window.quota(now, count, from_ms(oldest));
            Ok(if granted == 1 {
                Acquired::Granted {
                    slot: Slot { client_id, member },
                    quota,
                }
            } else {
                Acquired::Refused { quota }
            })
        })
    }

    fn release(&self, slot: Slot) -> BoxFuture<'_, Result<(), AppError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let _: i64 = conn
                .zrem(self.key(slot.client_id), &slot.member)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn quota(&self, client_id: Uuid, now: DateTime<Utc>) -> BoxFuture<'_, Result<Quota, AppError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let since = format!("({}", now.timestamp_millis() - self.window_ms());
            let key = self.key(client_id);
            let (exists, complete, count, oldest): (bool, bool, u32, Vec<(String, i64)>) =
                redis::pipe()
                    .exists(&key)
                    .exists(&self.marker)
                    .zcount(&key, &since, "+inf")
                    .zrangebyscore_limit_withscores(&key, &since, "+inf", 0, 1)
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
            if !exists && !complete {
                self.rebuild_in_background(now);
                let recorded = self.recorded(client_id, now).await?;
                let oldest = recorded.first().copied().and_then(from_ms);
                return Ok(self.window.quota(now, recorded.len() as u32, oldest));
            }
            let oldest = oldest.first().and_then(|(_, score)| from_ms(*score));
            Ok(self.window.quota(now, count, oldest))
        })
    }
}
