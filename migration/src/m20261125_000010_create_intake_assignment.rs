use super::m20261124_000003_create_client::Client;
use super::m20261125_000009_create_intake_form::IntakeForm;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IntakeAssignment {
    Table,
    Id,
    ClientId,
    FormId,
    AssignedAt,
    CompletedAt,
    Answers,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .if_not_exists()
            .table(IntakeAssignment::Table)
            .col(pk_uuid(IntakeAssignment::Id))
            .col(uuid(IntakeAssignment::ClientId))
            .col(uuid(IntakeAssignment::FormId))
            .col(timestamp_with_time_zone(IntakeAssignment::AssignedAt))
            .col(timestamp_with_time_zone_null(IntakeAssignment::CompletedAt))
            .col(text_null(IntakeAssignment::Answers))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_intake_assignment_client")
                    .from(IntakeAssignment::Table, IntakeAssignment::ClientId)
                    .to(Client::Table, Client::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_intake_assignment_form")
                    .from(IntakeAssignment::Table, IntakeAssignment::FormId)
                    .to(IntakeForm::Table, IntakeForm::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(table).await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_intake_assignment_client_form")
                    .table(IntakeAssignment::Table)
                    .col(IntakeAssignment::ClientId)
                    .col(IntakeAssignment::FormId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IntakeAssignment::Table).to_owned())
            .await
    }
}
