//! R5: at most `limit` resends per client in any sliding `window`. One trait, two
//! implementations: Redis (shared by every API process) and in-process (embedded
//! mode). Both keep the window in memory for speed; PostgreSQL keeps the record
//! (`email_delivery.counted_in`), and a window that memory lost (Redis restarted
//! empty, the embedded process restarted) is rebuilt from it before deciding.
use crate::error::AppError;
use chrono::{DateTime, Utc};
use entity::email_delivery::{self, Cap};
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// The durable record of counted sends, to rebuild a lost window from.
pub trait SendHistory: Send + Sync {
    /// When the client's counted sends since `since` were made, oldest first.
    fn counted_since(
        &self,
        client_id: Uuid,
        since: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<DateTime<Utc>>, AppError>>;
    /// Every client's counted sends since `since`, by client and then time: what a
    /// whole store of windows is rebuilt from at once. A stream: a day's sends of
    /// every practice are not held in memory at once.
    fn all_counted_since(&self, since: DateTime<Utc>) -> Sends<'_>;
}

/// Counted sends as (client, when).
pub type Sends<'a> = BoxStream<'a, Result<(Uuid, DateTime<Utc>), AppError>>;

/// The outbox as the record of one cap's sends.
pub struct OutboxHistory {
    pub db: DatabaseConnection,
    pub cap: Cap,
}

impl SendHistory for OutboxHistory {
    fn counted_since(
        &self,
        client_id: Uuid,
        since: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<DateTime<Utc>>, AppError>> {
        Box::pin(async move {
            Ok(email_delivery::Entity::find()
                .select_only()
                .column(email_delivery::Column::CreatedAt)
                .filter(email_delivery::Column::ClientId.eq(client_id))
                .filter(email_delivery::Column::CountedIn.eq(self.cap))
                .filter(email_delivery::Column::CreatedAt.gt(since))
                .order_by_asc(email_delivery::Column::CreatedAt)
                .into_tuple()
                .all(&self.db)
                .await?)
        })
    }

    fn all_counted_since(&self, since: DateTime<Utc>) -> Sends<'_> {
        let sends = email_delivery::Entity::find()
            .select_only()
            .column(email_delivery::Column::ClientId)
            .column(email_delivery::Column::CreatedAt)
            .filter(email_delivery::Column::CountedIn.eq(self.cap))
            .filter(email_delivery::Column::CreatedAt.gt(since))
            .order_by_asc(email_delivery::Column::ClientId)
            .order_by_asc(email_delivery::Column::CreatedAt)
            .into_tuple::<(Uuid, DateTime<Utc>)>();
        stream::once(sends.stream(&self.db))
            .map_ok(|rows| rows.map_err(AppError::from))
            .map_err(AppError::from)
            .try_flatten()
            .boxed()
    }
}

/// No record: nothing to rebuild from (unit tests of the window alone).
pub struct NoHistory;

impl SendHistory for NoHistory {
    fn counted_since(
        &self,
        _: Uuid,
        _: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<DateTime<Utc>>, AppError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn all_counted_since(&self, _: DateTime<Utc>) -> Sends<'_> {
        stream::empty().boxed()
    }
}

/// Where a client stands against the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    pub window: Duration,
    /// When the next resend is allowed: now while `remaining > 0`, else when the
    /// oldest counted resend leaves the window.
    pub next_available_at: DateTime<Utc>,
}

/// A taken slot; given back with [`ResendLimiter::release`] if the resend then fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub client_id: Uuid,
    pub member: String,
}

/// The answer to "may this client be sent another link now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    Granted { slot: Slot, quota: Quota },
    Refused { quota: Quota },
}

/// A sliding-window counter of resends per client.
pub trait ResendLimiter: Send + Sync {
    /// Counts one resend at `now` if the client is under the limit; atomic.
    fn acquire(
        &self,
        client_id: Uuid,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Acquired, AppError>>;
    /// Gives a slot back (the resend it was taken for did not happen).
    fn release(&self, slot: Slot) -> BoxFuture<'_, Result<(), AppError>>;
    /// Reads the client's quota at `now` without counting anything.
    fn quota(&self, client_id: Uuid, now: DateTime<Utc>) -> BoxFuture<'_, Result<Quota, AppError>>;
}

/// Limit and window, shared by both implementations.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub limit: u32,
    pub length: Duration,
}

impl Window {
    /// The window's length for date arithmetic (saturating: a window chrono cannot
    /// hold is refused at start-up).
    pub fn chrono_length(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.length).unwrap_or(chrono::Duration::MAX)
    }

    /// The quota given `count` resends in the window, the oldest at `oldest`.
    pub fn quota(&self, now: DateTime<Utc>, count: u32, oldest: Option<DateTime<Utc>>) -> Quota {
        let remaining = self.limit.saturating_sub(count);
        let length = self.chrono_length();
        let next_available_at = match (remaining, oldest) {
            (0, Some(oldest)) => oldest + length,
            _ => now,
        };
        Quota {
            limit: self.limit,
            remaining,
            window: self.length,
            next_available_at,
        }
    }
}

/// One client's counted resends, oldest first: (when, slot id).
type Entries = VecDeque<(DateTime<Utc>, String)>;

/// The embedded implementation: one process, one map.
pub struct InProcessLimiter {
    window: Window,
    entries: Mutex<HashMap<Uuid, Entries>>,
    history: Arc<dyn SendHistory>,
}

impl InProcessLimiter {
    pub fn new(window: Window, history: Arc<dyn SendHistory>) -> Self {
        Self {
            window,
            entries: Mutex::new(HashMap::new()),
            history,
        }
    }

    /// Loads the client's window from the record if this process has none yet.
    async fn ensure_loaded(&self, client_id: Uuid, now: DateTime<Utc>) -> Result<(), AppError> {
        let loaded = {
            let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            map.contains_key(&client_id)
        };
        if loaded {
            return Ok(());
        }
        let since = now - self.window.chrono_length();
        let mut sends = self.history.counted_since(client_id, since).await?;
        sends.sort();
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(client_id).or_insert_with(|| {
            let seeded = sends.into_iter().map(|at| (at, format!("record:{at}")));
            seeded.collect()
        });
        Ok(())
    }

    fn with_entries<T>(
        &self,
        client_id: Uuid,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut Entries) -> T,
    ) -> T {
        let length = self.window.chrono_length();
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entries = map.entry(client_id).or_default();
        while entries.front().is_some_and(|(at, _)| *at <= now - length) {
            entries.pop_front();
        }
        f(entries)
    }
}

impl ResendLimiter for InProcessLimiter {
    fn acquire(
        &self,
        client_id: Uuid,
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Acquired, AppError>> {
        Box::pin(async move {
            self.ensure_loaded(client_id, now).await?;
            Ok(self.acquire_loaded(client_id, now))
        })
    }

    fn release(&self, slot: Slot) -> BoxFuture<'_, Result<(), AppError>> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entries) = map.get_mut(&slot.client_id) {
            entries.retain(|(_, m)| *m != slot.member);
        }
        Box::pin(async { Ok(()) })
    }

    fn quota(&self, client_id: Uuid, now: DateTime<Utc>) -> BoxFuture<'_, Result<Quota, AppError>> {
        Box::pin(async move {
            self.ensure_loaded(client_id, now).await?;
            Ok(self.with_entries(client_id, now, |entries| {
                self.window
                    .quota(now, entries.len() as u32, entries.front().map(|e| e.0))
            }))
        })
    }
}

impl InProcessLimiter {
    fn acquire_loaded(&self, client_id: Uuid, now: DateTime<Utc>) -> Acquired {
        self.with_entries(client_id, now, |entries| {
            let count = entries.len() as u32;
            if count >= self.window.limit {
                let quota = self.window.quota(now, count, entries.front().map(|e| e.0));
                return Acquired::Refused { quota };
            }
            let member = Uuid::new_v4().to_string();
            entries.push_back((now, member.clone()));
            let quota = self
                .window
                .quota(now, count + 1, entries.front().map(|e| e.0));
            Acquired::Granted {
                slot: Slot { client_id, member },
                quota,
            }
        })
    }
}

#[cfg(test)]
mod tests;
