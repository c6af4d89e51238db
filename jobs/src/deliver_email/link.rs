//! Minting a link at send time, so its token exists only in the worker's memory.
use super::Deliverer;
use access::invalidation;
use access::token::LinkToken;
use entity::account_link::{self, LinkKind};
use entity::email_delivery::{self, DeliveryStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

/// What minting came to.
pub(super) enum Minted {
    Link(LinkToken),
    /// A newer change made the email stale; the delivery is marked superseded.
    Superseded,
    /// Another worker took the claim over (this one's lease ran out): nothing minted.
    ClaimLost,
}

impl Deliverer {
    /// Mints the link, unless the client changed since the email was queued (then
    /// the delivery is marked superseded; see [`invalidation::mint_allowed`]).
    ///
    /// Nothing earlier is revoked here: every change that needs a new link already
    /// revoked the old ones, so the only live links left are those an earlier
    /// attempt of this same email minted, and that attempt may have reached the
    /// inbox. The retry mints a sibling; both work until one is used or a newer
    /// change ends them. A duplicate email never carries a dead link.
    pub(super) async fn mint_link(
        &self,
        delivery: &email_delivery::Model,
        kind: LinkKind,
    ) -> Result<Minted, DbErr> {
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        if !invalidation::mint_allowed(&txn, delivery).await? {
            super::outcome::set_status(&txn, delivery.id, DeliveryStatus::Superseded, None, now)
                .await?;
            txn.commit().await?;
            tracing::info!("delivery superseded by a newer change");
            return Ok(Minted::Superseded);
        }
        let token = LinkToken::generate();
        let ttl = chrono::Duration::from_std(self.config.reset_link_ttl).unwrap_or_default();
        let link_id = Uuid::now_v7();
        account_link::ActiveModel {
            id: Set(link_id),
            client_id: Set(delivery.client_id),
            kind: Set(kind),
            token_hash: Set(token.hash()),
            sent_to_email: Set(delivery.to_address.clone()),
            created_at: Set(now),
            expires_at: Set((kind == LinkKind::PasswordReset).then_some(now + ttl)),
            used_at: Set(None),
            revoked_at: Set(None),
            revoked_reason: Set(None),
            delivery_id: Set(Some(delivery.id)),
        }
        .insert(&txn)
        .await?;
        // Records the link on the delivery only while this worker still holds it,
        // extending the lease: the look before the hand-off (see `still_holding`).
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        let held = email_delivery::Entity::update_many()
            .col_expr(email_delivery::Column::AccountLinkId, Expr::value(link_id))
            .col_expr(
                email_delivery::Column::ClaimedUntil,
                Expr::value(now + lease),
            )
            .filter(email_delivery::Column::Id.eq(delivery.id))
            .filter(email_delivery::Column::Status.eq(DeliveryStatus::Sending))
            .filter(email_delivery::Column::Attempts.eq(delivery.attempts))
            .exec(&txn)
            .await?;
        if held.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(Minted::ClaimLost);
        }
        txn.commit().await?;
        Ok(Minted::Link(token))
    }

    pub(super) fn link_url(&self, token: &LinkToken) -> String {
        format!(
            "{}/account/setup?token={}",
            self.config.public_url,
            token.expose()
        )
    }
}
