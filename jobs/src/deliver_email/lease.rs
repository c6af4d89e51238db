//! Keeping a claimed batch's leases alive while its emails are being sent.
//!
//! The lease is what lets another worker take over a row whose worker died
//! (`kill -9`, OOM, a lost host): it must be short, or mail held by a dead worker
//! waits that long. A send may legitimately take longer than a short lease (the
//! SMTP timeout alone is 15 s), so the worker extends the lease while it works.
//! It renews only while the work itself is being polled (a handler parked by a
//! dying queue consumer renews nothing) and for at most [`MAX_HOLD`] (a handler
//! stuck on I/O does not hold the rows for ever).
use super::Deliverer;
use super::claim::held_by_us;
use chrono::{DateTime, Utc};
use entity::email_delivery::{self, DeliveryStatus};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{DbErr, EntityTrait, QueryFilter};
use std::collections::HashSet;
use std::time::Duration;
use tokio::time::Instant;
use uuid::Uuid;

/// The longest one worker keeps a row by renewing: well above the SMTP timeout
/// plus the database work around it.
const MAX_HOLD: Duration = Duration::from_secs(60);

/// When a batch's claim was asked for, by the service's clock and by the monotonic one.
#[derive(Debug, Clone, Copy)]
pub(super) struct ClaimStart {
    at: DateTime<Utc>,
    instant: Instant,
}

impl Deliverer {
    /// Now, as the start of a claim about to be asked for.
    pub(super) fn claim_start(&self) -> ClaimStart {
        ClaimStart {
            at: self.clock.now(),
            instant: Instant::now(),
        }
    }

    /// Whether rows claimed at `start` are still this worker's without asking the
    /// database: true while less than half the lease has passed, on both clocks.
    /// Another worker takes a row over only once its lease has ended by that
    /// worker's clock, so within the first half (clocks agreeing within the other)
    /// the look in the database could only confirm the claim; past it, or when the
    /// service's clock jumped, the database decides.
    pub(super) fn surely_held(&self, start: ClaimStart) -> bool {
        let half = self.config.lease / 2;
        let by_clock = (self.clock.now() - start.at)
            .to_std()
            .is_ok_and(|passed| passed < half);
        by_clock && start.instant.elapsed() < half
    }

    /// Runs `work` while renewing the leases on `claimed` every third of their length.
    pub(super) async fn holding_lease<T>(
        &self,
        claimed: &[email_delivery::Model],
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

    /// Extends the leases; false once no row is ours any more (sent, or taken over
    /// by another worker, whose claim counted another attempt).
    async fn renew(&self, claimed: &[email_delivery::Model]) -> bool {
        let rows: Vec<&email_delivery::Model> = claimed.iter().collect();
        match self.extend(&rows).await {
            Ok(held) => !held.is_empty(),
            // The next renewal may succeed; if none does, another worker takes the
            // rows over and their emails may go out twice (at-least-once).
            Err(e) => {
                tracing::warn!(error = %e, rows = claimed.len(), "lease renewal failed");
                true
            }
        }
    }

    /// Which of `claimed` (claimed at `start`) this worker still holds (`sending`
    /// under the attempt it counted); extends their leases when it asks the database.
    pub(super) async fn still_holding(
        &self,
        claimed: &[&email_delivery::Model],
        start: ClaimStart,
    ) -> Result<HashSet<Uuid>, DbErr> {
        if claimed.is_empty() {
            return Ok(HashSet::new());
        }
        if self.surely_held(start) {
            return Ok(claimed.iter().map(|d| d.id).collect());
        }
        self.extend(claimed).await
    }

    async fn extend(&self, rows: &[&email_delivery::Model]) -> Result<HashSet<Uuid>, DbErr> {
        let length = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        let held = email_delivery::Entity::update_many()
            .col_expr(
                email_delivery::Column::ClaimedUntil,
                Expr::value(self.clock.now() + length),
            )
            .filter(Expr::col(email_delivery::Column::Status).eq(DeliveryStatus::Sending.in_sql()))
            .filter(held_by_us(rows))
            .exec_with_returning(&self.db)
            .await?;
        Ok(held.into_iter().map(|d| d.id).collect())
    }
}
