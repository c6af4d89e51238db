//! R8's record: when a client activates, an intake check falls due some time later.
//! The API writes it in the activation's transaction; the worker runs it.
use chrono::{DateTime, Utc};
use entity::intake_check::{self, CheckStatus};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use uuid::Uuid;

/// Records that `client_id` activated at `now`; the check falls due after `delay`.
/// The unique index refuses a second check for the same activation.
pub async fn schedule(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    now: DateTime<Utc>,
    delay: std::time::Duration,
) -> Result<(), DbErr> {
    let due_at = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
    intake_check::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id),
        activated_at: Set(now),
        due_at: Set(due_at),
        status: Set(CheckStatus::Pending),
        outcome: Set(None),
        checked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}
