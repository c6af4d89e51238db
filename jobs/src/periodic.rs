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

#[cfg(test)]
mod tests {
    use super::FailureLog;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Collects formatted log lines.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failure_repeating_every_second_is_warned_about_once_and_its_end_noted() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let log = FailureLog::new("promoting due jobs");
            for _ in 0..10 {
                assert_eq!(log.observe(Err::<(), _>("connection refused")), None);
            }
            assert_eq!(log.observe(Ok::<_, &str>(3)), Some(3));
            log.observe(Err::<(), _>("connection refused"));
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches("WARN").count(), 2, "{text}");
        assert_eq!(text.matches("working again").count(), 1, "{text}");
    }
}
