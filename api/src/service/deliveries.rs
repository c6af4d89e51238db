//! R11: what a provider sees about a client's emails and links.
use crate::error::AppError;
use chrono::{DateTime, Utc};
use entity::{account_link, email_delivery};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// The client's emails, newest first.
pub async fn recent(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    limit: u64,
) -> Result<Vec<email_delivery::Model>, AppError> {
    Ok(email_delivery::Entity::find()
        .filter(email_delivery::Column::ClientId.eq(client_id))
        .order_by_desc(email_delivery::Column::CreatedAt)
        .order_by_desc(email_delivery::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// The link that works right now, if any (at most one by R4).
pub async fn active_link(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<account_link::Model>, AppError> {
    let unexpired = Condition::any()
        .add(account_link::Column::ExpiresAt.is_null())
        .add(account_link::Column::ExpiresAt.gt(now));
    Ok(account_link::Entity::find()
        .filter(account_link::Column::ClientId.eq(client_id))
        .filter(account_link::Column::UsedAt.is_null())
        .filter(account_link::Column::RevokedAt.is_null())
        .filter(unexpired)
        .order_by_desc(account_link::Column::CreatedAt)
        .one(conn)
        .await?)
}
