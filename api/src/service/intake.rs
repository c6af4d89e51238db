//! R8: intake forms. Providers define and assign them; clients complete them.
//! Answers are health information: stored, shown to the practice, never emailed or logged.
use crate::domain::InvalidInput;
use crate::error::AppError;
use crate::service::sessions::{ClientActor, ProviderActor};
use crate::state::AppState;
use access::audit::{self, Actor, AuditAction, AuditEntry};
use entity::{client, intake_assignment, intake_form};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    SqlErr, TransactionTrait,
};
use uuid::Uuid;

/// A form to define.
pub struct NewForm {
    pub title: String,
    pub description: Option<String>,
    pub questions: Vec<String>,
}

pub use access::intake_forms::Assigned;

const MAX_TITLE: usize = 200;
const MAX_QUESTIONS: usize = 100;
/// Answers larger than this are refused (they are text, not uploads).
pub const MAX_ANSWERS_BYTES: usize = 32 * 1024;

fn validate(new: &NewForm) -> Result<(), InvalidInput> {
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(InvalidInput::new(
            "title",
            format!("A title of 1 to {MAX_TITLE} characters is required."),
        ));
    }
    if new.questions.len() > MAX_QUESTIONS || new.questions.iter().any(|q| q.trim().is_empty()) {
        return Err(InvalidInput::new(
            "questions",
            format!("Up to {MAX_QUESTIONS} questions, none blank."),
        ));
    }
    Ok(())
}

/// Defines a form for the actor's practice.
pub async fn create_form(
    state: &AppState,
    actor: &ProviderActor,
    new: NewForm,
) -> Result<intake_form::Model, AppError> {
    validate(&new)?;
    let questions: Vec<String> = new.questions.iter().map(|q| q.trim().to_owned()).collect();
    Ok(intake_form::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(actor.organization_id),
        title: Set(new.title.trim().to_owned()),
        description: Set(new
            .description
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())),
        questions: Set(serde_json::to_string(&questions).map_err(anyhow::Error::from)?),
        created_at: Set(state.clock.now()),
    }
    .insert(&state.db)
    .await?)
}

/// The practice's forms, oldest first.
pub async fn forms(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
) -> Result<Vec<intake_form::Model>, AppError> {
    Ok(intake_form::Entity::find()
        .filter(intake_form::Column::OrganizationId.eq(organization_id))
        .order_by_asc(intake_form::Column::CreatedAt)
        .all(conn)
        .await?)
}

/// Assigns a form of the actor's practice to one of its clients (again is a no-op).
pub async fn assign(
    state: &AppState,
    actor: &ProviderActor,
    client: &client::Model,
    form_id: Uuid,
    ip: Option<String>,
) -> Result<Assigned, AppError> {
    let form = intake_form::Entity::find_by_id(form_id)
        .filter(intake_form::Column::OrganizationId.eq(actor.organization_id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("Intake form"))?;
    if let Some(assignment) = existing_assignment(&state.db, client.id, form.id).await? {
        return Ok((assignment, form));
    }
    let txn = state.db.begin().await?;
    let inserted = intake_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client.id),
        form_id: Set(form.id),
        assigned_at: Set(state.clock.now()),
        completed_at: Set(None),
        answers: Set(None),
    }
    .insert(&txn)
    .await;
    let assignment = match inserted {
        Ok(assignment) => assignment,
        // Assigned by a concurrent request a moment ago: the same no-op as above.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            let existing = existing_assignment(&state.db, client.id, form.id).await?;
            return Ok((existing.ok_or(AppError::NotFound("Intake form"))?, form));
        }
        Err(e) => return Err(e.into()),
    };
    let entry = AuditEntry {
        organization_id: actor.organization_id,
        actor: Actor::Provider(actor.provider_id),
        action: AuditAction::IntakeFormAssigned,
        client_id: Some(client.id),
        detail: Some(format!("form \"{}\"", form.title)),
        ip,
    };
    audit::record(&txn, entry).await?;
    txn.commit().await?;
    Ok((assignment, form))
}

async fn existing_assignment(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    form_id: Uuid,
) -> Result<Option<intake_assignment::Model>, AppError> {
    Ok(intake_assignment::Entity::find()
        .filter(intake_assignment::Column::ClientId.eq(client_id))
        .filter(intake_assignment::Column::FormId.eq(form_id))
        .one(conn)
        .await?)
}

/// The client's assignments with their forms; only pending ones when `pending_only`.
pub async fn assigned(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    pending_only: bool,
) -> Result<Vec<Assigned>, AppError> {
    Ok(access::intake_forms::assigned(conn, client_id, pending_only).await?)
}

/// The signed-in client completes one of their own forms; anyone else's is NOT_FOUND.
pub async fn complete(
    state: &AppState,
    actor: &ClientActor,
    assignment_id: Uuid,
    answers: serde_json::Value,
    ip: Option<String>,
) -> Result<Assigned, AppError> {
    let answers = serde_json::to_string(&answers).map_err(anyhow::Error::from)?;
    if answers.len() > MAX_ANSWERS_BYTES {
        return Err(InvalidInput::new("answers", "The answers are too long.").into());
    }
    let found = intake_assignment::Entity::find_by_id(assignment_id)
        .filter(intake_assignment::Column::ClientId.eq(actor.client_id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("Intake form"))?;
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    intake_assignment::Entity::update_many()
        .col_expr(intake_assignment::Column::Answers, Expr::value(answers))
        .col_expr(intake_assignment::Column::CompletedAt, Expr::value(now))
        .filter(intake_assignment::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    let form = intake_form::Entity::find_by_id(found.form_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("Intake form"))?;
    let entry = AuditEntry {
        organization_id: actor.organization_id,
        actor: Actor::Client(actor.client_id),
        action: AuditAction::IntakeFormCompleted,
        client_id: Some(actor.client_id),
        detail: Some(format!("form \"{}\"", form.title)),
        ip,
    };
    audit::record(&txn, entry).await?;
    txn.commit().await?;
    let updated = intake_assignment::Entity::find_by_id(found.id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("Intake form"))?;
    Ok((updated, form))
}
