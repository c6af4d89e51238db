//! Who did what to a client's access; `detail` never holds a secret.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// `provider`, `client` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    /// Dotted verb such as `client.created` or `provider.signed_in`.
    pub action: String,
    pub client_id: Option<Uuid>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
