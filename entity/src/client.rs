//! A practice's client (patient) and their portal account.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    /// As the provider typed it (trimmed).
    pub email: Option<String>,
    /// Lower-cased `email`; unique per organization, so `Jane@x` and `jane@x` collide.
    pub email_normalized: Option<String>,
    /// argon2id PHC string; `None` until the client sets a password.
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    /// Lower-cased "last\u{1f}first", computed in Rust so both databases order alike.
    pub sort_key: String,
    /// Lower-cased "first last email" that `clients(search:)` matches against.
    pub search_text: String,
    pub activated_at: Option<DateTimeUtc>,
    /// Bumped by every change that makes queued link emails stale (new link, email
    /// change, password set); a delivery carries the generation it was queued under.
    pub link_generation: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
