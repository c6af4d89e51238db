//! Reading a client's intake forms, shared by the API (pages, activation answer)
//! and the worker (the reminder names the forms still open).
use entity::{intake_assignment, intake_form};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

/// An assignment with its form.
pub type Assigned = (intake_assignment::Model, intake_form::Model);

/// The client's assignments with their forms, oldest first; only the ones not yet
/// completed when `pending_only`. Two queries, whatever the number of forms.
pub async fn assigned(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    pending_only: bool,
) -> Result<Vec<Assigned>, DbErr> {
    let mut query = intake_assignment::Entity::find()
        .filter(intake_assignment::Column::ClientId.eq(client_id))
        .order_by_asc(intake_assignment::Column::AssignedAt)
        .order_by_asc(intake_assignment::Column::Id);
    if pending_only {
        query = query.filter(intake_assignment::Column::CompletedAt.is_null());
    }
    let assignments = query.all(conn).await?;
    if assignments.is_empty() {
        return Ok(Vec::new());
    }
    let form_ids: Vec<Uuid> = assignments.iter().map(|a| a.form_id).collect();
    let forms: HashMap<Uuid, intake_form::Model> = intake_form::Entity::find()
        .filter(intake_form::Column::Id.is_in(form_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    Ok(assignments
        .into_iter()
        .filter_map(|a| {
            let form = forms.get(&a.form_id).cloned();
            form.map(|f| (a, f))
        })
        .collect())
}
