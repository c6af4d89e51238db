use super::m20261124_000002_create_provider::Provider;
use super::m20261124_000003_create_client::Client;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Session {
    Table,
    Id,
    TokenHash,
    ProviderId,
    ClientId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .if_not_exists()
            .table(Session::Table)
            .col(pk_uuid(Session::Id))
            .col(string_uniq(Session::TokenHash))
            .col(uuid_null(Session::ProviderId))
            .col(uuid_null(Session::ClientId))
            .col(timestamp_with_time_zone(Session::CreatedAt))
            .col(timestamp_with_time_zone(Session::ExpiresAt))
            .col(timestamp_with_time_zone_null(Session::RevokedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_session_provider")
                    .from(Session::Table, Session::ProviderId)
                    .to(Provider::Table, Provider::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_session_client")
                    .from(Session::Table, Session::ClientId)
                    .to(Client::Table, Client::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(table).await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_session_expires_at")
                    .table(Session::Table)
                    .col(Session::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Session::Table).to_owned())
            .await
    }
}
