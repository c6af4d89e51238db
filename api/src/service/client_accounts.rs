//! A client's password from every side: the provider sets one (R7), the client signs
//! in with it and changes it. Any password set ends all open links and sessions.
use super::password_set::{self, PasswordSet};
use super::sessions::{self, ClientActor, Subject};
use crate::domain::NewPassword;
use crate::error::AppError;
use crate::service::sessions::ProviderActor;
use crate::service::throttle::Action;
use crate::state::AppState;
use access::audit::{self, Actor, AuditAction, AuditEntry};
use chrono::{DateTime, Utc};
use entity::client;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use secrecy::SecretString;

/// The names and address zxcvbn should treat as guessable for this client.
fn guessable(c: &client::Model) -> [String; 3] {
    [
        c.first_name.clone(),
        c.last_name.clone(),
        c.email.clone().unwrap_or_default(),
    ]
}

/// Checks strength and hashes (off the async runtime).
async fn hash_new(
    state: &AppState,
    c: &client::Model,
    password: SecretString,
) -> Result<String, AppError> {
    let inputs = guessable(c);
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let password = NewPassword::parse(password, &inputs)?;
    state.passwords.hash(password.secret().clone()).await
}

/// R7: a provider sets the client's password; it is never shown back or emailed.
#[tracing::instrument(skip_all, fields(client_id = %client.id))]
pub async fn set_by_provider(
    state: &AppState,
    actor: &ProviderActor,
    client: client::Model,
    password: SecretString,
    require_change: bool,
    ip: Option<String>,
) -> Result<client::Model, AppError> {
    let hash = hash_new(state, &client, password).await?;
    let now = state.clock.now();
    let detail = match require_change {
        true => "client must change it at next sign-in",
        false => "no change required",
    };
    let audit = AuditEntry {
        organization_id: client.organization_id,
        actor: Actor::Provider(actor.provider_id),
        action: AuditAction::ClientPasswordSetByProvider,
        client_id: Some(client.id),
        detail: Some(detail.to_owned()),
        ip,
    };
    let set = PasswordSet {
        client: &client,
        hash: &hash,
        must_change: require_change,
        through_link: None,
        keep_session: None,
        audit,
    };
    let txn = state.db.begin().await?;
    password_set::record(&txn, set, now).await?;
    txn.commit().await?;
    super::clients::reload(&state.db, client.id).await
}

/// A client's session, as handed out once.
pub struct ClientSignedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub client: client::Model,
}

/// Signs a client in. An address may belong to clients of several practices; the
/// most recently activated account is the one signed in to (one password check,
/// the same cost whatever the address). Unknown address and wrong password answer
/// alike.
/// Abuse limits apply first (see [`crate::service::throttle`]).
#[tracing::instrument(skip(state, email, password), fields(ip = ip.as_deref()))]
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: SecretString,
    ip: Option<String>,
) -> Result<ClientSignedIn, AppError> {
    let attempt = verify_and_sign_in(state, email, password, ip.clone());
    let throttle = &state.throttle;
    throttle
        .guard(Action::ClientSignIn, ip.as_deref(), email, attempt)
        .await
}

async fn verify_and_sign_in(
    state: &AppState,
    email: &str,
    password: SecretString,
    ip: Option<String>,
) -> Result<ClientSignedIn, AppError> {
    // Exactly one password check per attempt, whoever the address belongs to: the
    // answer's timing must not tell how many practices know it.
    let candidate = client::Entity::find()
        .filter(client::Column::EmailNormalized.eq(email.trim().to_lowercase()))
        .filter(client::Column::PasswordHash.is_not_null())
        .order_by_desc(client::Column::ActivatedAt)
        .order_by_desc(client::Column::UpdatedAt)
        .one(&state.db)
        .await?;
    let stored = candidate.as_ref().and_then(|c| c.password_hash.clone());
    let matches = state.passwords.verify(password, stored).await?;
    let Some(client) = candidate.filter(|_| matches) else {
        return Err(AppError::InvalidCredentials);
    };
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    password_set::activate(&txn, client.id, now).await?;
    let ttl = state.settings.session_ttl;
    let (token, expires_at) = sessions::create(&txn, Subject::Client(client.id), ttl, now).await?;
    let entry = AuditEntry {
        organization_id: client.organization_id,
        actor: Actor::Client(client.id),
        action: AuditAction::ClientSignedIn,
        client_id: Some(client.id),
        detail: None,
        ip,
    };
    audit::record(&txn, entry).await?;
    txn.commit().await?;
    Ok(ClientSignedIn {
        token: token.expose().to_owned(),
        expires_at,
        client: super::clients::reload(&state.db, client.id).await?,
    })
}

/// The signed-in client changes their password; other sessions and open links end.
#[tracing::instrument(skip(state, current, new), fields(client_id = %actor.client_id))]
pub async fn change_password(
    state: &AppState,
    actor: &ClientActor,
    current: SecretString,
    new: SecretString,
    ip: Option<String>,
) -> Result<client::Model, AppError> {
    let client = super::clients::reload(&state.db, actor.client_id).await?;
    if !state
        .passwords
        .verify(current, client.password_hash.clone())
        .await?
    {
        return Err(AppError::InvalidCredentials);
    }
    let hash = hash_new(state, &client, new).await?;
    let now = state.clock.now();
    let audit = AuditEntry {
        organization_id: client.organization_id,
        actor: Actor::Client(client.id),
        action: AuditAction::ClientPasswordChanged,
        client_id: Some(client.id),
        detail: None,
        ip,
    };
    let set = PasswordSet {
        client: &client,
        hash: &hash,
        must_change: false,
        through_link: None,
        keep_session: Some(actor.session_id),
        audit,
    };
    let txn = state.db.begin().await?;
    password_set::record(&txn, set, now).await?;
    txn.commit().await?;
    super::clients::reload(&state.db, client.id).await
}
