//! Append-only record of who did what; written in the same transaction as the act.
//! Shared by the API and the worker (delivery failures, reminders).
use chrono::Utc;
use entity::audit_event::{self, ActorKind};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use uuid::Uuid;

pub use entity::audit_event::AuditAction;

/// Who acted.
#[derive(Debug, Clone, Copy)]
pub enum Actor {
    Provider(Uuid),
    Client(Uuid),
    System,
}

impl Actor {
    /// How the trail stores the actor: its kind and id (none for the system).
    pub fn parts(self) -> (ActorKind, Option<Uuid>) {
        match self {
            Self::Provider(id) => (ActorKind::Provider, Some(id)),
            Self::Client(id) => (ActorKind::Client, Some(id)),
            Self::System => (ActorKind::System, None),
        }
    }
}

/// One event to record; `detail` must never carry a secret or health information.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub organization_id: Uuid,
    pub actor: Actor,
    pub action: AuditAction,
    pub client_id: Option<Uuid>,
    pub detail: Option<String>,
    pub ip: Option<String>,
}

/// Inserts the event on `conn` (a transaction or the pool). Dated by the system
/// clock: the trail records when things really happened, whatever a test clock says.
pub async fn record(conn: &impl ConnectionTrait, entry: AuditEntry) -> Result<(), DbErr> {
    let (actor_kind, actor_id) = entry.actor.parts();
    audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(entry.organization_id),
        actor_kind: Set(actor_kind),
        actor_id: Set(actor_id),
        action: Set(entry.action),
        client_id: Set(entry.client_id),
        detail: Set(entry.detail),
        ip: Set(entry.ip),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}
