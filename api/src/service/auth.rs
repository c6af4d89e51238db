//! Provider sign-in and sign-out.
use crate::error::AppError;
use crate::service::sessions::{self, ClientActor, ProviderActor};
use crate::service::throttle::Action;
use crate::state::AppState;
use access::audit::{self, Actor, AuditAction, AuditEntry};
use chrono::{DateTime, Utc};
use entity::provider;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use secrecy::SecretString;

/// A successful sign-in: the token is shown to the caller once and stored only hashed.
pub struct SignedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub provider: provider::Model,
}

/// Signs a provider in. Unknown email and wrong password give the same error after
/// the same argon2 work, so the answer does not reveal who has an account.
/// Abuse limits apply first (see [`crate::service::throttle`]).
#[tracing::instrument(skip(state, email, password), fields(ip = ip.as_deref()))]
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: SecretString,
    ip: Option<String>,
) -> Result<SignedIn, AppError> {
    let attempt = verify_and_sign_in(state, email, password, ip.clone());
    let throttle = &state.throttle;
    throttle
        .guard(Action::SignIn, ip.as_deref(), email, attempt)
        .await
}

async fn verify_and_sign_in(
    state: &AppState,
    email: &str,
    password: SecretString,
    ip: Option<String>,
) -> Result<SignedIn, AppError> {
    let normalized = email.trim().to_lowercase();
    let found = provider::Entity::find()
        .filter(provider::Column::Email.eq(normalized))
        .one(&state.db)
        .await?;
    let stored = found.as_ref().map(|p| p.password_hash.clone());
    let ok = state.passwords.verify(password, stored).await?;
    let Some(provider) = found else {
        return Err(AppError::InvalidCredentials);
    };
    let entry = |action| AuditEntry {
        organization_id: provider.organization_id,
        actor: Actor::Provider(provider.id),
        action,
        client_id: None,
        detail: None,
        ip: ip.clone(),
    };
    if !ok {
        // Recorded after answering: a write only known addresses make would let the
        // answer's timing tell who is a provider.
        let (db, failed) = (state.db.clone(), entry(AuditAction::ProviderSignInFailed));
        tokio::spawn(async move {
            if let Err(e) = audit::record(&db, failed).await {
                tracing::warn!(error = %e, "failed sign-in not recorded");
            }
        });
        return Err(AppError::InvalidCredentials);
    }
    let txn = state.db.begin().await?;
    let (token, expires_at) = sessions::create(
        &txn,
        sessions::Subject::Provider(provider.id),
        state.settings.session_ttl,
        state.clock.now(),
    )
    .await?;
    audit::record(&txn, entry(AuditAction::ProviderSignedIn)).await?;
    txn.commit().await?;
    Ok(SignedIn {
        token: token.expose().to_owned(),
        expires_at,
        provider,
    })
}

/// Whose session ends.
#[derive(Debug)]
pub enum SigningOut {
    Provider(ProviderActor),
    Client(ClientActor),
}

/// Ends the caller's session and notes it in the audit trail.
#[tracing::instrument(skip(state))]
pub async fn sign_out(
    state: &AppState,
    who: SigningOut,
    ip: Option<String>,
) -> Result<(), AppError> {
    let (session_id, entry) = match who {
        SigningOut::Provider(p) => (
            p.session_id,
            AuditEntry {
                organization_id: p.organization_id,
                actor: Actor::Provider(p.provider_id),
                action: AuditAction::ProviderSignedOut,
                client_id: None,
                detail: None,
                ip,
            },
        ),
        SigningOut::Client(c) => (
            c.session_id,
            AuditEntry {
                organization_id: c.organization_id,
                actor: Actor::Client(c.client_id),
                action: AuditAction::ClientSignedOut,
                client_id: Some(c.client_id),
                detail: None,
                ip,
            },
        ),
    };
    let txn = state.db.begin().await?;
    sessions::revoke(&txn, session_id).await?;
    audit::record(&txn, entry).await?;
    txn.commit().await?;
    Ok(())
}
