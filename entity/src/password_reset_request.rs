//! A self-service password reset asked for and not yet handled. Written before the
//! request is answered (for every address, known or not: the same cost), handled
//! after, and deleted once handled; a row left behind by a restart is picked up by
//! any API process.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "password_reset_request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The lower-cased address asked for; the row lives only until it is handled.
    pub email_normalized: String,
    pub ip: Option<String>,
    pub created_at: DateTimeUtc,
    /// While a process handles it; past this, another may.
    pub claimed_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
