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
use chrono::{DateTime, TimeZone, Utc};
use jobs::clock::SharedClock;
use rules::{Counts, Rule};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// An attempt that passed the limits; report how it went with
/// [`Throttle::failed`] or [`Throttle::succeeded`].
#[derive(Debug, Clone)]
pub struct Permit {
    action: Action,
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

    /// `{prefix}:abuse:{action}:{scope}:{subject digest}:{window index}`. Subjects are
    /// hashed so no email address or token ever sits in Redis.
    fn key(
        &self,
        action: Action,
        scope: &str,
        subject: &str,
        rule: Rule,
        now: DateTime<Utc>,
    ) -> (String, DateTime<Utc>) {
        let window_ms = rule.window.as_millis().max(1) as i64;
        let index = now.timestamp_millis().div_euclid(window_ms);
        let ends = Utc
            .timestamp_millis_opt((index + 1) * window_ms)
            .single()
            .unwrap_or(now);
        let key = format!(
            "{}:abuse:{}:{scope}:{}:{index}",
            self.prefix,
            action.name(),
            digest(subject)
        );
        (key, ends)
    }

    async fn bump(&self, bumps: Vec<Bump>, now: DateTime<Utc>) -> Result<Vec<u64>, AppError> {
        match self.store.bump(bumps.clone(), now).await {
            Err(AppError::ServiceUnavailable(_)) => self.local.bump(bumps, now).await,
            other => other,
        }
    }

    fn limit(&self, rule: Rule) -> u64 {
        u64::from(rule.limit) * u64::from(self.scale)
    }

    /// Counts an attempt and refuses it with `RATE_LIMITED` if the caller's IP or the
    /// account is over its limit. `account` is the email or token the request names.
    pub async fn check(
        &self,
        action: Action,
        ip: Option<&str>,
        account: &str,
    ) -> Result<Permit, AppError> {
        let now = self.clock.now();
        let rules = action.rules();
        let ip = ip.unwrap_or("unknown");
        let account = account.trim().to_lowercase();
        let pair = format!("{account}\u{0}{ip}");
        let (account_rule, counts) = rules.per_account;
        // (key, window end, by, limit, refuse when value > limit or ≥ limit)
        let mut checks = vec![
            (
                self.key(action, "ip", ip, rules.per_ip, now),
                1,
                rules.per_ip,
                false,
            ),
            (
                self.key(action, "account", &account, account_rule, now),
                u32::from(counts == Counts::Attempts),
                account_rule,
                counts == Counts::Failures,
            ),
        ];
        if let Some(rule) = rules.per_pair_failures {
            checks.push((self.key(action, "pair", &pair, rule, now), 0, rule, true));
        }
        let bumps = checks
            .iter()
            .map(|((key, _), by, rule, _)| Bump {
                key: key.clone(),
                by: *by,
                ttl: rule.window,
            })
            .collect();
        let values = self.bump(bumps, now).await?;
        let refused_until = checks
            .iter()
            .zip(values)
            .filter(|((_, _, rule, failures), value)| {
                let limit = self.limit(*rule);
                if *failures {
                    *value >= limit
                } else {
                    *value > limit
                }
            })
            .map(|(((_, ends), ..), _)| *ends)
            .max();
        if let Some(until) = refused_until {
            tracing::warn!(action = action.name(), "abuse limit reached");
            metrics::counter!("abuse_limited_total", "action" => action.name()).increment(1);
            return Err(AppError::RateLimited {
                next_available_at: until,
                retry_after_seconds: ((until - now).num_milliseconds() + 999)
                    .div_euclid(1000)
                    .max(1),
            });
        }
        Ok(Permit {
            action,
            account,
            pair,
        })
    }

    /// The attempt failed (wrong password, unusable link): counts toward the
    /// account's failure limits.
    pub async fn failed(&self, permit: &Permit) -> Result<(), AppError> {
        let now = self.clock.now();
        let rules = permit.action.rules();
        let (account_rule, counts) = rules.per_account;
        let mut bumps = Vec::new();
        if counts == Counts::Failures {
            let (key, _) = self.key(permit.action, "account", &permit.account, account_rule, now);
            bumps.push(Bump {
                key,
                by: 1,
                ttl: account_rule.window,
            });
        }
        if let Some(rule) = rules.per_pair_failures {
            let (key, _) = self.key(permit.action, "pair", &permit.pair, rule, now);
            bumps.push(Bump {
                key,
                by: 1,
                ttl: rule.window,
            });
        }
        if !bumps.is_empty() {
            self.bump(bumps, now).await?;
        }
        Ok(())
    }

    /// The attempt succeeded: the pair's failures are forgiven.
    pub async fn succeeded(&self, permit: &Permit) -> Result<(), AppError> {
        let Some(rule) = permit.action.rules().per_pair_failures else {
            return Ok(());
        };
        let (key, _) = self.key(permit.action, "pair", &permit.pair, rule, self.clock.now());
        self.local.clear(key.clone()).await?;
        match self.store.clear(key).await {
            Err(AppError::ServiceUnavailable(_)) => Ok(()),
            other => other,
        }
    }

    /// Runs `attempt` under the limits, counting a failure when it fails with an error
    /// `is_failure` accepts (and a success otherwise).
    pub async fn guard<T>(
        &self,
        action: Action,
        ip: Option<&str>,
        account: &str,
        is_failure: impl Fn(&AppError) -> bool,
        attempt: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let permit = self.check(action, ip, account).await?;
        let outcome = attempt.await;
        match &outcome {
            Ok(_) => self.succeeded(&permit).await?,
            Err(e) if is_failure(e) => self.failed(&permit).await?,
            Err(_) => {}
        }
        outcome
    }
}
