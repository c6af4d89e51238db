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
    /// `pending` or `done`.
    pub status: String,
    /// `reminder_queued` or `all_complete`.
    pub outcome: Option<String>,
    pub checked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
