//! Who did what to a client's access; `detail` never holds a secret.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub actor_kind: ActorKind,
    pub actor_id: Option<Uuid>,
    pub action: AuditAction,
    pub client_id: Option<Uuid>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ActorKind {
    #[sea_orm(string_value = "provider")]
    Provider,
    #[sea_orm(string_value = "client")]
    Client,
    /// The service itself (the worker, or an anonymous request such as a reset).
    #[sea_orm(string_value = "system")]
    System,
}

impl ActorKind {
    /// The stored name, as the audit trail shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Client => "client",
            Self::System => "system",
        }
    }
}

/// Declares [`AuditAction`] and its stored names once.
macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)+) => {
        /// What was done; stored as a dotted verb such as `client.created`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum AuditAction {
            $($(#[$doc])* #[sea_orm(string_value = $name)] $variant,)+
        }

        impl AuditAction {
            /// The stored dotted verb, as the audit trail shows it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }
    };
}

audit_actions! {
    ProviderCreated = "provider.created",
    ProviderSignedIn = "provider.signed_in",
    ProviderSignInFailed = "provider.sign_in_failed",
    ProviderSignedOut = "provider.signed_out",
    ClientCreated = "client.created",
    ClientEmailChanged = "client.email_changed",
    ClientPasswordSetByProvider = "client.password_set_by_provider",
    ClientPasswordChanged = "client.password_changed",
    ClientSignedIn = "client.signed_in",
    ClientSignedOut = "client.signed_out",
    InviteSent = "email.invite_sent",
    InviteResent = "email.invite_resent",
    PasswordResetSent = "email.password_reset_sent",
    /// A provider's link email refused by the resend cap (R5).
    RateLimited = "email.rate_limited",
    DeliveryFailed = "email.delivery_failed",
    LinkUsed = "link.used",
    LinkUseFailed = "link.use_failed",
    IntakeFormAssigned = "intake.form_assigned",
    IntakeFormCompleted = "intake.form_completed",
    IntakeReminderQueued = "intake.reminder_queued",
    MessageSent = "message.sent",
}
