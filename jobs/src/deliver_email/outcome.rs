//! Recording how a delivery ended: sent, failed (with the reason) or queued again
//! with exponential backoff.
use super::{Deliverer, Outcome};
use crate::audit::{self, Actor, AuditEntry};
use chrono::{DateTime, Utc};
use entity::email_delivery::status;
use entity::{account_link, client, email_delivery};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait};
use std::time::Duration;
use uuid::Uuid;

impl Deliverer {
    pub(super) async fn finish(
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
    pub(super) async fn fail(
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
    pub(super) async fn retry_later(
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

pub(super) async fn set_status(
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
