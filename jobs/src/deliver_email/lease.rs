//! Keeping a claimed row's lease alive while its email is being sent.
//!
//! The lease is what lets another worker take over a row whose worker died
//! (`kill -9`, OOM, a lost host): it must be short, or mail held by a dead worker
//! waits that long. A send may legitimately take longer than a short lease (the
//! SMTP timeout alone is 15 s), so the worker extends the lease while it works.
//! It renews only while the work itself is being polled (a handler parked by a
//! dying queue consumer renews nothing) and for at most [`MAX_HOLD`] (a handler
//! stuck on I/O does not hold the row for ever).
use super::Deliverer;
use entity::email_delivery::{self, status};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Duration;
use uuid::Uuid;

/// The longest one worker keeps a row by renewing: well above the SMTP timeout
/// plus the database work around it.
const MAX_HOLD: Duration = Duration::from_secs(60);

impl Deliverer {
    /// Runs `work` while renewing the lease on `id` every third of its length.
    pub(super) async fn holding_lease<T>(&self, id: Uuid, work: impl Future<Output = T>) -> T {
        let every = self.config.lease / 3;
        let stop_renewing = tokio::time::Instant::now() + MAX_HOLD;
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tokio::pin!(work);
        let mut renewing = true;
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = ticks.tick(), if renewing => {
                    renewing = tokio::time::Instant::now() < stop_renewing && self.renew(id).await;
                }
            }
        }
    }

    /// Extends the lease; false once the row is no longer `sending`.
    async fn renew(&self, id: Uuid) -> bool {
        let length = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        let renewed = email_delivery::Entity::update_many()
            .col_expr(
                email_delivery::Column::ClaimedUntil,
                Expr::value(self.clock.now() + length),
            )
            .filter(email_delivery::Column::Id.eq(id))
            .filter(email_delivery::Column::Status.eq(status::SENDING))
            .exec(&self.db)
            .await;
        match renewed {
            Ok(r) => r.rows_affected > 0,
            // The next renewal may succeed; if none does, another worker takes the
            // row over and the email may go out twice (at-least-once).
            Err(e) => {
                tracing::warn!(delivery_id = %id, error = %e, "lease renewal failed");
                true
            }
        }
    }
}
