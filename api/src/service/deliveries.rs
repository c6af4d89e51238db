//! R11: what a provider sees about a client's emails and links.
use crate::error::AppError;
use chrono::{DateTime, Utc};
use entity::{account_link, email_delivery};
use sea_orm::{
    AccessMode, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, IsolationLevel, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

/// The client's emails, newest first.
async fn recent(
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
async fn active_link(
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

/// The most emails a client view lists (`emailDeliveries(first:)` at most).
pub const MAX_RECENT: u64 = 100;

/// The client's live link and newest emails as of one moment: what a view shows
/// about them must agree (a failed email's link is taken back in the same
/// transaction, so a view never shows the one without the other).
#[derive(Debug, Clone)]
pub struct Mail {
    pub link: Option<account_link::Model>,
    /// Newest first, at most [`MAX_RECENT`].
    pub recent: Vec<email_delivery::Model>,
}

/// Reads [`Mail`] in one read-only snapshot: `REPEATABLE READ` on PostgreSQL (each
/// statement of a `READ COMMITTED` transaction sees its own moment); on SQLite a
/// transaction reads one state of the database throughout.
pub async fn mail(
    db: &DatabaseConnection,
    client_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Mail, AppError> {
    let txn = match db.get_database_backend() {
        DbBackend::Postgres => {
            let level = Some(IsolationLevel::RepeatableRead);
            db.begin_with_config(level, Some(AccessMode::ReadOnly))
                .await?
        }
        _ => db.begin().await?,
    };
    let link = active_link(&txn, client_id, now).await?;
    let recent = recent(&txn, client_id, MAX_RECENT).await?;
    txn.commit().await?;
    Ok(Mail { link, recent })
}
