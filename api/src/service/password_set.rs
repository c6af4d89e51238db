//! "The password was set", in one place, for every route: the client through a
//! link, a provider on the client's behalf (R7), the client changing it. Each route
//! checks what it must first (the link, the current password, strength); this
//! records the change and what R4 requires of it, in the caller's transaction.
use super::sessions;
use crate::error::{AppError, LinkProblem};
use access::audit::{self, AuditEntry};
use access::invalidation::{self, Cause, Invalidated};
use chrono::{DateTime, Utc};
use entity::client;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// A password being set.
pub struct PasswordSet<'a> {
    pub client: &'a client::Model,
    /// The argon2id PHC string of the new password.
    pub hash: &'a str,
    /// The client must change it at next sign-in (a provider's choice, R7).
    pub must_change: bool,
    /// The link it is set through: used up here, exactly once.
    pub through_link: Option<Uuid>,
    /// The session that stays signed in (the one changing its own password).
    pub keep_session: Option<Uuid>,
    /// Who did it, for the audit trail.
    pub audit: AuditEntry,
}

/// Records the new password: every open link and queued link email ends (R4), the
/// hash is stored, every other session of the client is signed out, the act is
/// audited. A link that is no longer live answers its problem, and the caller
/// rolls back.
pub async fn record(
    conn: &impl ConnectionTrait,
    set: PasswordSet<'_>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let client_id = set.client.id;
    let cause = match set.through_link {
        Some(link) => Cause::LinkUsed(link),
        None => Cause::PasswordSet,
    };
    match invalidation::invalidate(conn, client_id, cause, now).await? {
        Invalidated::Current { .. } => {}
        Invalidated::ClientGone => return Err(AppError::NotFound("Client")),
        Invalidated::LinkNotLive => return Err(AppError::Link(LinkProblem::Used)),
    }
    client::Entity::update_many()
        .col_expr(client::Column::PasswordHash, Expr::value(set.hash))
        .col_expr(
            client::Column::MustChangePassword,
            Expr::value(set.must_change),
        )
        .filter(client::Column::Id.eq(client_id))
        .exec(conn)
        .await?;
    if set.through_link.is_some() {
        activate(conn, client_id, now).await?;
    }
    sessions::revoke_client_sessions(conn, client_id, set.keep_session, now).await?;
    audit::record(conn, set.audit).await?;
    Ok(())
}

/// Marks the client activated if it was not yet: a link used, or a first sign-in
/// with a password a provider set.
pub async fn activate(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    client::Entity::update_many()
        .col_expr(client::Column::ActivatedAt, Expr::value(now))
        .filter(client::Column::Id.eq(client_id))
        .filter(client::Column::ActivatedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
