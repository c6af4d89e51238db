//! Emails, links and the resend quota as providers see them (R11).
use super::datetime::DateTime;
use crate::service::resend_cap::Quota;
use async_graphql::{Enum, ID, Object, SimpleObject};
use entity::email_delivery::DeliveryStatus as Stored;
use entity::{account_link, email_delivery};

/// What an email was for.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum EmailKind {
    /// The invite to set up the account, with a link.
    Welcome,
    /// A link to choose a new password.
    PasswordReset,
    /// To the old address: the email address was changed.
    EmailChangedNotice,
    /// A new message waits in the portal (never its content).
    MessageNotification,
    /// Intake forms are still to be completed.
    IntakeReminder,
}

/// Where an email stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DeliveryStatus {
    /// Waiting for a worker (or for the next retry).
    Queued,
    /// A worker is handing it to the mail server.
    Sending,
    /// The mail server accepted it.
    Sent,
    /// Given up; `lastError` says why.
    Failed,
    /// Not sent: a newer link email or an email change replaced it.
    Superseded,
}

impl From<email_delivery::EmailKind> for EmailKind {
    fn from(kind: email_delivery::EmailKind) -> Self {
        use email_delivery::EmailKind as Stored;
        match kind {
            Stored::Welcome => Self::Welcome,
            Stored::PasswordReset => Self::PasswordReset,
            Stored::EmailChangedNotice => Self::EmailChangedNotice,
            Stored::MessageNotification => Self::MessageNotification,
            Stored::IntakeReminder => Self::IntakeReminder,
        }
    }
}

impl From<Stored> for DeliveryStatus {
    fn from(status: Stored) -> Self {
        match status {
            Stored::Queued => Self::Queued,
            Stored::Sending => Self::Sending,
            Stored::Sent => Self::Sent,
            Stored::Failed => Self::Failed,
            Stored::Superseded => Self::Superseded,
        }
    }
}

/// One email to a client.
pub struct EmailDelivery(pub email_delivery::Model);

/// One email to a client and where it stands.
#[Object]
impl EmailDelivery {
    /// The email's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What the email is for.
    async fn kind(&self) -> EmailKind {
        self.0.kind.into()
    }
    /// The address it goes to.
    async fn to_address(&self) -> &str {
        &self.0.to_address
    }
    /// Where the email stands.
    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }
    /// Hand-over attempts so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Why the last attempt failed (the mail server's answer).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the email was queued.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// When the mail server accepted it; null until then.
    async fn sent_at(&self) -> Option<DateTime> {
        self.0.sent_at.map(DateTime)
    }
    /// When a queued email will be tried (again).
    async fn next_attempt_at(&self) -> Option<DateTime> {
        (self.0.status == Stored::Queued).then_some(self.0.next_attempt_at.into())
    }
}

/// The two kinds of account link.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum LinkKind {
    /// Sets up a new account; valid until used or replaced.
    Invite,
    /// Chooses a new password; expires after `RESET_LINK_TTL_SECS`.
    PasswordReset,
}

impl From<account_link::LinkKind> for LinkKind {
    fn from(kind: account_link::LinkKind) -> Self {
        match kind {
            account_link::LinkKind::Invite => Self::Invite,
            account_link::LinkKind::PasswordReset => Self::PasswordReset,
        }
    }
}

/// The link that currently works (never the token itself).
#[derive(SimpleObject)]
pub struct ActiveLink {
    /// Invite or password reset.
    pub kind: LinkKind,
    /// When the link was generated.
    pub created_at: DateTime,
    /// When a password-reset link stops working; null for invites.
    pub expires_at: Option<DateTime>,
}

impl From<account_link::Model> for ActiveLink {
    fn from(l: account_link::Model) -> Self {
        Self {
            kind: l.kind.into(),
            created_at: l.created_at.into(),
            expires_at: l.expires_at.map(DateTime),
        }
    }
}

/// R5: how many more link emails this client may be sent now.
#[derive(SimpleObject)]
pub struct ResendQuota {
    /// Link emails allowed per window.
    pub limit: u32,
    /// Link emails left in the current window.
    pub remaining: u32,
    /// The length of the sliding window, in seconds.
    pub window_seconds: u64,
    /// Now while `remaining > 0`; otherwise when the oldest counted email leaves the window.
    pub next_available_at: DateTime,
}

impl From<Quota> for ResendQuota {
    fn from(q: Quota) -> Self {
        Self {
            limit: q.limit,
            remaining: q.remaining,
            window_seconds: q.window.as_secs(),
            next_available_at: q.next_available_at.into(),
        }
    }
}
