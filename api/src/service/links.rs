//! Account links from the client's side: what state a link is in (never consuming
//! it, so mail scanners cannot burn it) and using it to set a password.
use super::password_set::{self, PasswordSet};
use super::sessions::{self, Subject};
use crate::domain::{LinkToken, NewPassword};
use crate::error::{AppError, LinkProblem};
use crate::service::throttle::Action;
use crate::state::AppState;
use access::audit::{self, Actor, AuditAction, AuditEntry};
use access::intake_forms::{self, Assigned};
use chrono::{DateTime, Utc};
use entity::account_link::LinkKind;
use entity::{account_link, client, organization};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use secrecy::SecretString;

/// A link as found, with whom it belongs to.
pub struct FoundLink {
    pub link: account_link::Model,
    pub client: client::Model,
    pub practice: organization::Model,
    /// `None` while the link can be used.
    pub problem: Option<LinkProblem>,
}

/// Where a presented link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Valid,
    Expired,
    Used,
    Superseded,
    Invalid,
}

impl LinkState {
    /// The name pages and the API show.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "VALID",
            Self::Expired => "EXPIRED",
            Self::Used => "USED",
            Self::Superseded => "SUPERSEDED",
            Self::Invalid => "INVALID",
        }
    }
}

/// What a presented link may tell whoever holds it: its state always; whose it is
/// (first name, practice, kind) only while it works, because a used, replaced or
/// expired link may sit in an inbox someone else reads now.
#[derive(Debug, Clone)]
pub struct LinkView {
    pub state: LinkState,
    pub kind: Option<LinkKind>,
    pub first_name: Option<String>,
    pub practice: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl LinkView {
    /// The view of a lookup's result.
    pub fn of(found: Option<FoundLink>) -> Self {
        let state = match found.as_ref().map(|f| f.problem) {
            None | Some(Some(LinkProblem::Invalid)) => LinkState::Invalid,
            Some(None) => LinkState::Valid,
            Some(Some(LinkProblem::Expired)) => LinkState::Expired,
            Some(Some(LinkProblem::Used)) => LinkState::Used,
            Some(Some(LinkProblem::Superseded)) => LinkState::Superseded,
        };
        match found.filter(|_| state == LinkState::Valid) {
            Some(f) => Self {
                state,
                kind: Some(f.link.kind),
                first_name: Some(f.client.first_name),
                practice: Some(f.practice.name),
                expires_at: f.link.expires_at,
            },
            None => Self {
                state,
                kind: None,
                first_name: None,
                practice: None,
                expires_at: None,
            },
        }
    }
}

/// Why `link` cannot be used at `now`, if it cannot.
pub fn problem(link: &account_link::Model, now: DateTime<Utc>) -> Option<LinkProblem> {
    if link.used_at.is_some() {
        Some(LinkProblem::Used)
    } else if link.revoked_at.is_some() {
        Some(LinkProblem::Superseded)
    } else if link.expires_at.is_some_and(|at| at <= now) {
        Some(LinkProblem::Expired)
    } else {
        None
    }
}

/// Looks a presented token up; `None` for anything that is not a link we issued.
pub async fn find(
    conn: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<FoundLink>, AppError> {
    let Some(token) = LinkToken::from_presented(token.trim()) else {
        return Ok(None);
    };
    let Some(link) = account_link::Entity::find()
        .filter(account_link::Column::TokenHash.eq(token.hash()))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let Some(client) = client::Entity::find_by_id(link.client_id).one(conn).await? else {
        return Ok(None);
    };
    let Some(practice) = organization::Entity::find_by_id(client.organization_id)
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let problem = problem(&link, now);
    Ok(Some(FoundLink {
        link,
        client,
        practice,
        problem,
    }))
}

/// What completing a link gives the client: a signed-in session, and the intake
/// forms still to complete (R8).
pub struct Completed {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub client: client::Model,
    pub pending_forms: Vec<Assigned>,
}

/// Uses the link once: sets the password, activates the account, ends every other
/// link and session, and signs the client in. Of two concurrent uses exactly one wins.
/// Abuse limits apply first: unusable links and refused passwords count as failures.
#[tracing::instrument(skip_all, fields(ip = ip.as_deref()))]
pub async fn complete(
    state: &AppState,
    token: &str,
    password: SecretString,
    ip: Option<String>,
) -> Result<Completed, AppError> {
    let attempt = use_link(state, token, password, ip.clone());
    let throttle = &state.throttle;
    throttle
        .guard(Action::CompleteAccountLink, ip.as_deref(), token, attempt)
        .await
}

/// A link's state for the page or query that shows it, under the abuse limits.
pub async fn look_up(
    state: &AppState,
    token: &str,
    ip: Option<&str>,
) -> Result<Option<FoundLink>, AppError> {
    state.throttle.check(Action::AccountLink, ip, token).await?;
    find(&state.db, token, state.clock.now()).await
}

async fn use_link(
    state: &AppState,
    token: &str,
    password: SecretString,
    ip: Option<String>,
) -> Result<Completed, AppError> {
    let now = state.clock.now();
    let found = find(&state.db, token, now)
        .await?
        .ok_or(AppError::Link(LinkProblem::Invalid))?;
    if let Some(problem) = found.problem {
        record_failed_use(state, &found, problem, ip).await?;
        return Err(AppError::Link(problem));
    }
    let c = &found.client;
    let email = c.email.clone().unwrap_or_default();
    let inputs = [c.first_name.as_str(), c.last_name.as_str(), email.as_str()];
    let password = NewPassword::parse(password, &inputs)?;
    let hash = state.passwords.hash(password.secret().clone()).await?;
    let txn = state.db.begin().await?;
    let audit = AuditEntry {
        organization_id: c.organization_id,
        actor: Actor::Client(c.id),
        action: AuditAction::LinkUsed,
        client_id: Some(c.id),
        detail: Some(format!("{} link; password set", found.link.kind.as_str())),
        ip,
    };
    let set = PasswordSet {
        client: c,
        hash: &hash,
        must_change: false,
        through_link: Some(found.link.id),
        keep_session: None,
        audit,
    };
    if let Err(e) = password_set::record(&txn, set, now).await {
        txn.rollback().await?;
        // Used or replaced a moment ago by a concurrent request: say which.
        if let AppError::Link(_) = e {
            let again = find(&state.db, token, state.clock.now()).await?;
            let problem = again.and_then(|f| f.problem).unwrap_or(LinkProblem::Used);
            return Err(AppError::Link(problem));
        }
        return Err(e);
    }
    let ttl = state.settings.session_ttl;
    let (session, expires_at) = sessions::create(&txn, Subject::Client(c.id), ttl, now).await?;
    let first_activation = c.activated_at.is_none();
    let delay = state.settings.email.intake_reminder_delay;
    if first_activation {
        access::intake_check::schedule(&txn, c.id, now, delay).await?;
    }
    txn.commit().await?;
    if first_activation && let Err(e) = state.queue.schedule_intake_check(c.id, delay).await {
        tracing::warn!(error = %e, "intake check not scheduled; the sweeper will run it");
    }
    let client = super::clients::reload(&state.db, c.id).await?;
    Ok(Completed {
        token: session.expose().to_owned(),
        expires_at,
        client,
        pending_forms: intake_forms::assigned(&state.db, c.id, true).await?,
    })
}

async fn record_failed_use(
    state: &AppState,
    found: &FoundLink,
    problem: LinkProblem,
    ip: Option<String>,
) -> Result<(), AppError> {
    let entry = AuditEntry {
        organization_id: found.client.organization_id,
        actor: Actor::System,
        action: AuditAction::LinkUseFailed,
        client_id: Some(found.client.id),
        detail: Some(format!("{} link: {problem:?}", found.link.kind.as_str()).to_lowercase()),
        ip,
    };
    audit::record(&state.db, entry).await?;
    Ok(())
}
