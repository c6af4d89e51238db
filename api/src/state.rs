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
    /// Pushes delivery jobs for rows just committed (see [`JobQueue::push_deliveries`]).
    pub async fn push_deliveries(&self, ids: impl IntoIterator<Item = Uuid>) {
        self.queue.push_deliveries(ids).await;
    }
}
