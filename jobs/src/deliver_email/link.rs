//! Minting a link at send time, so its token exists only in the worker's memory.
use super::Deliverer;
use crate::token::LinkToken;
use chrono::{DateTime, Utc};
use entity::email_delivery::status;
use entity::{account_link, client, email_delivery};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

impl Deliverer {
    /// Mints the link, unless the client changed since the email was queued (then the
    /// delivery is marked superseded). Locks the client row first, as every mutation
    /// that bumps `link_generation` does, so a link is never minted after a newer one.
    pub(super) async fn mint_link(
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
            super::outcome::set_status(&txn, delivery.id, status::SUPERSEDED, None, now).await?;
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

    pub(super) fn link_url(&self, token: &LinkToken) -> String {
        format!(
            "{}/account/setup?token={}",
            self.config.public_url,
            token.expose()
        )
    }
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
