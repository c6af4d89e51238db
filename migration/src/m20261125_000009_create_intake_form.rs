use super::m20261124_000001_create_organization::Organization;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum IntakeForm {
    Table,
    Id,
    OrganizationId,
    Title,
    Description,
    Questions,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .if_not_exists()
            .table(IntakeForm::Table)
            .col(pk_uuid(IntakeForm::Id))
            .col(uuid(IntakeForm::OrganizationId))
            .col(string(IntakeForm::Title))
            .col(text_null(IntakeForm::Description))
            .col(text(IntakeForm::Questions))
            .col(timestamp_with_time_zone(IntakeForm::CreatedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_intake_form_organization")
                    .from(IntakeForm::Table, IntakeForm::OrganizationId)
                    .to(Organization::Table, Organization::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(table).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IntakeForm::Table).to_owned())
            .await
    }
}
