use super::m20261124_000003_create_client::Client;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientLinks {
    LinkGeneration,
}

/// `client.link_generation` counts changes that make queued link emails stale
/// (a newer link, an email change, a password set); the worker sends a link only
/// while the delivery's generation is still the client's.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::column::add_once(
            manager,
            Client::Table,
            big_integer(ClientLinks::LinkGeneration)
                .default(0)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::column::drop(manager, Client::Table, ClientLinks::LinkGeneration).await
    }
}
