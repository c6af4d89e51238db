//! Fixed-window counters for the abuse limits: Redis (shared by every API process)
//! or in-process (embedded mode). A counter's key already names its window, so the
//! store only adds, reads and forgets; expiry just keeps it tidy.
use crate::error::AppError;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// One counter to touch: add `by` (0 reads it) and keep it at least `ttl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bump {
    pub key: String,
    pub by: u32,
    pub ttl: Duration,
}

/// Where the counters live.
pub trait CounterStore: Send + Sync {
    /// Applies every bump at once and returns each counter's value after it.
    fn bump(
        &self,
        bumps: Vec<Bump>,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<u64>, AppError>>;
    /// Forgets a counter (a success clears its failures).
    fn clear(&self, key: String) -> BoxFuture<'_, Result<(), AppError>>;
}

/// Counters in Redis: one pipeline per request, `INCRBY` + `PEXPIRE` per counter.
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
    fn bump(
        &self,
        bumps: Vec<Bump>,
        _now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<u64>, AppError>> {
        Box::pin(async move {
            let mut pipe = redis::pipe();
            pipe.atomic();
            for b in &bumps {
                pipe.incr(&b.key, b.by)
                    .pexpire(&b.key, b.ttl.as_millis() as i64)
                    .ignore();
            }
            let mut conn = self.conn.clone();
            pipe.query_async(&mut conn).await.map_err(unavailable)
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
    fn bump(
        &self,
        bumps: Vec<Bump>,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<u64>, AppError>> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > PRUNE_AT {
            map.retain(|_, (_, expires)| *expires > now);
        }
        let values = bumps
            .into_iter()
            .map(|b| {
                let expires = now + chrono::Duration::from_std(b.ttl).unwrap_or_default();
                let entry = map.entry(b.key).or_insert((0, expires));
                if entry.1 <= now {
                    *entry = (0, expires);
                }
                entry.0 += u64::from(b.by);
                if b.by > 0 {
                    entry.1 = expires;
                }
                entry.0
            })
            .collect();
        Box::pin(async move { Ok(values) })
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

    fn bump(key: &str, by: u32) -> Bump {
        Bump {
            key: key.to_owned(),
            by,
            ttl: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn counts_reads_expires_and_clears() {
        let store = InProcessCounters::default();
        let now = Utc::now();
        assert_eq!(
            store
                .bump(vec![bump("a", 1), bump("b", 0)], now)
                .await
                .unwrap(),
            [1, 0]
        );
        assert_eq!(store.bump(vec![bump("a", 2)], now).await.unwrap(), [3]);
        let later = now + chrono::Duration::seconds(61);
        assert_eq!(store.bump(vec![bump("a", 0)], later).await.unwrap(), [0]);
        store.bump(vec![bump("a", 1)], now).await.unwrap();
        store.clear("a".to_owned()).await.unwrap();
        assert_eq!(store.bump(vec![bump("a", 0)], now).await.unwrap(), [0]);
    }
}
