//! Minting links at send time, so their tokens exist only in the worker's memory.
use super::Deliverer;
use super::lease::ClaimStart;
use access::batch::one_of;
use access::invalidation;
use access::token::LinkToken;
use chrono::{DateTime, Utc};
use entity::account_link::{self, LinkKind};
use entity::email_delivery::{self, DeliveryStatus};
use sea_orm::sea_query::{Expr, ExprTrait, LockType};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Set, Statement, TransactionTrait, Value,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// What minting came to, for one delivery.
pub(super) enum Minted {
    /// The token and the link's id.
    Link(LinkToken, Uuid),
    /// A newer change made the email stale; the delivery is marked superseded.
    Superseded,
    /// Another worker took the claim over (this one's lease ran out): nothing minted.
    ClaimLost,
}

impl Deliverer {
    /// Mints the links of the link emails among `deliveries` (claimed at `start`) in
    /// one transaction, unless their client changed since they were queued (then
    /// they are marked superseded; see [`invalidation::mint_allowed`]).
    ///
    /// Nothing earlier is revoked here: every change that needs a new link already
    /// revoked the old ones, so the only live links left are those an earlier
    /// attempt of this same email minted, and that attempt may have reached the
    /// inbox. The retry mints a sibling; both work until one is used or a newer
    /// change ends them. A duplicate email never carries a dead link.
    pub(super) async fn mint_links(
        &self,
        deliveries: &[&email_delivery::Model],
        start: ClaimStart,
    ) -> Result<HashMap<Uuid, Minted>, DbErr> {
        let wanting: Vec<&email_delivery::Model> = deliveries
            .iter()
            .copied()
            .filter(|d| d.link_kind.is_some())
            .collect();
        let mut minted = HashMap::with_capacity(wanting.len());
        if wanting.is_empty() {
            return Ok(minted);
        }
        let now = self.clock.now();
        let txn = self.db.begin().await?;
        let allowed = invalidation::mint_allowed(&txn, &wanting).await?;
        let (mintable, stale): (Vec<_>, Vec<_>) =
            wanting.into_iter().partition(|d| allowed.contains(&d.id));
        let stale: Vec<Uuid> = stale.iter().map(|d| d.id).collect();
        super::outcome::set_status_many(&txn, &stale, DeliveryStatus::Superseded, None, now)
            .await?;
        if !stale.is_empty() {
            tracing::info!(deliveries = ?stale, "superseded by a newer change");
        }
        minted.extend(stale.into_iter().map(|id| (id, Minted::Superseded)));
        if mintable.is_empty() {
            txn.commit().await?;
            return Ok(minted);
        }
        let ttl = chrono::Duration::from_std(self.config.reset_link_ttl).unwrap_or_default();
        let links: Vec<(Uuid, Uuid, LinkToken)> = mintable
            .iter()
            .map(|d| (d.id, Uuid::now_v7(), LinkToken::generate()))
            .collect();
        if txn.get_database_backend() == DbBackend::Postgres {
            insert_links_postgres(&txn, &mintable, &links, now, now + ttl).await?;
        } else {
            let rows = mintable.iter().zip(&links).map(|(d, (_, link_id, token))| {
                let kind = d.link_kind.unwrap_or(LinkKind::Invite);
                account_link::ActiveModel {
                    id: Set(*link_id),
                    client_id: Set(d.client_id),
                    kind: Set(kind),
                    token_hash: Set(token.hash()),
                    sent_to_email: Set(d.to_address.clone()),
                    created_at: Set(now),
                    expires_at: Set((kind == LinkKind::PasswordReset).then_some(now + ttl)),
                    used_at: Set(None),
                    revoked_at: Set(None),
                    revoked_reason: Set(None),
                    delivery_id: Set(Some(d.id)),
                }
            });
            account_link::Entity::insert_many(rows).exec(&txn).await?;
        }
        // Links only for the rows this worker still holds: surely all of them early
        // in the lease, else as the database says.
        let held = if self.surely_held(start) {
            mintable.iter().map(|d| d.id).collect()
        } else {
            self.lock_held(&txn, &mintable).await?
        };
        let lost: Vec<Uuid> = links
            .iter()
            .filter(|(delivery, ..)| !held.contains(delivery))
            .map(|(_, link, _)| *link)
            .collect();
        if !lost.is_empty() {
            // Taken over by another worker: its links never existed.
            account_link::Entity::delete_many()
                .filter(account_link::Column::Id.is_in(lost))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        for (delivery, link, token) in links {
            let outcome = if held.contains(&delivery) {
                Minted::Link(token, link)
            } else {
                Minted::ClaimLost
            };
            minted.insert(delivery, outcome);
        }
        Ok(minted)
    }

    /// The look before the hand-off (see `still_holding`): which of `rows` this
    /// worker still holds, locked until the transaction ends, so no other worker's
    /// claim slips in between. A lock, not a write: the row is written once more,
    /// when its outcome is recorded. The rows are found by id alone and their
    /// attempts compared here: a list of `(id, attempts)` pairs was an `OR` of
    /// conditions that cost the worker and PostgreSQL more than the lock itself.
    async fn lock_held(
        &self,
        txn: &impl ConnectionTrait,
        rows: &[&email_delivery::Model],
    ) -> Result<HashSet<Uuid>, DbErr> {
        let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
        let locked: HashSet<(Uuid, i32)> = email_delivery::Entity::find()
            .select_only()
            .columns([email_delivery::Column::Id, email_delivery::Column::Attempts])
            // The status as a constant: bound, PostgreSQL planned the statement
            // afresh for every batch (265 µs, half its time) instead of reusing
            // its generic plan.
            .filter(Expr::col(email_delivery::Column::Status).eq(DeliveryStatus::Sending.in_sql()))
            .filter(one_of(
                email_delivery::Column::Id,
                &ids,
                txn.get_database_backend(),
            ))
            .lock(LockType::NoKeyUpdate)
            .into_tuple::<(Uuid, i32)>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        Ok(rows
            .iter()
            .filter(|d| locked.contains(&(d.id, d.attempts)))
            .map(|d| d.id)
            .collect())
    }

    pub(super) fn link_url(&self, token: &LinkToken) -> String {
        format!(
            "{}/account/setup?token={}",
            self.config.public_url,
            token.expose()
        )
    }
}

/// The links of `mintable` (delivery, link id, token: `links`, in the same order) on
/// PostgreSQL: the columns as arrays, one shape whatever the batch's size. A
/// multi-row `VALUES` of eleven parameters a row cost the executor ~70% more per row
/// in batches of a few hundred (22.5 µs against 13.3). A password-reset link
/// expires at `expires`; the others do not expire.
async fn insert_links_postgres(
    txn: &impl ConnectionTrait,
    mintable: &[&email_delivery::Model],
    links: &[(Uuid, Uuid, LinkToken)],
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<(), DbErr> {
    const SQL: &str = "INSERT INTO account_link \
        (id, client_id, kind, token_hash, sent_to_email, created_at, expires_at, delivery_id) \
        SELECT id, client_id, kind, token_hash, sent_to_email, $1, \
        CASE WHEN kind = $2 THEN $3 END, delivery_id \
        FROM unnest($4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::uuid[]) \
        AS link (id, client_id, kind, token_hash, sent_to_email, delivery_id)";
    let kind = |d: &&email_delivery::Model| d.link_kind.unwrap_or(LinkKind::Invite).to_value();
    let values: [Value; 9] = [
        now.into(),
        LinkKind::PasswordReset.to_value().into(),
        expires.into(),
        links
            .iter()
            .map(|(_, id, _)| *id)
            .collect::<Vec<_>>()
            .into(),
        mintable
            .iter()
            .map(|d| d.client_id)
            .collect::<Vec<_>>()
            .into(),
        mintable.iter().map(kind).collect::<Vec<_>>().into(),
        links
            .iter()
            .map(|(.., t)| t.hash())
            .collect::<Vec<_>>()
            .into(),
        mintable
            .iter()
            .map(|d| d.to_address.clone())
            .collect::<Vec<_>>()
            .into(),
        mintable.iter().map(|d| d.id).collect::<Vec<_>>().into(),
    ];
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, SQL, values);
    txn.execute_raw(statement).await?;
    Ok(())
}
