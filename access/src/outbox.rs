//! The outbox insert, shared by the API's mutations and the worker's own emails
//! (intake reminders): always inside the transaction of the change that causes it.
use crate::audit::AuditAction;
use chrono::{DateTime, Utc};
use entity::account_link::LinkKind;
use entity::client;
use entity::email_delivery::{self, Cap, DeliveryStatus, EmailKind};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use uuid::Uuid;

/// An email to queue.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub kind: EmailKind,
    pub to: String,
    pub link_kind: Option<LinkKind>,
    /// The resend cap it counts against, if any (R5).
    pub counted_in: Option<Cap>,
}

impl Outgoing {
    /// An email that carries no link.
    pub fn plain(kind: EmailKind, to: impl Into<String>) -> Self {
        Self {
            kind,
            to: to.into(),
            link_kind: None,
            counted_in: None,
        }
    }

    /// The link email a client gets now: an invite until they have a password, a
    /// password reset after (R2).
    pub fn link_for(client: &client::Model, to: impl Into<String>) -> Self {
        Self::link(client.password_hash.is_some(), to)
    }

    /// The link email for a client who has a password or not.
    pub fn link(has_password: bool, to: impl Into<String>) -> Self {
        let (kind, link_kind) = match has_password {
            false => (EmailKind::Welcome, LinkKind::Invite),
            true => (EmailKind::PasswordReset, LinkKind::PasswordReset),
        };
        Self {
            kind,
            to: to.into(),
            link_kind: Some(link_kind),
            counted_in: None,
        }
    }

    /// The same email, recorded as counted against `cap`.
    pub fn counted_in(self, cap: Cap) -> Self {
        Self {
            counted_in: Some(cap),
            ..self
        }
    }

    /// How the audit trail names sending this email again (a resend).
    pub fn resent_action(&self) -> AuditAction {
        match self.link_kind {
            Some(LinkKind::Invite) => AuditAction::InviteResent,
            _ => AuditAction::PasswordResetSent,
        }
    }
}

/// Inserts a queued delivery under the client's current link `generation`; push
/// its id after commit.
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
        kind: Set(email.kind),
        to_address: Set(email.to),
        link_kind: Set(email.link_kind),
        link_generation: Set(generation),
        account_link_id: Set(None),
        status: Set(DeliveryStatus::Queued),
        attempts: Set(0),
        last_error: Set(None),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
        counted_in: Set(email.counted_in),
    }
    .insert(conn)
    .await
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
