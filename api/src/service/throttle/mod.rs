//! Abuse limits on the public operations: per caller IP and per account (the email
//! or link token the request names). Each request is checked before any password
//! work, so a refused attempt costs almost nothing and looks the same for known and
//! unknown accounts.
//!
//! Wrong passwords are counted twice: per account *and IP* (tight: 5 per 5 minutes)
//! and per account from anywhere (looser: 20 per 15 minutes). One stranger therefore
//! slows only their own guesses and cannot lock the owner out; many strangers
//! together lock an account for at most 15 minutes. A success clears the pair's
//! failures. Windows slide: an attempt counts for exactly one window length after
//! it, so no moment lets more than a limit through (see `store`).
//!
//! Counting is reserve-then-settle: a check atomically takes one from every counter
//! (failure counters included) or refuses without touching any, so however many
//! attempts arrive at once, at most the limit are ever evaluated; the outcome then
//! gives back the failure reservations an attempt did not use.
mod rules;
mod store;
#[cfg(test)]
mod tests;

pub use rules::Action;
pub use store::{CounterStore, Full, InProcessCounters, RedisCounters, Reserve};

use crate::error::AppError;
use access::clock::SharedClock;
use rules::{Counter, Counts, Scope};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// An attempt that passed the limits; report how it went with
/// [`Throttle::failed`] or [`Throttle::succeeded`].
#[derive(Debug, Clone)]
pub struct Permit {
    /// The attempt's entry in every counter it reserved in.
    entry: String,
    /// The failure counters reserved in, to give back unless the attempt fails.
    failures: Vec<String>,
    /// The account-and-IP failure counters a success clears.
    pairs: Vec<String>,
    /// Reserved in this process's memory (the shared store was down).
    local: bool,
}

/// Whose attempt it is, to name its counters.
struct Subject<'a> {
    action: Action,
    ip: &'a str,
    account: &'a str,
    pair: &'a str,
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

    /// `{prefix}:abuse:{action}:{scope}:{subject digest}`. Subjects are hashed so no
    /// email address or token sits in Redis.
    fn key(&self, who: &Subject<'_>, counter: &Counter) -> String {
        let (scope, subject) = match counter.scope {
            Scope::Ip => ("ip", who.ip),
            Scope::Account => ("account", who.account),
            Scope::Pair => ("pair", who.pair),
        };
        let action = who.action.name();
        format!("{}:abuse:{action}:{scope}:{}", self.prefix, digest(subject))
    }

    /// Reserves one in every counter of the action or refuses with `RATE_LIMITED`
    /// if the caller's IP or the account is at its limit. `account` is the email or
    /// token the request names.
    pub async fn check(
        &self,
        action: Action,
        ip: Option<&str>,
        account: &str,
    ) -> Result<Permit, AppError> {
        let ip = ip.unwrap_or("unknown");
        let account = account.trim().to_lowercase();
        let pair = format!("{account}\u{0}{ip}");
        let who = Subject {
            action,
            ip,
            account: &account,
            pair: &pair,
        };
        let now = self.clock.now();
        let counters = action.counters();
        let keys: Vec<String> = counters.iter().map(|c| self.key(&who, c)).collect();
        let reserve: Vec<Reserve> = counters
            .iter()
            .zip(&keys)
            .map(|(c, key)| Reserve {
                key: key.clone(),
                limit: u64::from(c.limit) * u64::from(self.scale),
                window: c.window,
            })
            .collect();
        let entry = uuid::Uuid::new_v4().simple().to_string();
        let (full, local) = match self
            .store
            .reserve(reserve.clone(), entry.clone(), now)
            .await
        {
            Err(AppError::ServiceUnavailable(_)) => {
                (self.local.reserve(reserve, entry.clone(), now).await?, true)
            }
            other => (other?, false),
        };
        let keys_where = |pick: &dyn Fn(&Counter) -> bool| -> Vec<String> {
            counters
                .iter()
                .zip(&keys)
                .filter(|(c, _)| pick(c))
                .map(|(_, key)| key.clone())
                .collect()
        };
        let Some(until) = full.iter().map(|f| f.frees_at).max() else {
            return Ok(Permit {
                entry,
                failures: keys_where(&|c| c.counts == Counts::Failures),
                pairs: keys_where(&|c| c.counts == Counts::Failures && c.scope == Scope::Pair),
                local,
            });
        };
        tracing::warn!(action = action.name(), "abuse limit reached");
        let refusals = crate::telemetry::metrics::ABUSE_LIMIT_REFUSALS;
        metrics::counter!(refusals, "action" => action.name()).increment(1);
        let until = until.max(now);
        let wait_ms = (until - now).num_milliseconds();
        Err(AppError::RateLimited {
            limited: action.limited(),
            next_available_at: until,
            retry_after_seconds: (wait_ms + 999).div_euclid(1000).max(1),
        })
    }

    fn store_of(&self, permit: &Permit) -> &dyn CounterStore {
        match permit.local {
            true => self.local.as_ref(),
            false => self.store.as_ref(),
        }
    }

    /// The attempt failed (wrong password, unusable link): its failure
    /// reservations stand.
    pub async fn failed(&self, _permit: &Permit) -> Result<(), AppError> {
        Ok(())
    }

    /// The attempt did not fail (a success, or an error that is not a guess): its
    /// failure reservations are given back.
    pub async fn not_failed(&self, permit: &Permit) -> Result<(), AppError> {
        let store = self.store_of(permit);
        match store
            .release(permit.failures.clone(), permit.entry.clone())
            .await
        {
            Err(AppError::ServiceUnavailable(_)) | Ok(()) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The attempt succeeded: its reservations are given back and the failures
    /// from this account and IP are forgiven.
    pub async fn succeeded(&self, permit: &Permit) -> Result<(), AppError> {
        self.not_failed(permit).await?;
        for key in &permit.pairs {
            match self.store_of(permit).clear(key.clone()).await {
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
            Err(e) if action.is_failure(e) => {
                count_sign_in_failure(action);
                self.failed(&permit).await?
            }
            Err(_) => self.not_failed(&permit).await?,
        }
        outcome
    }
}

/// A wrong email or password, for `sign_in_failures_total`.
fn count_sign_in_failure(action: Action) {
    let account = match action {
        Action::SignIn => "provider",
        Action::ClientSignIn => "client",
        Action::AccountLink | Action::CompleteAccountLink | Action::PasswordReset => return,
    };
    let failures = crate::telemetry::metrics::SIGN_IN_FAILURES;
    metrics::counter!(failures, "account" => account).increment(1);
}
