//! What every request handler shares.
use crate::configuration::Settings;
use crate::service::passwords::Passwords;
use crate::service::resend_cap::ResendLimiter;
use crate::service::throttle::Throttle;
use access::clock::SharedClock;
use jobs::queue::JobQueue;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use uuid::Uuid;

/// Shared, cheaply clonable application state.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// `None` in embedded mode.
    pub redis: Option<redis::Client>,
    pub settings: Arc<Settings>,
    pub passwords: Passwords,
    pub clock: SharedClock,
    /// R5: the cap on link emails providers send.
    pub limiter: Arc<dyn ResendLimiter>,
    /// R5: the separate cap on self-service password resets.
    pub reset_limiter: Arc<dyn ResendLimiter>,
    /// Abuse limits on sign-in, links and password resets.
    pub throttle: Throttle,
    pub queue: JobQueue,
    /// Held (read) by work a request started and did not wait for; shutdown takes
    /// it (write) to wait for that work.
    pub background: Arc<tokio::sync::RwLock<()>>,
}

impl AppState {
    /// Pushes delivery jobs for rows just committed (see [`JobQueue::push_deliveries`])
    /// in a task of its own, so that the answer does not wait for the queue: a push
    /// that fails is only logged either way (the row is `queued`; the sweeper pushes
    /// it again). The task holds [`Self::background`], so shutdown waits for it.
    pub async fn push_deliveries(&self, ids: impl IntoIterator<Item = Uuid>) {
        let ids: Vec<Uuid> = ids.into_iter().collect();
        if ids.is_empty() {
            return;
        }
        let running = self.background.clone().read_owned().await;
        let queue = self.queue.clone();
        tokio::spawn(async move {
            queue.push_deliveries(ids).await;
            drop(running);
        });
    }
}
