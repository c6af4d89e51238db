use super::m20261124_000002_create_provider::Provider;
use super::m20261124_000003_create_client::Client;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Message {
    Table,
    Id,
    ClientId,
    ProviderId,
    Body,
    CreatedAt,
    ReadAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .if_not_exists()
            .table(Message::Table)
            .col(pk_uuid(Message::Id))
            .col(uuid(Message::ClientId))
            .col(uuid_null(Message::ProviderId))
            .col(text(Message::Body))
            .col(timestamp_with_time_zone(Message::CreatedAt))
            .col(timestamp_with_time_zone_null(Message::ReadAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_message_client")
                    .from(Message::Table, Message::ClientId)
                    .to(Client::Table, Client::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_message_provider")
                    .from(Message::Table, Message::ProviderId)
                    .to(Provider::Table, Provider::Id)
                    .on_delete(ForeignKeyAction::SetNull),
            )
            .to_owned();
        manager.create_table(table).await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_message_client")
                    .table(Message::Table)
                    .col(Message::ClientId)
                    .col(Message::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Message::Table).to_owned())
            .await
    }
}
