//! Abuse limits on the public operations: per caller IP and per account (the email
//! or link token the request names). Each request is checked before any password
//! work, so a refused attempt costs almost nothing and looks the same for known and
//! unknown accounts.
//!
//! Wrong passwords are counted twice: per account *and IP* (tight: 5 per 5 minutes)
//! and per account from anywhere (looser: 20 per 15 minutes). One stranger therefore
//! slows only their own guesses and cannot lock the owner out; many strangers
//! together lock an account for at most the rest of a 15-minute window. A success
//! clears the pair's failures.
mod rules;
mod store;
#[cfg(test)]
mod tests;

pub use rules::Action;
pub use store::{Bump, CounterStore, InProcessCounters, RedisCounters};

use crate::error::AppError;
use access::clock::SharedClock;
use chrono::{DateTime, TimeZone, Utc};
use rules::{Counter, Counts, Scope};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// An attempt that passed the limits; report how it went with
/// [`Throttle::failed`] or [`Throttle::succeeded`].
#[derive(Debug, Clone)]
pub struct Permit {
    action: Action,
    ip: String,
    account: String,
    pair: String,
}

/// The abuse limits, over a counter store. While the store (Redis) is unreachable the
/// counting goes on in this process's memory: the limits hold per instance, and
/// signing in does not depend on Redis.
#[derive(Clone)]
pub struct Throttle {
    store: Arc<dyn CounterStore>,
    local: Arc<InProcessCounters>,
    clock: SharedClock,
    prefix: String,
    /// Multiplies every limit (`ABUSE_LIMIT_SCALE`; benchmarks raise it).
    scale: u32,
}

fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    hash[..12].iter().map(|b| format!("{b:02x}")).collect()
}

impl Throttle {
    pub fn new(store: Arc<dyn CounterStore>, clock: SharedClock, prefix: &str, scale: u32) -> Self {
        Self {
            store,
            local: Arc::default(),
            clock,
            prefix: prefix.to_owned(),
            scale: scale.max(1),
        }
    }

    /// `{prefix}:abuse:{action}:{scope}:{subject digest}:{window index}`, and when
    /// that window ends. Subjects are hashed so no email address or token sits in Redis.
    fn key(
        &self,
        permit: &Permit,
        counter: &Counter,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>) {
        let (scope, subject) = match counter.scope {
            Scope::Ip => ("ip", &permit.ip),
            Scope::Account => ("account", &permit.account),
            Scope::Pair => ("pair", &permit.pair),
        };
        let window_ms = counter.window.as_millis().max(1) as i64;
        let index = now.timestamp_millis().div_euclid(window_ms);
        let ends = Utc
            .timestamp_millis_opt((index + 1) * window_ms)
            .single()
            .unwrap_or(now);
        let action = permit.action.name();
        let key = format!(
            "{}:abuse:{action}:{scope}:{}:{index}",
            self.prefix,
            digest(subject)
        );
        (key, ends)
    }

    /// Adds `by(counter)` to each of the permit's counters; returns each value and
    /// the end of its window.
    async fn bump(
        &self,
        permit: &Permit,
        by: impl Fn(&Counter) -> u32,
    ) -> Result<Vec<(u64, DateTime<Utc>)>, AppError> {
        let now = self.clock.now();
        let counters = permit.action.counters();
        let (bumps, ends): (Vec<Bump>, Vec<_>) = counters
            .iter()
            .map(|c| {
                let (key, ends) = self.key(permit, c, now);
                let bump = Bump {
                    key,
                    by: by(c),
                    ttl: c.window,
                };
                (bump, ends)
            })
            .unzip();
        let values = match self.store.bump(bumps.clone(), now).await {
            Err(AppError::ServiceUnavailable(_)) => self.local.bump(bumps, now).await?,
            other => other?,
        };
        Ok(values.into_iter().zip(ends).collect())
    }

    /// Counts an attempt and refuses it with `RATE_LIMITED` if the caller's IP or the
    /// account is over its limit. `account` is the email or token the request names.
    pub async fn check(
        &self,
        action: Action,
        ip: Option<&str>,
        account: &str,
    ) -> Result<Permit, AppError> {
        let ip = ip.unwrap_or("unknown").to_owned();
        let account = account.trim().to_lowercase();
        let permit = Permit {
            action,
            pair: format!("{account}\u{0}{ip}"),
            account,
            ip,
        };
        let values = self
            .bump(&permit, |c| u32::from(c.counts == Counts::Attempts))
            .await?;
        let refused_until = action
            .counters()
            .iter()
            .zip(values)
            .filter(|(c, (value, _))| {
                let limit = u64::from(c.limit) * u64::from(self.scale);
                match c.counts {
                    Counts::Attempts => *value > limit,
                    Counts::Failures => *value >= limit,
                }
            })
            .map(|(_, (_, ends))| ends)
            .max();
        let Some(until) = refused_until else {
            return Ok(permit);
        };
        tracing::warn!(action = action.name(), "abuse limit reached");
        metrics::counter!("abuse_limited_total", "action" => action.name()).increment(1);
        let wait_ms = (until - self.clock.now()).num_milliseconds();
        Err(AppError::RateLimited {
            limited: action.limited(),
            next_available_at: until,
            retry_after_seconds: (wait_ms + 999).div_euclid(1000).max(1),
        })
    }

    /// The attempt failed (wrong password, unusable link): counts toward the
    /// failure limits.
    pub async fn failed(&self, permit: &Permit) -> Result<(), AppError> {
        self.bump(permit, |c| u32::from(c.counts == Counts::Failures))
            .await?;
        Ok(())
    }

    /// The attempt succeeded: the failures from this account and IP are forgiven.
    pub async fn succeeded(&self, permit: &Permit) -> Result<(), AppError> {
        let now = self.clock.now();
        let pairs = permit.action.counters().iter();
        for counter in pairs.filter(|c| c.scope == Scope::Pair) {
            let (key, _) = self.key(permit, counter, now);
            self.local.clear(key.clone()).await?;
            match self.store.clear(key).await {
                Err(AppError::ServiceUnavailable(_)) | Ok(()) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Runs `attempt` under the limits and reports how it went.
    pub async fn guard<T>(
        &self,
        action: Action,
        ip: Option<&str>,
        account: &str,
        attempt: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let permit = self.check(action, ip, account).await?;
        let outcome = attempt.await;
        match &outcome {
            Ok(_) => self.succeeded(&permit).await?,
            Err(e) if action.is_failure(e) => self.failed(&permit).await?,
            Err(_) => {}
        }
        outcome
    }
}
