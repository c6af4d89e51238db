//! R8: the check, after activation, for intake forms still to complete.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "intake_check")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    /// The activation this check belongs to (unique per client).
    pub activated_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub status: CheckStatus,
    pub outcome: Option<CheckOutcome>,
    pub checked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Whether the check has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CheckStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "done")]
    Done,
}

/// What the check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CheckOutcome {
    /// Forms were still open: one reminder email was queued.
    #[sea_orm(string_value = "reminder_queued")]
    ReminderQueued,
    #[sea_orm(string_value = "all_complete")]
    AllComplete,
    /// Forms were open but the client has no address to remind.
    #[sea_orm(string_value = "no_email")]
    NoEmail,
}

impl CheckOutcome {
    /// The stored name, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReminderQueued => "reminder_queued",
            Self::AllComplete => "all_complete",
            Self::NoEmail => "no_email",
        }
    }
}
