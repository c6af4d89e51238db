//! Reading the audit trail: who did what to a client's access, newest first.
use crate::error::AppError;
use entity::audit_event;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// One page of events.
pub struct EventPage {
    pub events: Vec<audit_event::Model>,
    pub has_next_page: bool,
}

/// Events of `organization_id` (for one client when given), newest first, after the
/// event `after` (ids are time-ordered UUIDv7, so the id is the cursor).
pub async fn list(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    client_id: Option<Uuid>,
    first: u64,
    after: Option<Uuid>,
) -> Result<EventPage, AppError> {
    let mut query = audit_event::Entity::find()
        .filter(audit_event::Column::OrganizationId.eq(organization_id))
        .order_by_desc(audit_event::Column::Id)
        .limit(first + 1);
    if let Some(client_id) = client_id {
        query = query.filter(audit_event::Column::ClientId.eq(client_id));
    }
    if let Some(after) = after {
        query = query.filter(audit_event::Column::Id.lt(after));
    }
    let mut events = query.all(conn).await?;
    let has_next_page = events.len() as u64 > first;
    events.truncate(first as usize);
    Ok(EventPage {
        events,
        has_next_page,
    })
}
