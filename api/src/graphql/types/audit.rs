//! The audit trail as providers read it.
use super::datetime::DateTime;
use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{ID, Object};
use entity::audit_event;

/// Something someone did to a client's access.
pub struct AuditEvent(pub audit_event::Model);

/// Something someone did to a client's access: the audit trail.
#[Object]
impl AuditEvent {
    /// The event's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// `provider`, `client` or `system`.
    async fn actor_kind(&self) -> &'static str {
        self.0.actor_kind.as_str()
    }
    /// The provider's or client's ID; null for the system.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| ID(id.to_string()))
    }
    /// e.g. `email.invite_sent`, `link.used`, `client.email_changed`.
    async fn action(&self) -> &'static str {
        self.0.action.as_str()
    }
    /// The client concerned, if any.
    async fn client_id(&self) -> Option<ID> {
        self.0.client_id.map(|id| ID(id.to_string()))
    }
    /// A short detail without secrets or health information.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    /// The address the request came from, if known.
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    /// When it happened.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// A page of audit events, newest first.
pub type AuditEventConnection = Connection<String, AuditEvent, EmptyFields, EmptyFields>;
