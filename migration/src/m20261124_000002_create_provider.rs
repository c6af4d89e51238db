use super::m20261124_000001_create_organization::Organization;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Provider {
    Table,
    Id,
    OrganizationId,
    Email,
    Name,
    PasswordHash,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .if_not_exists()
            .table(Provider::Table)
            .col(pk_uuid(Provider::Id))
            .col(uuid(Provider::OrganizationId))
            .col(string_uniq(Provider::Email))
            .col(string(Provider::Name))
            .col(string(Provider::PasswordHash))
            .col(timestamp_with_time_zone(Provider::CreatedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_provider_organization")
                    .from(Provider::Table, Provider::OrganizationId)
                    .to(Organization::Table, Organization::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(table).await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_provider_organization")
                    .table(Provider::Table)
                    .col(Provider::OrganizationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Provider::Table).to_owned())
            .await
    }
}
