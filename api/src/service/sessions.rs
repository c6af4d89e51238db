//! Bearer sessions: minted on sign-in, looked up by the token's hash on each request.
use crate::domain::SessionToken;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use entity::{client, provider, session};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
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
    Client(ClientActor),
}

impl Viewer {
    /// The signed-in provider, or why not: `UNAUTHENTICATED` (no session, or an
    /// expired one) or `FORBIDDEN` (a client).
    pub fn provider(&self) -> Result<ProviderActor, AppError> {
        match self {
            Self::Provider(actor) => Ok(*actor),
            Self::Client(_) => Err(AppError::Forbidden),
            Self::Expired => Err(AppError::SessionExpired),
            Self::Anonymous => Err(AppError::Unauthenticated),
        }
    }

    /// The signed-in client, or why not. Unless `password_change` is allowed, a
    /// client who must change their password is refused.
    pub fn client(&self, password_change: bool) -> Result<ClientActor, AppError> {
        match self {
            Self::Client(actor) if actor.must_change_password && !password_change => {
                Err(AppError::PasswordChangeRequired)
            }
            Self::Client(actor) => Ok(*actor),
            Self::Provider(_) => Err(AppError::Forbidden),
            Self::Expired => Err(AppError::SessionExpired),
            Self::Anonymous => Err(AppError::Unauthenticated),
        }
    }
}

/// Who sent one request: its bearer token, and the viewer that token stands for once
/// looked up, at most once per request and only when something needs it (an
/// operation that needs no viewer costs no query). `resendWelcomeEmail` checks the
/// session in its own statement instead and settles the viewer from its answer.
#[derive(Debug, Default)]
pub struct Caller {
    token: Option<String>,
    viewer: tokio::sync::OnceCell<Viewer>,
}

impl Caller {
    /// The caller presenting `token` (`None`: no `Authorization` header).
    pub fn new(token: Option<&str>) -> Self {
        Self {
            token: token.map(str::to_owned),
            viewer: tokio::sync::OnceCell::new(),
        }
    }

    /// The viewer, looked up on first use.
    pub async fn viewer(
        &self,
        conn: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<&Viewer, AppError> {
        self.viewer
            .get_or_try_init(|| async {
                match &self.token {
                    None => Ok(Viewer::Anonymous),
                    Some(token) => resolve(conn, token, now).await,
                }
            })
            .await
    }

    /// The viewer if it has been looked up (or settled) already.
    pub fn known(&self) -> Option<&Viewer> {
        self.viewer.get()
    }

    /// The hash a live session's row holds for the presented token; `None` for no
    /// token or one that cannot be a session's.
    pub fn token_hash(&self) -> Option<String> {
        SessionToken::from_presented(self.token.as_deref()?).map(|t| t.hash())
    }

    /// Records the viewer a statement established for the presented token.
    pub fn settle(&self, viewer: Viewer) {
        let _ = self.viewer.set(viewer);
    }
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

/// Finds the viewer a presented token belongs to, in one query: the session with its
/// provider's or client's row joined (only what a viewer needs from them).
#[tracing::instrument(skip_all)]
pub async fn resolve(
    conn: &impl ConnectionTrait,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<Viewer, AppError> {
    let Some(token) = SessionToken::from_presented(presented) else {
        return Ok(Viewer::Expired);
    };
    let query = Query::select()
        .column((session::Entity, session::Column::Id))
        .column((session::Entity, session::Column::ExpiresAt))
        .column((session::Entity, session::Column::RevokedAt))
        .expr_as(
            Expr::col((provider::Entity, provider::Column::Id)),
            "provider_id",
        )
        .expr_as(
            Expr::col((provider::Entity, provider::Column::OrganizationId)),
            "provider_organization_id",
        )
        .expr_as(Expr::col((client::Entity, client::Column::Id)), "client_id")
        .expr_as(
            Expr::col((client::Entity, client::Column::OrganizationId)),
            "client_organization_id",
        )
        .column((client::Entity, client::Column::MustChangePassword))
        .from(session::Entity)
        .left_join(
            provider::Entity,
            Expr::col((provider::Entity, provider::Column::Id))
                .equals((session::Entity, session::Column::ProviderId)),
        )
        .left_join(
            client::Entity,
            Expr::col((client::Entity, client::Column::Id))
                .equals((session::Entity, session::Column::ClientId)),
        )
        .and_where(Expr::col((session::Entity, session::Column::TokenHash)).eq(token.hash()))
        .to_owned();
    let statement = conn.get_database_backend().build(&query);
    let Some(row) = conn.query_one_raw(statement).await? else {
        return Ok(Viewer::Expired);
    };
    let expires_at: DateTime<Utc> = row.try_get("", "expires_at")?;
    let revoked_at: Option<DateTime<Utc>> = row.try_get("", "revoked_at")?;
    if revoked_at.is_some() || expires_at <= now {
        return Ok(Viewer::Expired);
    }
    let session_id: Uuid = row.try_get("", "id")?;
    let provider: (Option<Uuid>, Option<Uuid>) = (
        row.try_get("", "provider_id")?,
        row.try_get("", "provider_organization_id")?,
    );
    if let (Some(provider_id), Some(organization_id)) = provider {
        return Ok(Viewer::Provider(ProviderActor {
            provider_id,
            organization_id,
            session_id,
        }));
    }
    let client: (Option<Uuid>, Option<Uuid>, Option<bool>) = (
        row.try_get("", "client_id")?,
        row.try_get("", "client_organization_id")?,
        row.try_get("", "must_change_password")?,
    );
    let (Some(client_id), Some(organization_id), Some(must_change_password)) = client else {
        // A session whose provider or client is gone.
        return Ok(Viewer::Expired);
    };
    Ok(Viewer::Client(ClientActor {
        client_id,
        organization_id,
        session_id,
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
