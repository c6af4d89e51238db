//! A one-time link that lets a client set a password (invite or password reset).
//! Only the SHA-256 of the token is stored; the token lives only in the email.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_link")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub kind: LinkKind,
    /// Hex SHA-256 of the 256-bit token.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub sent_to_email: String,
    pub created_at: DateTimeUtc,
    /// `None` for invites: they last until used or superseded.
    pub expires_at: Option<DateTimeUtc>,
    pub used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_reason: Option<RevokedReason>,
    /// The email this link was minted for. A retry of that email mints a sibling
    /// and leaves the earlier one working: it may already be in an inbox.
    pub delivery_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The two kinds of link (R3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum LinkKind {
    /// Sets up a new account; no expiry.
    #[sea_orm(string_value = "invite")]
    Invite,
    /// Chooses a new password; expires after the reset TTL.
    #[sea_orm(string_value = "password_reset")]
    PasswordReset,
}

impl LinkKind {
    /// The stored name, for logs and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::PasswordReset => "password_reset",
        }
    }
}

/// Why a link stopped working before it was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum RevokedReason {
    /// A newer link was generated (R4).
    #[sea_orm(string_value = "superseded")]
    Superseded,
    /// A password was set by any route (R4).
    #[sea_orm(string_value = "password_set")]
    PasswordSet,
    /// The client's address changed (R6).
    #[sea_orm(string_value = "email_changed")]
    EmailChanged,
    /// The email carrying it was given up; nobody received it.
    #[sea_orm(string_value = "delivery_failed")]
    DeliveryFailed,
}
