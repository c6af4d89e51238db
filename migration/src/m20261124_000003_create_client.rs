use super::m20261124_000001_create_organization::Organization;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Client {
    Table,
    Id,
    OrganizationId,
    FirstName,
    LastName,
    Email,
    EmailNormalized,
    PasswordHash,
    MustChangePassword,
    SortKey,
    SearchText,
    ActivatedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .if_not_exists()
            .table(Client::Table)
            .col(pk_uuid(Client::Id))
            .col(uuid(Client::OrganizationId))
            .col(string(Client::FirstName))
            .col(string(Client::LastName))
            .col(string_null(Client::Email))
            .col(string_null(Client::EmailNormalized))
            .col(string_null(Client::PasswordHash))
            .col(boolean(Client::MustChangePassword).default(false))
            .col(string(Client::SortKey))
            .col(text(Client::SearchText))
            .col(timestamp_with_time_zone_null(Client::ActivatedAt))
            .col(timestamp_with_time_zone(Client::CreatedAt))
            .col(timestamp_with_time_zone(Client::UpdatedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_client_organization")
                    .from(Client::Table, Client::OrganizationId)
                    .to(Organization::Table, Organization::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(table).await?;
        // NULLs never collide in a unique index (both databases), so clients without
        // an email are unconstrained while addresses stay unique per organization.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_client_org_email")
                    .table(Client::Table)
                    .col(Client::OrganizationId)
                    .col(Client::EmailNormalized)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_client_org_sort")
                    .table(Client::Table)
                    .col(Client::OrganizationId)
                    .col(Client::SortKey)
                    .col(Client::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Client::Table).to_owned())
            .await
    }
}
