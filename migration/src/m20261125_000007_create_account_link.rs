use super::m20261124_000003_create_client::Client;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum AccountLink {
    Table,
    Id,
    ClientId,
    Kind,
    TokenHash,
    SentToEmail,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    RevokedReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .if_not_exists()
            .table(AccountLink::Table)
            .col(pk_uuid(AccountLink::Id))
            .col(uuid(AccountLink::ClientId))
            .col(string_len(AccountLink::Kind, 32))
            .col(string_uniq(AccountLink::TokenHash))
            .col(string(AccountLink::SentToEmail))
            .col(timestamp_with_time_zone(AccountLink::CreatedAt))
            .col(timestamp_with_time_zone_null(AccountLink::ExpiresAt))
            .col(timestamp_with_time_zone_null(AccountLink::UsedAt))
            .col(timestamp_with_time_zone_null(AccountLink::RevokedAt))
            .col(string_len_null(AccountLink::RevokedReason, 32))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_account_link_client")
                    .from(AccountLink::Table, AccountLink::ClientId)
                    .to(Client::Table, Client::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(table).await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_account_link_client")
                    .table(AccountLink::Table)
                    .col(AccountLink::ClientId)
                    .col(AccountLink::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccountLink::Table).to_owned())
            .await
    }
}
