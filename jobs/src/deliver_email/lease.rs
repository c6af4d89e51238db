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
use entity::email_delivery::{self, DeliveryStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};
use std::time::Duration;

/// The longest one worker keeps a row by renewing: well above the SMTP timeout
/// plus the database work around it.
const MAX_HOLD: Duration = Duration::from_secs(60);

impl Deliverer {
    /// Runs `work` while renewing the lease on `id` every third of its length.
    pub(super) async fn holding_lease<T>(
        &self,
        claimed: &email_delivery::Model,
        work: impl Future<Output = T>,
    ) -> T {
        let every = self.config.lease / 3;
        let stop_renewing = tokio::time::Instant::now() + MAX_HOLD;
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tokio::pin!(work);
        let mut renewing = true;
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = ticks.tick(), if renewing => {
                    renewing = tokio::time::Instant::now() < stop_renewing && self.renew(claimed).await;
                }
            }
        }
    }

    /// Extends the lease; false once the row is no longer ours (sent, or taken
    /// over by another worker, whose claim counted another attempt).
    async fn renew(&self, claimed: &email_delivery::Model) -> bool {
        let id = claimed.id;
        let length = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        let renewed = email_delivery::Entity::update_many()
            .col_expr(
                email_delivery::Column::ClaimedUntil,
                Expr::value(self.clock.now() + length),
            )
            .filter(email_delivery::Column::Id.eq(id))
            .filter(email_delivery::Column::Status.eq(DeliveryStatus::Sending))
            .filter(email_delivery::Column::Attempts.eq(claimed.attempts))
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

impl Deliverer {
    /// Whether this worker still holds its claim on `claimed` (the row is `sending`
    /// under the attempt it counted); extends the lease when it does.
    pub(super) async fn still_holding(
        &self,
        claimed: &email_delivery::Model,
    ) -> Result<bool, DbErr> {
        let length = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        let held = email_delivery::Entity::update_many()
            .col_expr(
                email_delivery::Column::ClaimedUntil,
                Expr::value(self.clock.now() + length),
            )
            .filter(email_delivery::Column::Id.eq(claimed.id))
            .filter(email_delivery::Column::Status.eq(DeliveryStatus::Sending))
            .filter(email_delivery::Column::Attempts.eq(claimed.attempts))
            .exec(&self.db)
            .await?;
        Ok(held.rows_affected == 1)
    }
}
