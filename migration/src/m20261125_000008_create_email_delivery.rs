use super::m20261124_000003_create_client::Client;
use super::m20261125_000007_create_account_link::AccountLink;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum EmailDelivery {
    Table,
    Id,
    ClientId,
    Kind,
    ToAddress,
    LinkKind,
    LinkGeneration,
    AccountLinkId,
    Status,
    Attempts,
    LastError,
    NextAttemptAt,
    ClaimedUntil,
    CreatedAt,
    UpdatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .if_not_exists()
            .table(EmailDelivery::Table)
            .col(pk_uuid(EmailDelivery::Id))
            .col(uuid(EmailDelivery::ClientId))
            .col(string_len(EmailDelivery::Kind, 32))
            .col(string(EmailDelivery::ToAddress))
            .col(string_len_null(EmailDelivery::LinkKind, 32))
            .col(big_integer(EmailDelivery::LinkGeneration))
            .col(uuid_null(EmailDelivery::AccountLinkId))
            .col(string_len(EmailDelivery::Status, 16))
            .col(integer(EmailDelivery::Attempts).default(0))
            .col(text_null(EmailDelivery::LastError))
            .col(timestamp_with_time_zone(EmailDelivery::NextAttemptAt))
            .col(timestamp_with_time_zone_null(EmailDelivery::ClaimedUntil))
            .col(timestamp_with_time_zone(EmailDelivery::CreatedAt))
            .col(timestamp_with_time_zone(EmailDelivery::UpdatedAt))
            .col(timestamp_with_time_zone_null(EmailDelivery::SentAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_email_delivery_client")
                    .from(EmailDelivery::Table, EmailDelivery::ClientId)
                    .to(Client::Table, Client::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_email_delivery_account_link")
                    .from(EmailDelivery::Table, EmailDelivery::AccountLinkId)
                    .to(AccountLink::Table, AccountLink::Id)
                    .on_delete(ForeignKeyAction::SetNull),
            )
            .to_owned();
        manager.create_table(table).await?;
        for (name, cols) in [
            (
                "idx_email_delivery_due",
                vec![EmailDelivery::Status, EmailDelivery::NextAttemptAt],
            ),
            (
                "idx_email_delivery_client",
                vec![EmailDelivery::ClientId, EmailDelivery::CreatedAt],
            ),
        ] {
            let mut index = Index::create();
            index.if_not_exists().name(name).table(EmailDelivery::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EmailDelivery::Table).to_owned())
            .await
    }
}
