//! R2 and R5: a fresh link by email, at most `RESEND_LIMIT` times per client per window.
use super::outbox::{self, Outgoing};
use super::resend_cap::{Acquired, Quota, Slot};
use crate::error::AppError;
use crate::service::audit::{self, Actor, AuditEntry};
use crate::service::throttle::Action;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use entity::{account_link, client, email_delivery};
use sea_orm::{DatabaseTransaction, TransactionTrait};

/// A counted resend that went into the outbox.
pub struct Resent {
    pub client: client::Model,
    pub delivery: email_delivery::Model,
    pub quota: Quota,
}

/// Takes a slot for `client` or answers `RATE_LIMITED` (recorded in the audit trail).
pub async fn take_slot(
    state: &AppState,
    client: &client::Model,
    actor: Actor,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<(Slot, Quota), AppError> {
    match state.limiter.acquire(client.id, now).await? {
        Acquired::Granted { slot, quota } => Ok((slot, quota)),
        Acquired::Refused { quota } => {
            let entry = AuditEntry {
                organization_id: client.organization_id,
                actor,
                action: "email.rate_limited",
                client_id: Some(client.id),
                detail: Some(format!("{} emails in the window", quota.limit)),
                ip,
            };
            audit::record(&state.db, entry).await?;
            Err(AppError::RateLimited {
                next_available_at: quota.next_available_at,
                retry_after_seconds: (quota.next_available_at - now).num_seconds().max(1),
            })
        }
    }
}

/// Runs `write` in a transaction holding `slot`; gives the slot back if anything fails,
/// so a refused or broken request does not use up the client's quota.
pub async fn with_slot<T>(
    state: &AppState,
    slot: Slot,
    write: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let result = async {
        let txn = state.db.begin().await?;
        let value = write(&txn).await?;
        txn.commit().await?;
        Ok(value)
    }
    .await;
    if result.is_err()
        && let Err(e) = state.limiter.release(slot).await
    {
        tracing::warn!(error = %e, "could not give back a resend slot");
    }
    result
}

/// Generates a fresh link and queues the email that carries it (counted against R5).
#[tracing::instrument(skip_all, fields(client_id = %client.id))]
pub async fn resend_link(
    state: &AppState,
    client: client::Model,
    actor: Actor,
    ip: Option<String>,
) -> Result<Resent, AppError> {
    let to = client.email.clone().ok_or(AppError::ClientHasNoEmail)?;
    let now = state.clock.now();
    let (slot, quota) = take_slot(state, &client, actor, ip.clone(), now).await?;
    let email: Outgoing = outbox::link_email(&client, &to);
    let action = match email.link_kind {
        Some(account_link::kind::INVITE) => "email.invite_resent",
        _ => "email.password_reset_sent",
    };
    let (client, delivery) = with_slot(state, slot, async move |txn| {
        let generation = outbox::bump_generation(txn, client.id, now)
            .await?
            .ok_or(AppError::NotFound("Client"))?;
        outbox::retire_links(txn, client.id, account_link::revoked::SUPERSEDED, now).await?;
        let delivery = outbox::enqueue(txn, client.id, email, generation, now).await?;
        let entry = AuditEntry {
            organization_id: client.organization_id,
            actor,
            action,
            client_id: Some(client.id),
            detail: Some(format!("to {}", outbox::masked(&to))),
            ip,
        };
        audit::record(txn, entry).await?;
        Ok((client, delivery))
    })
    .await?;
    state.push_deliveries([delivery.id]).await;
    Ok(Resent {
        client,
        delivery,
        quota,
    })
}

/// `requestPasswordReset`: the answer never depends on whether the address is known,
/// so the work happens after answering. Every client with that address (one per
/// practice) gets a link, within their own resend quota.
/// Only the abuse limits (per IP and per address, the same for every address) are
/// checked before answering.
pub async fn request_password_reset(
    state: &AppState,
    normalized_email: String,
    ip: Option<String>,
) -> Result<(), AppError> {
    let throttle = &state.throttle;
    throttle
        .check(Action::PasswordReset, ip.as_deref(), &normalized_email)
        .await?;
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = reset_for_address(&state, &normalized_email, ip).await {
            tracing::warn!(error = %e, "password reset request failed");
        }
    });
    Ok(())
}

async fn reset_for_address(
    state: &AppState,
    normalized_email: &str,
    ip: Option<String>,
) -> Result<(), AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let clients = client::Entity::find()
        .filter(client::Column::EmailNormalized.eq(normalized_email))
        .limit(20)
        .all(&state.db)
        .await?;
    for client in clients {
        match resend_link(state, client, Actor::System, ip.clone()).await {
            Ok(_) | Err(AppError::RateLimited { .. }) => {}
            Err(e) => tracing::warn!(error = %e, "password reset email not queued"),
        }
    }
    Ok(())
}
