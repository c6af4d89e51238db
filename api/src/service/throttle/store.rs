//! Sliding-window logs for the abuse limits: Redis (shared by every API process) or
//! in-process (embedded mode). A counter is the log of the attempts it holds, each
//! stamped with its time; an attempt counts for exactly one window length after it,
//! so no boundary ever lets twice a limit through, and a refusal can say to the
//! millisecond when the oldest attempt in the way stops counting.
use crate::error::AppError;
use chrono::{DateTime, TimeZone, Utc};
use futures::future::BoxFuture;
use redis::Script;
use redis::aio::ConnectionManager;
use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// One counter to reserve in: it refuses at `limit` attempts within `window`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserve {
    pub key: String,
    pub limit: u64,
    pub window: Duration,
}

/// A counter at its limit: its position in the request, and when it has room again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Full {
    pub index: usize,
    pub frees_at: DateTime<Utc>,
}

/// Where the counters live. An attempt is one `entry` (unique per check) in every
/// counter it reserved in.
pub trait CounterStore: Send + Sync {
    /// Atomically: when every counter holds fewer than its limit within its window,
    /// adds `entry` at `now` to each and returns nothing; otherwise changes nothing
    /// and returns the counters at their limit. Concurrent callers can never pass
    /// together past a limit (reserve first, settle after).
    fn reserve(
        &self,
        counters: Vec<Reserve>,
        entry: String,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<Full>, AppError>>;
    /// Takes `entry` back out of each counter: a reservation the attempt did not use.
    fn release(&self, keys: Vec<String>, entry: String) -> BoxFuture<'_, Result<(), AppError>>;
    /// Forgets a counter (a success clears its failures).
    fn clear(&self, key: String) -> BoxFuture<'_, Result<(), AppError>>;
}

fn at_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// KEYS: the counters (sorted sets scored by time in ms); ARGV: now (ms), the entry,
/// then the limits, then the windows (ms). Returns `{position, frees at (ms)}` for
/// each counter at its limit. See [`CounterStore::reserve`].
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = #KEYS
local now = tonumber(ARGV[1])
local full = {}
for i = 1, n do
  local limit = tonumber(ARGV[2 + i])
  local window = tonumber(ARGV[2 + n + i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    full[#full + 1] = {i - 1, tonumber(oldest[2]) + window}
  end
end
if #full > 0 then return full end
for i = 1, n do
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], ARGV[2 + n + i])
end
return full
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
        entry: String,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<Full>, AppError>> {
        Box::pin(async move {
            let mut call = RESERVE.prepare_invoke();
            call.arg(now.timestamp_millis()).arg(entry);
            for c in &counters {
                call.key(&c.key).arg(c.limit);
            }
            for c in &counters {
                call.arg(c.window.as_millis() as u64);
            }
            let mut conn = self.conn.clone();
            let full: Vec<(usize, i64)> =
                call.invoke_async(&mut conn).await.map_err(unavailable)?;
            Ok(full
                .into_iter()
                .map(|(index, ms)| Full {
                    index,
                    frees_at: at_ms(ms),
                })
                .collect())
        })
    }

    fn release(&self, keys: Vec<String>, entry: String) -> BoxFuture<'_, Result<(), AppError>> {
        Box::pin(async move {
            let mut pipe = redis::pipe();
            for key in &keys {
                pipe.zrem(key, &entry).ignore();
            }
            let mut conn = self.conn.clone();
            pipe.query_async::<()>(&mut conn).await.map_err(unavailable)
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

/// One counter's log in memory: its window, and its entries oldest first.
#[derive(Debug)]
struct Log {
    window_ms: i64,
    entries: VecDeque<(i64, String)>,
}

impl Log {
    fn forget_before(&mut self, now_ms: i64) {
        while self
            .entries
            .front()
            .is_some_and(|(at, _)| *at <= now_ms - self.window_ms)
        {
            self.entries.pop_front();
        }
    }
}

/// Counters in this process. Counters whose entries have all expired are dropped as
/// the map grows, so an attacker spraying new keys costs bounded memory for at most
/// one window.
#[derive(Debug, Default)]
pub struct InProcessCounters {
    logs: Mutex<HashMap<String, Log>>,
}

const PRUNE_AT: usize = 10_000;

impl CounterStore for InProcessCounters {
    fn reserve(
        &self,
        counters: Vec<Reserve>,
        entry: String,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<Full>, AppError>> {
        let now_ms = now.timestamp_millis();
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        if logs.len() > PRUNE_AT {
            logs.retain(|_, log| {
                log.forget_before(now_ms);
                !log.entries.is_empty()
            });
        }
        let mut full = Vec::new();
        for (index, c) in counters.iter().enumerate() {
            let window_ms = c.window.as_millis() as i64;
            let log = logs.entry(c.key.clone()).or_insert_with(|| Log {
                window_ms,
                entries: VecDeque::new(),
            });
            log.window_ms = window_ms;
            log.forget_before(now_ms);
            let count = log.entries.len() as u64;
            if count >= c.limit {
                let (oldest, _) = log.entries[(count - c.limit) as usize];
                full.push(Full {
                    index,
                    frees_at: at_ms(oldest + window_ms),
                });
            }
        }
        if full.is_empty() {
            for c in &counters {
                if let Some(log) = logs.get_mut(&c.key) {
                    log.entries.push_back((now_ms, entry.clone()));
                }
            }
        }
        Box::pin(async move { Ok(full) })
    }

    fn release(&self, keys: Vec<String>, entry: String) -> BoxFuture<'_, Result<(), AppError>> {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            if let Some(log) = logs.get_mut(&key) {
                log.entries.retain(|(_, e)| *e != entry);
            }
        }
        Box::pin(async { Ok(()) })
    }

    fn clear(&self, key: String) -> BoxFuture<'_, Result<(), AppError>> {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.remove(&key);
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
            window: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn reserves_all_or_nothing_releases_slides_and_clears() {
        let store = InProcessCounters::default();
        let now = at_ms(Utc::now().timestamp_millis());
        let both = || vec![counter("a", 2), counter("b", 1)];
        let a = || vec![counter("a", 2)];
        let at = async |counters, entry: &str, now| {
            let full: Vec<Full> = store
                .reserve(counters, entry.to_owned(), now)
                .await
                .unwrap();
            full.into_iter().map(|f| f.index).collect::<Vec<_>>()
        };
        assert!(at(both(), "1", now).await.is_empty());
        assert_eq!(at(both(), "2", now).await, [1]);
        // Nothing was added by the refusal: "a" still has room for one.
        let later = now + chrono::Duration::seconds(30);
        assert!(at(a(), "3", later).await.is_empty());
        let full = store.reserve(a(), "4".into(), later).await.unwrap();
        // Full until its oldest entry is a window old, not until a boundary.
        assert_eq!(full[0].frees_at, now + chrono::Duration::seconds(60));
        store.release(vec!["a".into()], "3".into()).await.unwrap();
        assert!(at(a(), "5", later).await.is_empty());
        let next = now + chrono::Duration::seconds(60);
        assert!(at(a(), "6", next).await.is_empty());
        assert_eq!(at(a(), "7", next).await, [0], "entry 5 still counts");
        store.clear("b".to_owned()).await.unwrap();
        assert!(at(vec![counter("b", 1)], "8", now).await.is_empty());
    }
}
