use super::m20261125_000007_create_account_link::AccountLink;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccountLinkDelivery {
    DeliveryId,
}

/// `account_link.delivery_id`: the email a link was minted for. A retry of the same
/// email mints a sibling link and leaves the earlier attempt's link working (it may
/// already be in the client's inbox); giving the email up revokes all of them.
/// No foreign key: SQLite cannot add one to an existing table, and the link
/// outlives nothing it points to (deliveries are never deleted).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::column::add_once(
            manager,
            AccountLink::Table,
            uuid_null(AccountLinkDelivery::DeliveryId),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::column::drop(manager, AccountLink::Table, AccountLinkDelivery::DeliveryId).await
    }
}
