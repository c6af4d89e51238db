//! The outbox: one row per email, written in the transaction of the change that
//! causes it, then driven to `sent` or `failed` by the worker.
use crate::account_link::LinkKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_delivery")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub kind: EmailKind,
    pub to_address: String,
    /// The link this email must carry, if any.
    pub link_kind: Option<LinkKind>,
    /// The client's `link_generation` when queued; a link is sent only while it matches.
    pub link_generation: i64,
    /// The link minted for this email at send time.
    pub account_link_id: Option<Uuid>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// When the next attempt may start (backoff after a transient failure).
    pub next_attempt_at: DateTimeUtc,
    /// While `sending`: the worker's lease; past it, another worker may take over.
    pub claimed_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// The resend cap this link email counted against (R5), if any: the durable
    /// record a lost window is rebuilt from.
    pub counted_in: Option<Cap>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What an email is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum EmailKind {
    /// The invite: a link to set up the account (R1, R2).
    #[sea_orm(string_value = "welcome")]
    Welcome,
    /// A link to choose a new password (R2 for active clients, self-service reset).
    #[sea_orm(string_value = "password_reset")]
    PasswordReset,
    /// Tells the old address that the email was changed (R6); no link.
    #[sea_orm(string_value = "email_changed_notice")]
    EmailChangedNotice,
    /// A message waits in the portal (R9); never its content.
    #[sea_orm(string_value = "message_notification")]
    MessageNotification,
    /// Intake forms are still to complete (R8).
    #[sea_orm(string_value = "intake_reminder")]
    IntakeReminder,
}

impl EmailKind {
    /// The stored name, for logs and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::PasswordReset => "password_reset",
            Self::EmailChangedNotice => "email_changed_notice",
            Self::MessageNotification => "message_notification",
            Self::IntakeReminder => "intake_reminder",
        }
    }
}

impl std::fmt::Display for EmailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an email stands in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DeliveryStatus {
    #[sea_orm(string_value = "queued")]
    Queued,
    /// A worker holds it (`claimed_until`) and is handing it to the mail server.
    #[sea_orm(string_value = "sending")]
    Sending,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Not sent: a newer change made it stale (R4).
    #[sea_orm(string_value = "superseded")]
    Superseded,
}

impl DeliveryStatus {
    /// The status as a constant in the statement's text, not a bound parameter: for
    /// filters that must meet the partial index on queued link emails (`… WHERE
    /// status = 'queued'`). Bound, it left PostgreSQL's generic plan unable to tell
    /// that the index applies: it read every email the client was ever sent instead
    /// (0.25 ms a resend, four times the same statement with the constant).
    pub fn in_sql(self) -> sea_orm::sea_query::Expr {
        sea_orm::sea_query::Expr::Constant(self.to_value().into())
    }
}

/// The two resend caps (R5): what providers send, and what clients ask for
/// themselves; one never uses up the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Cap {
    /// `resendWelcomeEmail`, `updateClientEmail` with `resendInvite`.
    #[sea_orm(string_value = "provider")]
    Provider,
    /// `requestPasswordReset`.
    #[sea_orm(string_value = "self_service")]
    SelfService,
}
