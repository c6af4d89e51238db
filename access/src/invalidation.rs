//! R4 in one place: "generating any new link for a client invalidates every earlier
//! link of that client; a link works once; setting a password by any route
//! invalidates all open links".
//!
//! Two halves of one mechanism, both keyed on the client's `link_generation`:
//! - [`invalidate`]: every change that makes earlier links stale (a new link, a new
//!   address, a password set by any route) calls it first in its transaction. It
//!   bumps the generation (locking the client row: one lock order everywhere, so
//!   no deadlocks), revokes the live links, and supersedes queued link emails.
//! - [`mint_allowed`]: the worker calls it before minting a link at send time. It
//!   locks the same row and lets the delivery mint only while its generation is
//!   current. That catches the one case [`invalidate`] cannot: a link email that a
//!   worker was already sending (not `queued`) when the change happened.
use chrono::{DateTime, Utc};
use entity::account_link::{self, RevokedReason};
use entity::client;
use entity::email_delivery::{self as delivery, DeliveryStatus};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use std::collections::HashSet;
use uuid::Uuid;

/// Why earlier links stop working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A new link email is being queued.
    NewLink,
    /// The client's address changed (R6).
    EmailChanged,
    /// A provider or the client set a password without a link.
    PasswordSet,
    /// The client sets a password through this link: it is used up (exactly once,
    /// even under concurrent uses) and every other link ends.
    LinkUsed(Uuid),
}

/// What [`invalidate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidated {
    /// Done; emails queued from now on carry this generation.
    Current { generation: i64 },
    /// No such client; nothing was changed.
    ClientGone,
    /// [`Cause::LinkUsed`] named a link that is no longer live (used, revoked or
    /// expired, possibly a moment ago by a concurrent request); roll back.
    LinkNotLive,
}

impl Invalidated {
    /// The new generation, when the invalidation went through.
    pub fn generation(self) -> Option<i64> {
        match self {
            Self::Current { generation } => Some(generation),
            Self::ClientGone | Self::LinkNotLive => None,
        }
    }
}

/// Makes every earlier link of the client stop working, in the caller's transaction.
pub async fn invalidate(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    cause: Cause,
    now: DateTime<Utc>,
) -> Result<Invalidated, DbErr> {
    let Some(client) = bump_generation(conn, client_id, None, now).await? else {
        return Ok(Invalidated::ClientGone);
    };
    end_earlier_links(conn, &client, cause, now).await
}

/// [`invalidate`] for a new link or address of a client of `organization_id`: the
/// client's row as it stands after the bump (locked until the transaction ends), or
/// `None`, changing nothing, when the practice has no such client. One statement
/// reads, checks, locks and bumps the row.
pub async fn invalidate_owned(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    client_id: Uuid,
    cause: Cause,
    now: DateTime<Utc>,
) -> Result<Option<client::Model>, DbErr> {
    debug_assert!(
        !matches!(cause, Cause::LinkUsed(_)),
        "a link use has its client"
    );
    let Some(client) = bump_generation(conn, client_id, Some(organization_id), now).await? else {
        return Ok(None);
    };
    end_earlier_links(conn, &client, cause, now).await?;
    Ok(Some(client))
}

/// The rest of [`invalidate`], once the generation is bumped.
async fn end_earlier_links(
    conn: &impl ConnectionTrait,
    client: &client::Model,
    cause: Cause,
    now: DateTime<Utc>,
) -> Result<Invalidated, DbErr> {
    let client_id = client.id;
    let reason = match cause {
        Cause::NewLink => RevokedReason::Superseded,
        Cause::EmailChanged => RevokedReason::EmailChanged,
        Cause::PasswordSet | Cause::LinkUsed(_) => RevokedReason::PasswordSet,
    };
    if let Cause::LinkUsed(link_id) = cause
        && !consume(conn, client_id, link_id, now).await?
    {
        return Ok(Invalidated::LinkNotLive);
    }
    revoke_live_links(conn, client_id, reason, None, now).await?;
    delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(DeliveryStatus::Superseded),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::ClientId.eq(client_id))
        .filter(delivery::Column::LinkKind.is_not_null())
        .filter(Expr::col(delivery::Column::Status).eq(DeliveryStatus::Queued.in_sql()))
        .exec(conn)
        .await?;
    Ok(Invalidated::Current {
        generation: client.link_generation,
    })
}

/// The worker's half: which of `deliveries` may mint their links now (their ids).
/// Their clients are locked until the caller's transaction ends, so no change can
/// slip in between this check and the new links. One statement for the whole batch.
/// On PostgreSQL the locks are shared (batches never wait for each other; a change
/// waits for them); a no-op update wrote a new version of every client row and its
/// index entries instead, which cost the worker 15% of its emails per second.
pub async fn mint_allowed(
    conn: &impl ConnectionTrait,
    deliveries: &[&delivery::Model],
) -> Result<HashSet<Uuid>, DbErr> {
    if deliveries.is_empty() {
        return Ok(HashSet::new());
    }
    // By id alone, the generations compared below: a list of `(id, generation)`
    // pairs was an `OR` of conditions that cost more than the locks themselves.
    let clients: Vec<Uuid> = deliveries.iter().map(|d| d.client_id).collect();
    let backend = conn.get_database_backend();
    let current = crate::batch::one_of(client::Column::Id, &clients, backend);
    let locked: HashSet<(Uuid, i64)> = match backend {
        // A share lock: a change's `UPDATE` waits for it, and one that committed
        // first is seen (the lock returns the row's newest version). No new row
        // version, so no index entries and less to vacuum.
        DbBackend::Postgres => client::Entity::find()
            .select_only()
            .columns([client::Column::Id, client::Column::LinkGeneration])
            .filter(current)
            .lock(LockType::Share)
            .into_tuple::<(Uuid, i64)>()
            .all(conn)
            .await?
            .into_iter()
            .collect(),
        // SQLite has no row locks: a no-op update makes this the writing transaction
        // now, so no change can commit between the check and the new links.
        _ => client::Entity::update_many()
            .col_expr(
                client::Column::LinkGeneration,
                Expr::col(client::Column::LinkGeneration),
            )
            .filter(current)
            .exec_with_returning(conn)
            .await?
            .into_iter()
            .map(|c| (c.id, c.link_generation))
            .collect(),
    };
    Ok(deliveries
        .iter()
        .filter(|d| locked.contains(&(d.client_id, d.link_generation)))
        .map(|d| d.id)
        .collect())
}

/// Revokes the client's live links, giving `reason`; with `only_of`, just the links
/// minted for that delivery (a delivery given up takes back what it minted).
pub async fn revoke_live_links(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    reason: RevokedReason,
    only_of: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut update = account_link::Entity::update_many()
        .col_expr(account_link::Column::RevokedAt, Expr::value(now))
        .col_expr(account_link::Column::RevokedReason, Expr::value(reason))
        .filter(account_link::Column::ClientId.eq(client_id))
        .filter(account_link::Column::UsedAt.is_null())
        .filter(account_link::Column::RevokedAt.is_null());
    if let Some(delivery_id) = only_of {
        update = update.filter(account_link::Column::DeliveryId.eq(delivery_id));
    }
    Ok(update.exec(conn).await?.rows_affected)
}

/// Starts a new link generation: the first write of the transaction, which locks
/// the client row, and answers the row as it now stands (`UPDATE … RETURNING`).
/// `None` if the client no longer exists (or is not `organization_id`'s).
async fn bump_generation(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    organization_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<client::Model>, DbErr> {
    let mut bump = client::Entity::update_many()
        .col_expr(
            client::Column::LinkGeneration,
            Expr::col(client::Column::LinkGeneration).add(1),
        )
        .col_expr(client::Column::UpdatedAt, Expr::value(now))
        .filter(client::Column::Id.eq(client_id));
    if let Some(organization_id) = organization_id {
        bump = bump.filter(client::Column::OrganizationId.eq(organization_id));
    }
    Ok(bump.exec_with_returning(conn).await?.pop())
}

/// The single conditional update that lets exactly one use of a link through.
async fn consume(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    link_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let unexpired = Condition::any()
        .add(account_link::Column::ExpiresAt.is_null())
        .add(account_link::Column::ExpiresAt.gt(now));
    let used = account_link::Entity::update_many()
        .col_expr(account_link::Column::UsedAt, Expr::value(now))
        .filter(account_link::Column::Id.eq(link_id))
        .filter(account_link::Column::ClientId.eq(client_id))
        .filter(account_link::Column::UsedAt.is_null())
        .filter(account_link::Column::RevokedAt.is_null())
        .filter(unexpired)
        .exec(conn)
        .await?;
    Ok(used.rows_affected == 1)
}

#[cfg(test)]
mod tests;
