//! Housekeeping the worker runs on a timer: expired sessions are deleted so the
//! table holds only what can still be used (plus a day of history for support).
use chrono::Utc;
use entity::session;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use std::time::Duration;

/// How often housekeeping runs.
pub const EVERY: Duration = Duration::from_secs(600);

/// How long an expired session is kept before it is deleted.
pub const EXPIRED_SESSION_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Deletes sessions that expired more than `grace` ago; returns how many.
pub async fn purge_expired_sessions(
    db: &DatabaseConnection,
    grace: Duration,
) -> Result<u64, DbErr> {
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::days(1));
    let result = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lt(Utc::now() - grace))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// One round of housekeeping. Errors are logged and retried on the next round: a
/// database blip must not stop the worker.
pub async fn run_once(db: &DatabaseConnection) {
    match purge_expired_sessions(db, EXPIRED_SESSION_GRACE).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "purged expired sessions"),
        Err(e) => tracing::warn!(error = %e, "session purge failed; will retry"),
    }
}
