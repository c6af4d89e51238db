use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PasswordResetRequest {
    Table,
    Id,
    EmailNormalized,
    Ip,
    CreatedAt,
    ClaimedUntil,
}

/// `password_reset_request`: self-service resets asked for and not yet handled, so
/// a restart between the answer and the work loses nothing.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PasswordResetRequest::Table)
                    .if_not_exists()
                    .col(pk_uuid(PasswordResetRequest::Id))
                    .col(string(PasswordResetRequest::EmailNormalized))
                    .col(string_null(PasswordResetRequest::Ip))
                    .col(timestamp_with_time_zone(PasswordResetRequest::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        PasswordResetRequest::ClaimedUntil,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PasswordResetRequest::Table).to_owned())
            .await
    }
}
