//! Recording how a delivery ended: sent, failed (with the reason) or queued again
//! with exponential backoff.
use super::claim::Addressee;
use super::{Deliverer, Outcome};
use access::audit::{self, Actor, AuditAction, AuditEntry};
use access::batch::{one_of, padded};
use access::invalidation::revoke_live_links;
use chrono::{DateTime, Utc};
use entity::account_link::RevokedReason;
use entity::email_delivery;
use entity::email_delivery::DeliveryStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ColumnTrait, DbBackend, DbErr, EntityTrait, QueryFilter, Statement,
    TransactionTrait,
};
use std::time::Duration;
use uuid::Uuid;

impl Deliverer {
    /// Moves the rows of `ids` to `to` in one statement.
    pub(super) async fn set_status_many(
        &self,
        ids: &[Uuid],
        to: DeliveryStatus,
        error: Option<String>,
    ) -> Result<(), DbErr> {
        set_status_many(&self.db, ids, to, error, self.clock.now()).await
    }

    /// Gives up: records why, takes back the links nobody received, notes it in
    /// the trail.
    pub(super) async fn fail(
        &self,
        delivery: &email_delivery::Model,
        client: &Addressee,
        reason: String,
    ) -> Result<Outcome, DbErr> {
        tracing::warn!(delivery_id = %delivery.id, kind = %delivery.kind, reason = %reason, "email failed");
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let failed = DeliveryStatus::Failed;
        set_status_many(&txn, &[delivery.id], failed, Some(reason.clone()), now).await?;
        let takeback = RevokedReason::DeliveryFailed;
        revoke_live_links(&txn, client.id, takeback, Some(delivery.id), now).await?;
        let entry = AuditEntry {
            organization_id: client.organization_id,
            actor: Actor::System,
            action: AuditAction::DeliveryFailed,
            client_id: Some(client.id),
            detail: Some(format!(
                "{} email: {}",
                delivery.kind,
                truncate(&reason, MAX_REASON_IN_TRAIL)
            )),
            ip: None,
        };
        audit::record(&txn, entry).await?;
        txn.commit().await?;
        Ok(Outcome::Failed)
    }

    /// Puts the row back in the queue with exponential backoff, or fails it for good
    /// after the last attempt.
    pub(super) async fn retry_later(
        &self,
        delivery: &email_delivery::Model,
        client: &Addressee,
        reason: String,
    ) -> Result<Outcome, DbErr> {
        if delivery.attempts >= self.config.max_attempts {
            let reason = format!("gave up after {} attempts: {reason}", delivery.attempts);
            return self.fail(delivery, client, reason).await;
        }
        let now = self.clock.now();
        let at = now + backoff(self.config.retry_base, delivery.attempts);
        tracing::warn!(delivery_id = %delivery.id, reason = %reason, attempts = delivery.attempts, retry_at = %at, "email will be retried");
        email_delivery::Entity::update_many()
            .col_expr(
                email_delivery::Column::Status,
                Expr::value(DeliveryStatus::Queued),
            )
            .col_expr(email_delivery::Column::LastError, Expr::value(reason))
            .col_expr(email_delivery::Column::NextAttemptAt, Expr::value(at))
            .col_expr(
                email_delivery::Column::ClaimedUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(email_delivery::Column::Id.eq(delivery.id))
            .filter(email_delivery::Column::Status.eq(DeliveryStatus::Sending))
            .exec(&self.db)
            .await?;
        Ok(Outcome::Retrying { at })
    }
}

/// The longest retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// How much of a mail server's answer the audit trail keeps.
const MAX_REASON_IN_TRAIL: usize = 200;

/// Delay before attempt `attempts + 1`: base, 2×base, 4×base, … at most ten minutes.
pub fn backoff(base: Duration, attempts: i32) -> chrono::Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).clamp(0, 16) as u32);
    let delay = base.saturating_mul(factor).min(MAX_BACKOFF);
    chrono::Duration::from_std(delay).unwrap_or_default()
}

/// Moves the rows of `ids` to `to` (nothing when there are none).
pub(super) async fn set_status_many(
    conn: &impl sea_orm::ConnectionTrait,
    ids: &[Uuid],
    to: DeliveryStatus,
    error: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut update = email_delivery::Entity::update_many()
        .col_expr(email_delivery::Column::Status, Expr::value(to))
        .col_expr(
            email_delivery::Column::ClaimedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now));
    if to == DeliveryStatus::Sent {
        update = update.col_expr(email_delivery::Column::SentAt, Expr::value(now));
    }
    if let Some(error) = error {
        update = update.col_expr(email_delivery::Column::LastError, Expr::value(error));
    }
    update
        .filter(one_of(
            email_delivery::Column::Id,
            ids,
            conn.get_database_backend(),
        ))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records `sent` (delivery, the link it carried) as sent, in one statement.
pub(super) async fn set_sent(
    conn: &impl sea_orm::ConnectionTrait,
    sent: &[(Uuid, Option<Uuid>)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Some(first) = sent.first() else {
        return Ok(());
    };
    if conn.get_database_backend() == DbBackend::Postgres {
        return set_sent_postgres(conn, sent, now).await;
    }
    let links = padded(sent);
    let link_of = links.iter().skip(1).fold(
        Expr::case(email_delivery::Column::Id.eq(first.0), Expr::value(first.1)),
        |case, (delivery, link)| {
            case.case(email_delivery::Column::Id.eq(*delivery), Expr::value(*link))
        },
    );
    email_delivery::Entity::update_many()
        .col_expr(
            email_delivery::Column::Status,
            Expr::value(DeliveryStatus::Sent),
        )
        .col_expr(
            email_delivery::Column::AccountLinkId,
            link_of
                .finally(Expr::col(email_delivery::Column::AccountLinkId))
                .into(),
        )
        .col_expr(
            email_delivery::Column::ClaimedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(email_delivery::Column::SentAt, Expr::value(now))
        .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(email_delivery::Column::Id.is_in(links.iter().map(|(id, _)| *id)))
        .exec(conn)
        .await?;
    Ok(())
}

/// [`set_sent`] on PostgreSQL: the deliveries and their links as two arrays joined
/// by position, one shape whatever the batch's size; a `CASE` of a branch per row
/// costs every row more as batches grow. sea-query writes no `UPDATE … FROM`, hence
/// the text. The nil id stands for an email that carried no link (the row keeps its
/// own): an array of optional ids does not travel as a sea-query value.
async fn set_sent_postgres(
    conn: &impl sea_orm::ConnectionTrait,
    sent: &[(Uuid, Option<Uuid>)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    const SQL: &str = "UPDATE email_delivery SET status = $1, \
        account_link_id = coalesce(nullif(sent.link, $2), email_delivery.account_link_id), \
        claimed_until = NULL, sent_at = $3, updated_at = $3 \
        FROM unnest($4::uuid[], $5::uuid[]) AS sent (id, link) WHERE email_delivery.id = sent.id";
    let ids: Vec<Uuid> = sent.iter().map(|(id, _)| *id).collect();
    let links: Vec<Uuid> = sent.iter().map(|(_, l)| l.unwrap_or(Uuid::nil())).collect();
    let values: [sea_orm::Value; 5] = [
        DeliveryStatus::Sent.to_value().into(),
        Uuid::nil().into(),
        now.into(),
        ids.into(),
        links.into(),
    ];
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, SQL, values);
    conn.execute_raw(statement).await?;
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
