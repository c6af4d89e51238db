//! Bearer sessions: minted on sign-in, looked up by the token's hash on each request.
use crate::domain::SessionToken;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use entity::{client, provider, session};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use std::time::Duration;
use uuid::Uuid;

/// Who is calling, as established from the `Authorization` header.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// No token was presented.
    Anonymous,
    /// A token was presented but is unknown, expired or signed out.
    Expired,
    Provider(ProviderActor),
    Client(ClientActor),
}

/// A signed-in provider and the session it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderActor {
    pub provider_id: Uuid,
    pub organization_id: Uuid,
    pub session_id: Uuid,
}

/// A signed-in client and the session it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientActor {
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub session_id: Uuid,
    /// Set by a provider: only `changePassword` (and `me`) work until it is cleared.
    pub must_change_password: bool,
}

/// Whose session it is.
#[derive(Debug, Clone, Copy)]
pub enum Subject {
    Provider(Uuid),
    Client(Uuid),
}

/// Stores a new session and returns its token, shown once.
pub async fn create(
    conn: &impl ConnectionTrait,
    subject: Subject,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<(SessionToken, DateTime<Utc>), AppError> {
    let token = SessionToken::generate();
    let expires_at = now + chrono::Duration::from_std(ttl).map_err(anyhow::Error::from)?;
    let (provider_id, client_id) = match subject {
        Subject::Provider(id) => (Some(id), None),
        Subject::Client(id) => (None, Some(id)),
    };
    session::ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(token.hash()),
        provider_id: Set(provider_id),
        client_id: Set(client_id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok((token, expires_at))
}

/// Finds the viewer a presented token belongs to.
#[tracing::instrument(skip_all)]
pub async fn resolve(
    conn: &impl ConnectionTrait,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<Viewer, AppError> {
    let Some(token) = SessionToken::from_presented(presented) else {
        return Ok(Viewer::Expired);
    };
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token.hash()))
        .one(conn)
        .await?;
    let Some(s) = found.filter(|s| s.revoked_at.is_none() && s.expires_at > now) else {
        return Ok(Viewer::Expired);
    };
    if let Some(provider_id) = s.provider_id {
        let Some(p) = provider::Entity::find_by_id(provider_id).one(conn).await? else {
            return Ok(Viewer::Expired);
        };
        return Ok(Viewer::Provider(ProviderActor {
            provider_id: p.id,
            organization_id: p.organization_id,
            session_id: s.id,
        }));
    }
    let client_id = s.client_id.unwrap_or_default();
    // Only what a session needs: the rest of the row is read where it is used.
    let found: Option<(Uuid, Uuid, bool)> = client::Entity::find_by_id(client_id)
        .select_only()
        .column(client::Column::Id)
        .column(client::Column::OrganizationId)
        .column(client::Column::MustChangePassword)
        .into_tuple()
        .one(conn)
        .await?;
    let Some((client_id, organization_id, must_change_password)) = found else {
        return Ok(Viewer::Expired);
    };
    Ok(Viewer::Client(ClientActor {
        client_id,
        organization_id,
        session_id: s.id,
        must_change_password,
    }))
}

/// Marks a session signed out; later requests with its token are `Expired`.
pub async fn revoke(conn: &impl ConnectionTrait, session_id: Uuid) -> Result<(), AppError> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Signs a client out everywhere except `keep` (after a password change).
pub async fn revoke_client_sessions(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::ClientId.eq(client_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(session::Column::Id.ne(keep));
    }
    Ok(update.exec(conn).await?.rows_affected)
}
