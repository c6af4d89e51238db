//! Work the worker repeats on a timer (the sweeper, housekeeping, the Redis
//! vacuum), and quiet logging of a failure that repeats on every tick.
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// Calls `work` every `period` until `stop` turns true.
pub async fn every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(period);
    loop {
        // Decided first, so no borrow of `stop` is held while `work` runs.
        let stopped = tokio::select! {
            _ = stop.wait_for(|s| *s) => true,
            _ = ticker.tick() => false,
        };
        if stopped {
            return;
        }
        work().await;
    }
}

/// Logs a failure that repeats (Redis down, seen every second) at `warn` once when
/// it starts and at `info` when it ends; the repeats in between go to `debug`.
#[derive(Debug)]
pub struct FailureLog {
    what: &'static str,
    failing: AtomicBool,
}

impl FailureLog {
    pub const fn new(what: &'static str) -> Self {
        Self {
            what,
            failing: AtomicBool::new(false),
        }
    }

    /// Notes how the latest try went.
    pub fn observe<T, E: std::fmt::Display>(&self, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(what = self.what, "working again");
                }
                Some(value)
            }
            Err(e) => {
                if self.failing.swap(true, Ordering::Relaxed) {
                    tracing::debug!(what = self.what, error = %e, "still failing");
                } else {
                    tracing::warn!(what = self.what, error = %e, "failed; will keep retrying");
                }
                None
            }
        }
    }
}
