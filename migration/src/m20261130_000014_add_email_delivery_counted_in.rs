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
        crate::column::add_once(
            manager,
            EmailDelivery::Table,
            string_len_null(EmailDeliveryCap::CountedIn, 16),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::column::drop(manager, EmailDelivery::Table, EmailDeliveryCap::CountedIn).await
    }
}
