//! Fixed-window counters for the abuse limits: Redis (shared by every API process)
//! or in-process (embedded mode). A counter's key already names its window, so the
//! store only reserves, takes back and forgets; expiry just keeps it tidy.
use crate::error::AppError;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use redis::Script;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// One counter to reserve in: it refuses at `limit`, and lives at least `ttl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserve {
    pub key: String,
    pub limit: u64,
    pub ttl: Duration,
}

/// Where the counters live.
pub trait CounterStore: Send + Sync {
    /// Atomically: when every counter is below its limit, adds one to each and
    /// returns nothing; otherwise changes nothing and returns the positions of the
    /// counters at their limit. Concurrent callers can never pass together past a
    /// limit (reserve first, settle after).
    fn reserve(
        &self,
        counters: Vec<Reserve>,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<usize>, AppError>>;
    /// Takes back one from each counter (never below zero): a reservation the
    /// attempt did not use.
    fn release(&self, keys: Vec<String>) -> BoxFuture<'_, Result<(), AppError>>;
    /// Forgets a counter (a success clears its failures).
    fn clear(&self, key: String) -> BoxFuture<'_, Result<(), AppError>>;
}

/// KEYS: the counters; ARGV: their limits, then their TTLs (ms). See
/// [`CounterStore::reserve`].
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = #KEYS
local full = {}
for i = 1, n do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then
    full[#full + 1] = i - 1
  end
end
if #full > 0 then return full end
for i = 1, n do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[n + i])
end
return full
",
    )
});

/// KEYS: the counters. Takes one back from each that is above zero.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
",
    )
});

/// Counters in Redis: one script call per request, atomic across API processes.
#[derive(Clone)]
pub struct RedisCounters {
    conn: ConnectionManager,
}

impl RedisCounters {
    pub fn new(conn: ConnectionManager) -> Self {
        Self { conn }
    }
}

fn unavailable(e: redis::RedisError) -> AppError {
    tracing::warn!(error = %e, "Redis unavailable for the abuse limits");
    AppError::ServiceUnavailable("The sign-in limiter")
}

impl CounterStore for RedisCounters {
    fn reserve(
        &self,
        counters: Vec<Reserve>,
        _now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<usize>, AppError>> {
        Box::pin(async move {
            let mut call = RESERVE.prepare_invoke();
            for c in &counters {
                call.key(&c.key).arg(c.limit);
            }
            for c in &counters {
                call.arg(c.ttl.as_millis() as u64);
            }
            let mut conn = self.conn.clone();
            call.invoke_async(&mut conn).await.map_err(unavailable)
        })
    }

    fn release(&self, keys: Vec<String>) -> BoxFuture<'_, Result<(), AppError>> {
        Box::pin(async move {
            let mut call = RELEASE.prepare_invoke();
            for key in &keys {
                call.key(key);
            }
            let mut conn = self.conn.clone();
            call.invoke_async::<i64>(&mut conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn clear(&self, key: String) -> BoxFuture<'_, Result<(), AppError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::cmd("DEL")
                .arg(&key)
                .query_async::<()>(&mut conn)
                .await
                .map_err(unavailable)
        })
    }
}

/// Counters in this process. Expired entries are dropped as the map grows, so an
/// attacker spraying new keys costs bounded memory for at most one window.
#[derive(Debug, Default)]
pub struct InProcessCounters {
    entries: Mutex<HashMap<String, (u64, DateTime<Utc>)>>,
}

const PRUNE_AT: usize = 10_000;

impl CounterStore for InProcessCounters {
    fn reserve(
        &self,
        counters: Vec<Reserve>,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<usize>, AppError>> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > PRUNE_AT {
            map.retain(|_, (_, expires)| *expires > now);
        }
        let value = |map: &HashMap<_, (u64, DateTime<Utc>)>, key: &String| {
            map.get(key)
                .filter(|(_, expires)| *expires > now)
                .map_or(0, |(v, _)| *v)
        };
        let full: Vec<usize> = counters
            .iter()
            .enumerate()
            .filter(|(_, c)| value(&map, &c.key) >= c.limit)
            .map(|(i, _)| i)
            .collect();
        if full.is_empty() {
            for c in counters {
                let current = value(&map, &c.key);
                let expires = now + chrono::Duration::from_std(c.ttl).unwrap_or_default();
                map.insert(c.key, (current + 1, expires));
            }
        }
        Box::pin(async move { Ok(full) })
    }

    fn release(&self, keys: Vec<String>) -> BoxFuture<'_, Result<(), AppError>> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            if let Some((value, _)) = map.get_mut(&key) {
                *value = value.saturating_sub(1);
            }
        }
        Box::pin(async { Ok(()) })
    }

    fn clear(&self, key: String) -> BoxFuture<'_, Result<(), AppError>> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&key);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(key: &str, limit: u64) -> Reserve {
        Reserve {
            key: key.to_owned(),
            limit,
            ttl: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn reserves_all_or_nothing_releases_expires_and_clears() {
        let store = InProcessCounters::default();
        let now = Utc::now();
        let both = || vec![counter("a", 2), counter("b", 1)];
        let a = || vec![counter("a", 2)];
        let refused = async |counters| store.reserve(counters, now).await.unwrap();
        assert!(refused(both()).await.is_empty());
        assert_eq!(refused(both()).await, [1]);
        // Nothing was added by the refusal: "a" still has room for one.
        assert!(refused(a()).await.is_empty());
        assert_eq!(refused(a()).await, [0]);
        store.release(vec!["a".to_owned()]).await.unwrap();
        assert!(refused(a()).await.is_empty());
        let later = now + chrono::Duration::seconds(61);
        assert!(store.reserve(both(), later).await.unwrap().is_empty());
        store.clear("b".to_owned()).await.unwrap();
        assert!(
            store
                .reserve(vec![counter("b", 1)], later)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
