//! The outbox: one row per email, written in the transaction of the change that
//! causes it, then driven to `sent` or `failed` by the worker.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_delivery")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    /// `welcome`, `password_reset`, `email_changed_notice`, ...
    pub kind: String,
    pub to_address: String,
    /// The link kind this email must carry (`invite`, `password_reset`), if any.
    pub link_kind: Option<String>,
    /// The client's `link_generation` when queued; a link is sent only while it matches.
    pub link_generation: i64,
    /// The link minted for this email at send time.
    pub account_link_id: Option<Uuid>,
    /// `queued`, `sending`, `sent`, `failed` or `superseded`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    /// When the next attempt may start (backoff after a transient failure).
    pub next_attempt_at: DateTimeUtc,
    /// While `sending`: the worker's lease; past it, another worker may take over.
    pub claimed_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Email kinds.
pub mod kind {
    pub const WELCOME: &str = "welcome";
    pub const PASSWORD_RESET: &str = "password_reset";
    pub const EMAIL_CHANGED_NOTICE: &str = "email_changed_notice";
    pub const MESSAGE_NOTIFICATION: &str = "message_notification";
    pub const INTAKE_REMINDER: &str = "intake_reminder";
}

/// Delivery states.
pub mod status {
    pub const QUEUED: &str = "queued";
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";
    pub const SUPERSEDED: &str = "superseded";
}
