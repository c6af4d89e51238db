//! R2 and R5: a fresh link by email, at most `RESEND_LIMIT` times per client per
//! window. The cap is taken before the transaction and given back if it fails, so
//! a refused or broken request does not use up the client's quota.
use super::clients;
use super::resend_cap::{Acquired, Quota, ResendLimiter, Slot};
use super::sessions::Caller;
use crate::error::{AppError, Limited};
use crate::state::AppState;
use access::audit::{self, Actor, AuditAction, AuditEntry};
use access::invalidation::{self, Cause};
use access::link_email::{self, LinkEmail};
use access::outbox::Outgoing;
use chrono::{DateTime, Utc};
use entity::email_delivery::Cap;
use entity::{client, email_delivery};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, TransactionTrait};
use uuid::Uuid;

/// A counted resend that went into the outbox.
pub struct Resent {
    pub client: client::Model,
    pub delivery: email_delivery::Model,
    pub quota: Quota,
}

/// What a counted link email needs: where it is written and the cap it counts against.
pub struct CountedSend<'a> {
    pub db: &'a DatabaseConnection,
    pub limiter: &'a dyn ResendLimiter,
    pub cap: Cap,
}

impl<'a> CountedSend<'a> {
    /// Link emails a provider sends, under the providers' cap.
    pub fn by_provider(state: &'a AppState) -> Self {
        Self {
            db: &state.db,
            limiter: state.limiter.as_ref(),
            cap: Cap::Provider,
        }
    }

    /// Password resets a client asks for, under their own cap: never the providers'.
    pub fn self_service(state: &'a AppState) -> Self {
        Self {
            db: &state.db,
            limiter: state.reset_limiter.as_ref(),
            cap: Cap::SelfService,
        }
    }

    /// The link email `client` gets now, recorded against this cap.
    pub fn link_email(&self, client: &client::Model, to: &str) -> Outgoing {
        Outgoing::link_for(client, to).counted_in(self.cap)
    }

    /// Takes a slot for `client` or answers `RATE_LIMITED` (recorded in the audit trail).
    pub async fn take_slot(
        &self,
        client: &client::Model,
        actor: Actor,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(Slot, Quota), AppError> {
        match self.limiter.acquire(client.id, now).await? {
            Acquired::Granted { slot, quota } => Ok((slot, quota)),
            Acquired::Refused { quota } => {
                let scope = (client.organization_id, client.id);
                Err(self.refuse(scope, quota, actor, ip, now).await)
            }
        }
    }

    /// The `RATE_LIMITED` answer for the client `(organization, client)`, audited.
    async fn refuse(
        &self,
        (organization_id, client_id): (Uuid, Uuid),
        quota: Quota,
        actor: Actor,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> AppError {
        let entry = AuditEntry {
            organization_id,
            actor,
            action: AuditAction::RateLimited,
            client_id: Some(client_id),
            detail: Some(format!("{} emails in the window", quota.limit)),
            ip,
        };
        if let Err(e) = audit::record(self.db, entry).await {
            return e.into();
        }
        let (limited, label) = match self.cap {
            Cap::Provider => (Limited::ClientEmails, "provider"),
            Cap::SelfService => (Limited::PasswordResetEmails, "self_service"),
        };
        let refusals = crate::telemetry::metrics::RESEND_CAP_REFUSALS;
        metrics::counter!(refusals, "cap" => label).increment(1);
        AppError::RateLimited {
            limited,
            next_available_at: quota.next_available_at,
            retry_after_seconds: (quota.next_available_at - now).num_seconds().max(1),
        }
    }

    /// The answer to a refused slot for `(organization, client)`: `NOT_FOUND` unless
    /// it is a client of the practice (a refusal names only those), else
    /// `RATE_LIMITED`, audited.
    async fn refuse_owned(
        &self,
        (organization_id, client_id): (Uuid, Uuid),
        quota: Quota,
        actor: Actor,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> AppError {
        match clients::find_owned(self.db, organization_id, client_id).await {
            Err(e) => e,
            Ok(None) => AppError::NotFound("Client"),
            Ok(Some(_)) => {
                let scope = (organization_id, client_id);
                self.refuse(scope, quota, actor, ip, now).await
            }
        }
    }

    /// Why the link email of `organization_id`'s client `client_id` was not queued,
    /// its statement having written nothing: no such client, or no address.
    async fn not_queued(&self, organization_id: Uuid, client_id: Uuid) -> AppError {
        match clients::find_owned(self.db, organization_id, client_id).await {
            Err(e) => e,
            Ok(None) => AppError::NotFound("Client"),
            Ok(Some(_)) => AppError::ClientHasNoEmail,
        }
    }

    /// Runs `write` in a transaction holding `slot`; gives the slot back if anything
    /// fails.
    pub async fn with_slot<T>(
        &self,
        slot: Slot,
        write: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let written = async {
            let txn = self.db.begin().await?;
            let value = write(&txn).await?;
            txn.commit().await?;
            Ok(value)
        };
        self.holding(slot, written).await
    }

    /// Runs `write` holding `slot`; gives the slot back if it fails.
    async fn holding<T>(
        &self,
        slot: Slot,
        write: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let result = write.await;
        if result.is_err()
            && let Err(e) = self.limiter.release(slot).await
        {
            tracing::warn!(error = %e, "could not give back a resend slot");
        }
        result
    }

    /// Generates a fresh link (R4: every earlier one ends) and queues the email
    /// that carries it, counted against R5. Push the delivery after this returns.
    pub async fn resend_link(
        &self,
        client: client::Model,
        actor: Actor,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Resent, AppError> {
        let to = client.email.clone().ok_or(AppError::ClientHasNoEmail)?;
        let (slot, quota) = self.take_slot(&client, actor, ip.clone(), now).await?;
        let email = self.link_email(&client, &to);
        let delivery = self
            .with_slot(slot, async |txn| {
                queue_link_email(txn, &client, email, actor, ip, now).await
            })
            .await?;
        Ok(Resent {
            client,
            delivery,
            quota,
        })
    }

    /// A fresh link for `organization_id`'s client `client_id`, counted against the
    /// cap, with the client read, checked and locked by the statement that starts its
    /// new link generation: one Redis call and, on PostgreSQL, one statement per
    /// resend ([`access::link_email`]). The slot is taken first and given back when
    /// the client is not the practice's or has no address; a refusal names only a
    /// client of the practice.
    pub async fn resend_owned(
        &self,
        organization_id: Uuid,
        client_id: Uuid,
        actor: Actor,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Resent, AppError> {
        let (slot, quota) = match self.limiter.acquire(client_id, now).await? {
            Acquired::Granted { slot, quota } => (slot, quota),
            Acquired::Refused { quota } => {
                let scope = (organization_id, client_id);
                return Err(self.refuse_owned(scope, quota, actor, ip, now).await);
            }
        };
        let email = LinkEmail {
            organization_id,
            client_id,
            cap: self.cap,
            actor,
            ip,
            now,
        };
        let queued = async {
            match link_email::queue(self.db, email).await? {
                Some(queued) => Ok(queued),
                None => Err(self.not_queued(organization_id, client_id).await),
            }
        };
        let (client, delivery) = self.holding(slot, queued).await?;
        Ok(Resent {
            client,
            delivery,
            quota,
        })
    }
}

/// In the caller's transaction: ends every earlier link (R4), queues `email` under
/// the new generation and audits it as a resend of its kind.
pub async fn queue_link_email(
    txn: &DatabaseTransaction,
    client: &client::Model,
    email: Outgoing,
    actor: Actor,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<email_delivery::Model, AppError> {
    let generation = invalidation::invalidate(txn, client.id, Cause::NewLink, now)
        .await?
        .generation()
        .ok_or(AppError::NotFound("Client"))?;
    Ok(link_email::record(txn, client, email, generation, actor, ip, now).await?)
}

/// `resendWelcomeEmail`: a fresh link to the provider's client under the providers'
/// cap. On PostgreSQL, with the caller's session not yet looked up, the statement
/// that queues the email checks it too ([`CountedSend::resend_for_session`]).
#[tracing::instrument(skip_all, fields(%client_id))]
pub async fn resend_link(
    state: &AppState,
    caller: &Caller,
    client_id: Uuid,
    ip: Option<String>,
) -> Result<Resent, AppError> {
    let now = state.clock.now();
    let send = CountedSend::by_provider(state);
    let one_statement = state.db.get_database_backend() == DbBackend::Postgres;
    let resent = match caller.token_hash() {
        Some(token_hash) if one_statement && caller.known().is_none() => {
            send.resend_for_session(caller, &token_hash, client_id, ip, now)
                .await?
        }
        _ => {
            let actor = caller.viewer(&state.db, now).await?.provider()?;
            let by = Actor::Provider(actor.provider_id);
            send.resend_owned(actor.organization_id, client_id, by, ip, now)
                .await?
        }
    };
    state.push_deliveries([resent.delivery.id]).await;
    Ok(resent)
}

mod for_session;
#[cfg(test)]
mod tests;
