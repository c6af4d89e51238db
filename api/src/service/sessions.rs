//! Bearer sessions: minted on sign-in, looked up by the token's hash on each request.
use crate::domain::SessionToken;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use entity::{provider, session};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
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
}

/// A signed-in provider and the session it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderActor {
    pub provider_id: Uuid,
    pub organization_id: Uuid,
    pub session_id: Uuid,
}

/// Stores a new session for `provider_id` and returns its token, shown once.
pub async fn create_for_provider(
    conn: &impl ConnectionTrait,
    provider_id: Uuid,
    ttl: Duration,
) -> Result<(SessionToken, DateTime<Utc>), AppError> {
    let token = SessionToken::generate();
    let now = Utc::now();
    let expires_at = now + chrono::Duration::from_std(ttl).map_err(anyhow::Error::from)?;
    session::ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(token.hash()),
        provider_id: Set(Some(provider_id)),
        client_id: Set(None),
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
pub async fn resolve(conn: &impl ConnectionTrait, presented: &str) -> Result<Viewer, AppError> {
    let Some(token) = SessionToken::from_presented(presented) else {
        return Ok(Viewer::Expired);
    };
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token.hash()))
        .one(conn)
        .await?;
    let Some(s) = found.filter(|s| s.revoked_at.is_none() && s.expires_at > Utc::now()) else {
        return Ok(Viewer::Expired);
    };
    let Some(provider_id) = s.provider_id else {
        return Ok(Viewer::Expired);
    };
    let Some(p) = provider::Entity::find_by_id(provider_id).one(conn).await? else {
        return Ok(Viewer::Expired);
    };
    Ok(Viewer::Provider(ProviderActor {
        provider_id: p.id,
        organization_id: p.organization_id,
        session_id: s.id,
    }))
}

/// Marks a session signed out; later requests with its token are `Expired`.
pub async fn revoke(conn: &impl ConnectionTrait, session_id: Uuid) -> Result<(), AppError> {
    session::Entity::update_many()
        .col_expr(
            session::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}
