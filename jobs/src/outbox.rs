//! The outbox insert, shared by the API's mutations and the worker's own emails
//! (intake reminders): always inside the transaction of the change that causes it.
use chrono::{DateTime, Utc};
use entity::email_delivery::{self, status};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use uuid::Uuid;

/// An email to queue.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub kind: &'static str,
    pub to: String,
    pub link_kind: Option<&'static str>,
}

/// Inserts a queued delivery; push its id after commit.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    email: Outgoing,
    generation: i64,
    now: DateTime<Utc>,
) -> Result<email_delivery::Model, DbErr> {
    email_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id),
        kind: Set(email.kind.to_owned()),
        to_address: Set(email.to),
        link_kind: Set(email.link_kind.map(str::to_owned)),
        link_generation: Set(generation),
        account_link_id: Set(None),
        status: Set(status::QUEUED.to_owned()),
        attempts: Set(0),
        last_error: Set(None),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
    }
    .insert(conn)
    .await
}
