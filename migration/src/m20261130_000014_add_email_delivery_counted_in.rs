use super::m20261125_000008_create_email_delivery::EmailDelivery;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailDeliveryCap {
    CountedIn,
}

/// `email_delivery.counted_in`: which resend cap (R5) a link email counted
/// against: `provider` or `self_service`; null for emails no cap counts. This is
/// the durable record a cap's window is rebuilt from when Redis lost it.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite has no ADD COLUMN IF NOT EXISTS: a run that added it must still complete.
        if manager.has_column("email_delivery", "counted_in").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(EmailDelivery::Table)
                    .add_column(string_len_null(EmailDeliveryCap::CountedIn, 16))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EmailDelivery::Table)
                    .drop_column(EmailDeliveryCap::CountedIn)
                    .to_owned(),
            )
            .await
    }
}
