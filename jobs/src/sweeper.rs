//! The safety net under the queue: finds outbox rows that should be moving but are
//! not (a push lost while Redis blinked, a retry whose backoff has passed, a worker
//! that died holding a row) and pushes them again. Pushing twice is harmless: the
//! handler's claim lets only one run through.
use crate::error::JobError;
use access::clock::SharedClock;
use entity::email_delivery::{self, DeliveryStatus};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::time::Duration;
use uuid::Uuid;

/// Rows handled per sweep.
const BATCH: u64 = 200;

/// Returns (and marks as pushed) the deliveries to push again now.
///
/// - `sending` rows whose lease ran out go back to `queued` (their worker died);
/// - `queued` rows that became due since they were last touched (retries), or that
///   have sat untouched for `grace` (lost pushes), are returned, and their
///   `updated_at` is set so the next sweep leaves them alone for another `grace`.
pub async fn due_deliveries(
    db: &DatabaseConnection,
    clock: &SharedClock,
    grace: Duration,
) -> Result<Vec<Uuid>, JobError> {
    let now = clock.now();
    let grace = chrono::Duration::from_std(grace).unwrap_or_default();
    email_delivery::Entity::update_many()
        .col_expr(
            email_delivery::Column::Status,
            Expr::value(DeliveryStatus::Queued),
        )
        .col_expr(
            email_delivery::Column::ClaimedUntil,
            Expr::value(None::<chrono::DateTime<chrono::Utc>>),
        )
        .col_expr(email_delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now - grace))
        .filter(email_delivery::Column::Status.eq(DeliveryStatus::Sending))
        .filter(email_delivery::Column::ClaimedUntil.lt(now))
        .exec(db)
        .await?;
    let stale = Condition::any()
        .add(
            Expr::col(email_delivery::Column::UpdatedAt)
                .lt(Expr::col(email_delivery::Column::NextAttemptAt)),
        )
        .add(email_delivery::Column::UpdatedAt.lte(now - grace));
    let candidates: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> = email_delivery::Entity::find()
        .select_only()
        .column(email_delivery::Column::Id)
        .column(email_delivery::Column::UpdatedAt)
        .filter(email_delivery::Column::Status.eq(DeliveryStatus::Queued))
        .filter(email_delivery::Column::NextAttemptAt.lte(now))
        .filter(stale)
        .order_by_asc(email_delivery::Column::NextAttemptAt)
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    let mut due = Vec::with_capacity(candidates.len());
    for (id, seen) in candidates {
        // Only the sweeper that moves `updated_at` first pushes the row.
        let touched = email_delivery::Entity::update_many()
            .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(email_delivery::Column::Id.eq(id))
            .filter(email_delivery::Column::Status.eq(DeliveryStatus::Queued))
            .filter(email_delivery::Column::UpdatedAt.eq(seen))
            .exec(db)
            .await?;
        if touched.rows_affected == 1 {
            due.push(id);
        }
    }
    Ok(due)
}
