//! R8: some time after a client activates, remind them of intake forms they have
//! not completed: one `intake_reminder` email naming the forms (never answers),
//! through the same outbox. One reminder per activation, however often it runs.
use crate::error::JobError;
use access::audit::{self, Actor, AuditAction, AuditEntry};
use access::clock::SharedClock;
use access::outbox::{self, Outgoing};
use chrono::{DateTime, Utc};
use entity::email_delivery::EmailKind;
use entity::intake_check::{CheckOutcome, CheckStatus};
use entity::{client, intake_assignment, intake_check};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

/// Overdue checks re-pushed per sweep.
const OVERDUE_BATCH: u64 = 100;

/// Runs the checks that are due; returns the reminder deliveries queued (push them).
pub async fn run(
    db: &DatabaseConnection,
    clock: &SharedClock,
    client_id: Uuid,
) -> Result<Vec<Uuid>, JobError> {
    let now = clock.now();
    let due = intake_check::Entity::find()
        .filter(intake_check::Column::ClientId.eq(client_id))
        .filter(intake_check::Column::Status.eq(CheckStatus::Pending))
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
        .col_expr(intake_check::Column::Status, Expr::value(CheckStatus::Done))
        .col_expr(intake_check::Column::CheckedAt, Expr::value(now))
        .filter(intake_check::Column::Id.eq(check.id))
        .filter(intake_check::Column::Status.eq(CheckStatus::Pending))
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
        (0, _) => (CheckOutcome::AllComplete, None),
        (_, Some(client)) if client.email.is_some() => {
            let to = client.email.clone().unwrap_or_default();
            let email = Outgoing::plain(EmailKind::IntakeReminder, to);
            let delivery =
                outbox::enqueue(&txn, client.id, email, client.link_generation, now).await?;
            let entry = AuditEntry {
                organization_id: client.organization_id,
                actor: Actor::System,
                action: AuditAction::IntakeReminderQueued,
                client_id: Some(client.id),
                detail: Some(format!("{pending} form(s) still to complete")),
                ip: None,
            };
            audit::record(&txn, entry).await?;
            (CheckOutcome::ReminderQueued, Some(delivery.id))
        }
        _ => (CheckOutcome::NoEmail, None),
    };
    intake_check::Entity::update_many()
        .col_expr(intake_check::Column::Outcome, Expr::value(outcome))
        .filter(intake_check::Column::Id.eq(check.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    tracing::info!(client_id = %check.client_id, outcome = outcome.as_str(), "intake check done");
    Ok(delivery)
}

/// Clients with checks overdue by more than `grace` (their scheduled job was lost).
pub async fn overdue(
    db: &DatabaseConnection,
    clock: &SharedClock,
    grace: std::time::Duration,
) -> Result<Vec<Uuid>, JobError> {
    use sea_orm::QuerySelect;
    let before = clock.now() - chrono::Duration::from_std(grace).unwrap_or_default();
    Ok(intake_check::Entity::find()
        .select_only()
        .column(intake_check::Column::ClientId)
        .filter(intake_check::Column::Status.eq(CheckStatus::Pending))
        .filter(intake_check::Column::DueAt.lte(before))
        .limit(OVERDUE_BATCH)
        .into_tuple()
        .all(db)
        .await?)
}
