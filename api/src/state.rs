//! What every request handler shares.
use crate::configuration::Settings;
use crate::service::passwords::Passwords;
use crate::service::resend_cap::ResendLimiter;
use jobs::clock::SharedClock;
use jobs::deliver_email::DeliverEmail;
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
    pub limiter: Arc<dyn ResendLimiter>,
    pub queue: JobQueue,
}

impl AppState {
    /// Pushes delivery jobs for rows just committed. A failed push is only logged:
    /// the row is `queued` and the worker's sweeper pushes it again.
    pub async fn push_deliveries(&self, ids: impl IntoIterator<Item = Uuid>) {
        for delivery_id in ids {
            if let Err(e) = self.queue.push(DeliverEmail { delivery_id }).await {
                tracing::warn!(%delivery_id, error = %e, "job push failed; the sweeper will retry");
            }
        }
    }
}
