//! Writing emails into the outbox, always inside the transaction of the change that
//! causes them. Every write path here locks the client row first (bumping its
//! `link_generation`), then touches links: one lock order, no deadlocks, and the
//! worker, which locks the same row to mint, never mints a link after a newer change.
use chrono::{DateTime, Utc};
use entity::email_delivery::{kind, status};
use entity::{account_link, client, email_delivery};
use jobs::deliver_email::revoke_live_links;
pub use jobs::outbox::{Outgoing, enqueue};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// The link email a client gets now: an invite until they have a password, a
/// password reset after.
pub fn link_email(client: &client::Model, to: &str) -> Outgoing {
    match client.password_hash {
        None => Outgoing {
            kind: kind::WELCOME,
            to: to.to_owned(),
            link_kind: Some(account_link::kind::INVITE),
        },
        Some(_) => Outgoing {
            kind: kind::PASSWORD_RESET,
            to: to.to_owned(),
            link_kind: Some(account_link::kind::PASSWORD_RESET),
        },
    }
}

/// Starts a new link generation for the client: the first write of the transaction.
/// Returns the new generation, or `None` if the client no longer exists.
pub async fn bump_generation(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let bumped = client::Entity::update_many()
        .col_expr(
            client::Column::LinkGeneration,
            Expr::col(client::Column::LinkGeneration).add(1),
        )
        .col_expr(client::Column::UpdatedAt, Expr::value(now))
        .filter(client::Column::Id.eq(client_id))
        .exec(conn)
        .await?;
    if bumped.rows_affected == 0 {
        return Ok(None);
    }
    Ok(client::Entity::find_by_id(client_id)
        .one(conn)
        .await?
        .map(|c| c.link_generation))
}

/// R4: every live link of the client stops working now, and link emails still
/// waiting in the outbox will not be sent.
pub async fn retire_links(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    revoke_live_links(conn, client_id, reason, now).await?;
    email_delivery::Entity::update_many()
        .col_expr(
            email_delivery::Column::Status,
            Expr::value(status::SUPERSEDED),
        )
        .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(email_delivery::Column::ClientId.eq(client_id))
        .filter(email_delivery::Column::LinkKind.is_not_null())
        .filter(email_delivery::Column::Status.eq(status::QUEUED))
        .exec(conn)
        .await?;
    Ok(())
}

/// "j***@gmail.com": enough for a provider to recognise an address in the audit
/// trail, not enough to read it.
pub fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}
