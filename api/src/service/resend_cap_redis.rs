//! The Redis implementation of the resend cap: one sorted set per client (scores are
//! milliseconds), one Lua script that trims, counts and adds only under the limit, so
//! any number of API processes share one exact count. Redis down → refuse (fail closed).
use super::resend_cap::{Acquired, Quota, ResendLimiter, Slot, Window};
use crate::error::AppError;
use chrono::{DateTime, TimeZone, Utc};
use futures::future::BoxFuture;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use std::sync::LazyLock;
use uuid::Uuid;

/// KEYS[1] = the client's set; ARGV = now (ms), window (ms), limit, member.
/// Returns {granted (0/1), count after, oldest score or -1}.
static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
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
    prefix: String,
}

impl RedisLimiter {
    /// `prefix` namespaces the keys (`{prefix}:resend:{client_id}`).
    pub fn new(conn: ConnectionManager, window: Window, prefix: &str) -> Self {
        Self {
            conn,
            window,
            prefix: prefix.to_owned(),
        }
    }

    fn key(&self, client_id: Uuid) -> String {
        format!("{}:resend:{client_id}", self.prefix)
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
            let mut conn = self.conn.clone();
            let (granted, count, oldest): (i64, u32, i64) = ACQUIRE
                .key(self.key(client_id))
                .arg(now.timestamp_millis())
                .arg(self.window_ms())
                .arg(self.window.limit)
                .arg(&member)
                .invoke_async(&mut conn)
                .await
                .map_err(unavailable)?;
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
            let (count, oldest): (u32, Vec<(String, i64)>) = redis::pipe()
                .zcount(&key, &since, "+inf")
                .zrangebyscore_limit_withscores(&key, &since, "+inf", 0, 1)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            let oldest = oldest.first().and_then(|(_, score)| from_ms(*score));
            Ok(self.window.quota(now, count, oldest))
        })
    }
}
