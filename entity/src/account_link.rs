//! A one-time link that lets a client set a password (invite or password reset).
//! Only the SHA-256 of the token is stored; the token lives only in the email.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_link")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    /// `invite` or `password_reset`.
    pub kind: String,
    /// Hex SHA-256 of the 256-bit token.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub sent_to_email: String,
    pub created_at: DateTimeUtc,
    /// `None` for invites: they last until used or superseded.
    pub expires_at: Option<DateTimeUtc>,
    pub used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    /// `superseded`, `password_set`, `email_changed` or `delivery_failed`.
    pub revoked_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The two kinds of link.
pub mod kind {
    pub const INVITE: &str = "invite";
    pub const PASSWORD_RESET: &str = "password_reset";
}

/// Why a link stopped working before it was used.
pub mod revoked {
    pub const SUPERSEDED: &str = "superseded";
    pub const PASSWORD_SET: &str = "password_set";
    pub const EMAIL_CHANGED: &str = "email_changed";
    pub const DELIVERY_FAILED: &str = "delivery_failed";
}
