//! The `DeliverEmail` handler: claims one outbox row, mints its link at send time,
//! renders, sends and records the outcome. Safe to run twice for the same row: the
//! claim is a conditional update, so a row that is `sent` is never sent again.
use crate::audit::{self, Actor, AuditEntry};
use crate::clock::SharedClock;
use crate::mailer::{Mailer, SendError};
use crate::templates::{self, EmailContent, Recipient};
use crate::token::LinkToken;
use chrono::{DateTime, Utc};
use entity::email_delivery::{kind as email_kind, status};
use entity::{account_link, client, email_delivery, organization};
use lettre::message::Mailbox;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// The job: deliver the outbox row `delivery_id`. Carries no address, name or token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverEmail {
    pub delivery_id: Uuid,
}

/// How deliveries behave.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Base of the links in emails, e.g. `https://portal.example.com`.
    pub public_url: String,
    pub mail_from: Mailbox,
    pub reset_link_ttl: Duration,
    /// Attempts before a transiently failing email is given up as `failed`.
    pub max_attempts: i32,
    /// First retry delay; doubled on each further attempt, capped at ten minutes.
    pub retry_base: Duration,
    /// How long a worker may hold a row in `sending` before another takes over.
    pub lease: Duration,
}

/// What handling one job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Already sent, failed, superseded, claimed by another worker, or not yet due.
    Skipped,
    /// A newer link email or a change to the client made this one stale.
    Superseded,
    Retrying {
        at: DateTime<Utc>,
    },
    Failed,
}

/// Everything a delivery needs.
#[derive(Debug, Clone)]
pub struct Deliverer {
    pub db: DatabaseConnection,
    pub mailer: Mailer,
    pub clock: SharedClock,
    pub config: DeliveryConfig,
}

impl Deliverer {
    /// Handles one `DeliverEmail` job.
    #[tracing::instrument(skip(self), fields(delivery_id = %delivery_id))]
    pub async fn deliver(&self, delivery_id: Uuid) -> Result<Outcome, DbErr> {
        let Some(delivery) = self.claim(delivery_id).await? else {
            return Ok(Outcome::Skipped);
        };
        let Some((client, practice)) = self.recipient(delivery.client_id).await? else {
            return self.finish(&delivery, status::SUPERSEDED, None).await;
        };
        let to = Recipient {
            practice: &practice,
            first_name: &client.first_name,
        };
        let token = match &delivery.link_kind {
            None => None,
            Some(kind) => match self.mint_link(&delivery, kind).await? {
                Some(token) => Some(token),
                None => return Ok(Outcome::Superseded),
            },
        };
        let link = token.as_ref().map(|t| self.link_url(t));
        let content = match (delivery.kind.as_str(), link.as_deref()) {
            (email_kind::WELCOME, Some(link)) => EmailContent::Welcome { link },
            (email_kind::PASSWORD_RESET, Some(link)) => EmailContent::PasswordReset {
                link,
                expires_in: templates::human_duration(self.config.reset_link_ttl),
            },
            (email_kind::EMAIL_CHANGED_NOTICE, None) => EmailContent::EmailChangedNotice,
            (other, _) => {
                let reason = format!("no template for a {other:?} email");
                return self.fail(&delivery, &client, reason).await;
            }
        };
        let rendered = match templates::render(to, &content) {
            Ok(r) => r,
            Err(e) => {
                return self
                    .fail(&delivery, &client, format!("template: {e}"))
                    .await;
            }
        };
        drop(link);
        let sent = self
            .mailer
            .send(&self.config.mail_from, &delivery.to_address, &rendered)
            .await;
        drop(token);
        match sent {
            Ok(()) => {
                tracing::info!(kind = %delivery.kind, "email sent");
                self.finish(&delivery, status::SENT, None).await
            }
            Err(SendError::Permanent(reason)) => self.fail(&delivery, &client, reason).await,
            Err(SendError::Transient(reason)) => self.retry_later(&delivery, &client, reason).await,
        }
    }

    /// Takes the row if it is due and nobody holds it; counts the attempt.
    async fn claim(&self, id: Uuid) -> Result<Option<email_delivery::Model>, DbErr> {
        let now = self.clock.now();
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        let claimable = Condition::any()
            .add(
                Condition::all()
                    .add(email_delivery::Column::Status.eq(status::QUEUED))
                    .add(email_delivery::Column::NextAttemptAt.lte(now)),
            )
            .add(
                Condition::all()
                    .add(email_delivery::Column::Status.eq(status::SENDING))
                    .add(email_delivery::Column::ClaimedUntil.lt(now)),
            );
        let claimed = email_delivery::Entity::update_many()
            .col_expr(email_delivery::Column::Status, Expr::value(status::SENDING))
            .col_expr(
                email_delivery::Column::Attempts,
                Expr::col(email_delivery::Column::Attempts).add(1),
            )
            .col_expr(
                email_delivery::Column::ClaimedUntil,
                Expr::value(now + lease),
            )
            .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(email_delivery::Column::Id.eq(id))
            .filter(claimable)
            .exec(&self.db)
            .await?;
        if claimed.rows_affected == 0 {
            return Ok(None);
        }
        email_delivery::Entity::find_by_id(id).one(&self.db).await
    }

    async fn recipient(&self, client_id: Uuid) -> Result<Option<(client::Model, String)>, DbErr> {
        let Some(client) = client::Entity::find_by_id(client_id).one(&self.db).await? else {
            return Ok(None);
        };
        let practice = organization::Entity::find_by_id(client.organization_id)
            .one(&self.db)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        Ok(Some((client, practice)))
    }

    /// Mints the link, unless the client changed since the email was queued (then the
    /// delivery is marked superseded). Locks the client row first, as every mutation
    /// that bumps `link_generation` does, so a link is never minted after a newer one.
    async fn mint_link(
        &self,
        delivery: &email_delivery::Model,
        kind: &str,
    ) -> Result<Option<LinkToken>, DbErr> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let current = client::Entity::update_many()
            .col_expr(
                client::Column::LinkGeneration,
                Expr::col(client::Column::LinkGeneration),
            )
            .filter(client::Column::Id.eq(delivery.client_id))
            .filter(client::Column::LinkGeneration.eq(delivery.link_generation))
            .exec(&txn)
            .await?;
        if current.rows_affected == 0 {
            set_status(&txn, delivery.id, status::SUPERSEDED, None, now).await?;
            txn.commit().await?;
            tracing::info!("delivery superseded by a newer change");
            return Ok(None);
        }
        revoke_live_links(
            &txn,
            delivery.client_id,
            account_link::revoked::SUPERSEDED,
            now,
        )
        .await?;
        let token = LinkToken::generate();
        let ttl = chrono::Duration::from_std(self.config.reset_link_ttl).unwrap_or_default();
        let link_id = Uuid::now_v7();
        account_link::ActiveModel {
            id: Set(link_id),
            client_id: Set(delivery.client_id),
            kind: Set(kind.to_owned()),
            token_hash: Set(token.hash()),
            sent_to_email: Set(delivery.to_address.clone()),
            created_at: Set(now),
            expires_at: Set((kind == account_link::kind::PASSWORD_RESET).then_some(now + ttl)),
            used_at: Set(None),
            revoked_at: Set(None),
            revoked_reason: Set(None),
        }
        .insert(&txn)
        .await?;
        email_delivery::Entity::update_many()
            .col_expr(email_delivery::Column::AccountLinkId, Expr::value(link_id))
            .filter(email_delivery::Column::Id.eq(delivery.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(Some(token))
    }

    fn link_url(&self, token: &LinkToken) -> String {
        format!(
            "{}/account/setup?token={}",
            self.config.public_url,
            token.expose()
        )
    }

    async fn finish(
        &self,
        delivery: &email_delivery::Model,
        to: &str,
        error: Option<String>,
    ) -> Result<Outcome, DbErr> {
        let now = self.clock.now();
        set_status(&self.db, delivery.id, to, error, now).await?;
        Ok(match to {
            status::SENT => Outcome::Sent,
            status::SUPERSEDED => Outcome::Superseded,
            _ => Outcome::Failed,
        })
    }

    /// Gives up: records why, takes back the link nobody received, notes it in the trail.
    async fn fail(
        &self,
        delivery: &email_delivery::Model,
        client: &client::Model,
        reason: String,
    ) -> Result<Outcome, DbErr> {
        tracing::warn!(kind = %delivery.kind, reason = %reason, "email failed");
        let now = self.clock.now();
        let minted = self.minted_link(delivery).await?;
        let txn = self.db.begin().await?;
        set_status(&txn, delivery.id, status::FAILED, Some(reason.clone()), now).await?;
        if let Some(link_id) = minted {
            account_link::Entity::update_many()
                .col_expr(account_link::Column::RevokedAt, Expr::value(now))
                .col_expr(
                    account_link::Column::RevokedReason,
                    Expr::value(account_link::revoked::DELIVERY_FAILED),
                )
                .filter(account_link::Column::Id.eq(link_id))
                .filter(account_link::Column::RevokedAt.is_null())
                .filter(account_link::Column::UsedAt.is_null())
                .exec(&txn)
                .await?;
        }
        let entry = AuditEntry {
            organization_id: client.organization_id,
            actor: Actor::System,
            action: "email.delivery_failed",
            client_id: Some(client.id),
            detail: Some(format!(
                "{} email: {}",
                delivery.kind,
                truncate(&reason, 200)
            )),
            ip: None,
        };
        audit::record(&txn, entry).await?;
        txn.commit().await?;
        Ok(Outcome::Failed)
    }

    async fn minted_link(&self, delivery: &email_delivery::Model) -> Result<Option<Uuid>, DbErr> {
        Ok(email_delivery::Entity::find_by_id(delivery.id)
            .one(&self.db)
            .await?
            .and_then(|d| d.account_link_id))
    }

    /// Puts the row back in the queue with exponential backoff, or fails it for good
    /// after the last attempt.
    async fn retry_later(
        &self,
        delivery: &email_delivery::Model,
        client: &client::Model,
        reason: String,
    ) -> Result<Outcome, DbErr> {
        if delivery.attempts >= self.config.max_attempts {
            let reason = format!("gave up after {} attempts: {reason}", delivery.attempts);
            return self.fail(delivery, client, reason).await;
        }
        let now = self.clock.now();
        let at = now + backoff(self.config.retry_base, delivery.attempts);
        tracing::warn!(reason = %reason, attempts = delivery.attempts, retry_at = %at, "email will be retried");
        email_delivery::Entity::update_many()
            .col_expr(email_delivery::Column::Status, Expr::value(status::QUEUED))
            .col_expr(email_delivery::Column::LastError, Expr::value(reason))
            .col_expr(email_delivery::Column::NextAttemptAt, Expr::value(at))
            .col_expr(
                email_delivery::Column::ClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(email_delivery::Column::Id.eq(delivery.id))
            .filter(email_delivery::Column::Status.eq(status::SENDING))
            .exec(&self.db)
            .await?;
        Ok(Outcome::Retrying { at })
    }
}

/// Delay before attempt `attempts + 1`: base, 2×base, 4×base, … at most ten minutes.
pub fn backoff(base: Duration, attempts: i32) -> chrono::Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).clamp(0, 16) as u32);
    let delay = base.saturating_mul(factor).min(Duration::from_secs(600));
    chrono::Duration::from_std(delay).unwrap_or_default()
}

/// Revokes every live link of the client, giving `reason`.
pub async fn revoke_live_links(
    conn: &impl sea_orm::ConnectionTrait,
    client_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = account_link::Entity::update_many()
        .col_expr(account_link::Column::RevokedAt, Expr::value(now))
        .col_expr(account_link::Column::RevokedReason, Expr::value(reason))
        .filter(account_link::Column::ClientId.eq(client_id))
        .filter(account_link::Column::UsedAt.is_null())
        .filter(account_link::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

async fn set_status(
    conn: &impl sea_orm::ConnectionTrait,
    id: Uuid,
    to: &str,
    error: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut update = email_delivery::Entity::update_many()
        .col_expr(email_delivery::Column::Status, Expr::value(to))
        .col_expr(
            email_delivery::Column::ClaimedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now));
    if to == status::SENT {
        update = update.col_expr(email_delivery::Column::SentAt, Expr::value(now));
    }
    if let Some(error) = error {
        update = update.col_expr(email_delivery::Column::LastError, Expr::value(error));
    }
    update
        .filter(email_delivery::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(2);
        let secs: Vec<i64> = (1..=12).map(|a| backoff(base, a).num_seconds()).collect();
        assert_eq!(&secs[..5], &[2, 4, 8, 16, 32]);
        assert_eq!(secs[11], 600);
    }
}
