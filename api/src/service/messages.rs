//! R9: messages from the practice. The body stays in the database; the email only
//! says that a message is waiting, with a link to sign in.
use crate::domain::InvalidInput;
use crate::error::AppError;
use crate::service::sessions::ProviderActor;
use crate::state::AppState;
use access::audit::{self, Actor, AuditAction, AuditEntry};
use access::outbox::{self, Outgoing};
use entity::email_delivery::EmailKind;
use entity::{client, email_delivery, message};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

/// Longest message body accepted.
pub const MAX_BODY_CHARS: usize = 10_000;

/// A sent message and its notification (none when the client has no email).
pub struct Sent {
    pub message: message::Model,
    pub notification: Option<email_delivery::Model>,
}

/// Stores the message and queues the content-free notification.
pub async fn send(
    state: &AppState,
    actor: &ProviderActor,
    client: &client::Model,
    body: &str,
    ip: Option<String>,
) -> Result<Sent, AppError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_BODY_CHARS {
        return Err(InvalidInput::new(
            "body",
            format!("A message of 1 to {MAX_BODY_CHARS} characters is required."),
        )
        .into());
    }
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let message = message::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client.id),
        provider_id: Set(Some(actor.provider_id)),
        body: Set(body.to_owned()),
        created_at: Set(now),
        read_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let notification = match &client.email {
        Some(to) => {
            let email = Outgoing::plain(EmailKind::MessageNotification, to.clone());
            Some(outbox::enqueue(&txn, client.id, email, client.link_generation, now).await?)
        }
        None => None,
    };
    let entry = AuditEntry {
        organization_id: actor.organization_id,
        actor: Actor::Provider(actor.provider_id),
        action: AuditAction::MessageSent,
        client_id: Some(client.id),
        // Never the body, not even an excerpt.
        detail: Some(format!("{} characters", body.chars().count())),
        ip,
    };
    audit::record(&txn, entry).await?;
    txn.commit().await?;
    if let Some(n) = &notification {
        state.push_deliveries([n.id]).await;
    }
    Ok(Sent {
        message,
        notification,
    })
}

/// The client's messages, newest first.
pub async fn for_client(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    limit: u64,
) -> Result<Vec<message::Model>, AppError> {
    Ok(message::Entity::find()
        .filter(message::Column::ClientId.eq(client_id))
        .order_by_desc(message::Column::CreatedAt)
        .order_by_desc(message::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}
