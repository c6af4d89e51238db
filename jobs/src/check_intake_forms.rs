//! R8: some time after a client activates, remind them of intake forms they have
//! not completed: one `intake_reminder` email naming the forms (never answers),
//! through the same outbox. One reminder per activation, however often it runs.
use crate::audit::{self, Actor, AuditEntry};
use crate::clock::SharedClock;
use crate::outbox::{self, Outgoing};
use chrono::{DateTime, Utc};
use entity::email_delivery::kind;
use entity::{client, intake_assignment, intake_check};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The job: check this client's due intake checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIntakeForms {
    pub client_id: Uuid,
}

/// Check states.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const DONE: &str = "done";
}

/// Records that `client_id` activated at `now`; the check falls due after `delay`.
/// The unique index refuses a second check for the same activation.
pub async fn schedule(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    now: DateTime<Utc>,
    delay: std::time::Duration,
) -> Result<(), DbErr> {
    let due_at = now + chrono::Duration::from_std(delay).unwrap_or_default();
    intake_check::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id),
        activated_at: Set(now),
        due_at: Set(due_at),
        status: Set(status::PENDING.to_owned()),
        outcome: Set(None),
        checked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Runs the checks that are due; returns the reminder deliveries queued (push them).
pub async fn run(
    db: &DatabaseConnection,
    clock: &SharedClock,
    client_id: Uuid,
) -> Result<Vec<Uuid>, DbErr> {
    let now = clock.now();
    let due = intake_check::Entity::find()
        .filter(intake_check::Column::ClientId.eq(client_id))
        .filter(intake_check::Column::Status.eq(status::PENDING))
        .filter(intake_check::Column::DueAt.lte(now))
        .all(db)
        .await?;
    let mut queued = Vec::new();
    for check in due {
        if let Some(id) = run_one(db, &check, now).await? {
            queued.push(id);
        }
    }
    Ok(queued)
}

async fn run_one(
    db: &DatabaseConnection,
    check: &intake_check::Model,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbErr> {
    let txn = db.begin().await?;
    // The claim: only one run of this check gets past here.
    let claimed = intake_check::Entity::update_many()
        .col_expr(intake_check::Column::Status, Expr::value(status::DONE))
        .col_expr(intake_check::Column::CheckedAt, Expr::value(now))
        .filter(intake_check::Column::Id.eq(check.id))
        .filter(intake_check::Column::Status.eq(status::PENDING))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    let pending = intake_assignment::Entity::find()
        .filter(intake_assignment::Column::ClientId.eq(check.client_id))
        .filter(intake_assignment::Column::CompletedAt.is_null())
        .count(&txn)
        .await?;
    let client = client::Entity::find_by_id(check.client_id)
        .one(&txn)
        .await?;
    let (outcome, delivery) = match (pending, client) {
        (0, _) => ("all_complete", None),
        (_, Some(client)) if client.email.is_some() => {
            let email = Outgoing {
                kind: kind::INTAKE_REMINDER,
                to: client.email.clone().unwrap_or_default(),
                link_kind: None,
            };
            let delivery =
                outbox::enqueue(&txn, client.id, email, client.link_generation, now).await?;
            let entry = AuditEntry {
                organization_id: client.organization_id,
                actor: Actor::System,
                action: "intake.reminder_queued",
                client_id: Some(client.id),
                detail: Some(format!("{pending} form(s) still to complete")),
                ip: None,
            };
            audit::record(&txn, entry).await?;
            ("reminder_queued", Some(delivery.id))
        }
        _ => ("no_email", None),
    };
    intake_check::Entity::update_many()
        .col_expr(intake_check::Column::Outcome, Expr::value(outcome))
        .filter(intake_check::Column::Id.eq(check.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    tracing::info!(client_id = %check.client_id, outcome, "intake check done");
    Ok(delivery)
}

/// Clients with checks overdue by more than `grace` (their scheduled job was lost).
pub async fn overdue(
    db: &DatabaseConnection,
    clock: &SharedClock,
    grace: std::time::Duration,
) -> Result<Vec<Uuid>, DbErr> {
    use sea_orm::QuerySelect;
    let before = clock.now() - chrono::Duration::from_std(grace).unwrap_or_default();
    intake_check::Entity::find()
        .select_only()
        .column(intake_check::Column::ClientId)
        .filter(intake_check::Column::Status.eq(status::PENDING))
        .filter(intake_check::Column::DueAt.lte(before))
        .limit(100)
        .into_tuple()
        .all(db)
        .await
}
