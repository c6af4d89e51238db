use super::m20261124_000003_create_client::Client;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IntakeCheck {
    Table,
    Id,
    ClientId,
    ActivatedAt,
    DueAt,
    Status,
    Outcome,
    CheckedAt,
}

/// One intake-form check per activation (R8); the unique index makes scheduling it
/// twice impossible, the status makes running it twice harmless.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .if_not_exists()
            .table(IntakeCheck::Table)
            .col(pk_uuid(IntakeCheck::Id))
            .col(uuid(IntakeCheck::ClientId))
            .col(timestamp_with_time_zone(IntakeCheck::ActivatedAt))
            .col(timestamp_with_time_zone(IntakeCheck::DueAt))
            .col(string_len(IntakeCheck::Status, 16))
            .col(string_len_null(IntakeCheck::Outcome, 32))
            .col(timestamp_with_time_zone_null(IntakeCheck::CheckedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_intake_check_client")
                    .from(IntakeCheck::Table, IntakeCheck::ClientId)
                    .to(Client::Table, Client::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(table).await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_intake_check_client_activation")
                    .table(IntakeCheck::Table)
                    .col(IntakeCheck::ClientId)
                    .col(IntakeCheck::ActivatedAt)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_intake_check_due")
                    .table(IntakeCheck::Table)
                    .col(IntakeCheck::Status)
                    .col(IntakeCheck::DueAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IntakeCheck::Table).to_owned())
            .await
    }
}
