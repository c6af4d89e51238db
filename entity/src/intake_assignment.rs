//! A form assigned to a client; `completed_at` once the client has filled it in.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "intake_assignment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub form_id: Uuid,
    pub assigned_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    /// The client's answers (JSON); health information: never leaves by email or log.
    pub answers: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
