use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `email_delivery.account_link_id` without its foreign key, on PostgreSQL: every
/// sent link email sets it, and the key's check (a query and a row lock on the link,
/// per row) was half the time of the statement that records a batch as sent. Like
/// `account_link.delivery_id`, it points at a row that outlives it: links are
/// deleted only with their client (whose deliveries go too), or by the worker that
/// minted them before any delivery named them. SQLite cannot drop a foreign key
/// from an existing table and keeps it; the embedded mode is not where it costs.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            manager,
            "ALTER TABLE email_delivery DROP CONSTRAINT IF EXISTS fk_email_delivery_account_link",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            manager,
            "ALTER TABLE email_delivery ADD CONSTRAINT fk_email_delivery_account_link \
             FOREIGN KEY (account_link_id) REFERENCES account_link (id) ON DELETE SET NULL",
        )
        .await
    }
}

/// Runs `sql` on PostgreSQL; nothing elsewhere.
pub(crate) async fn on_postgres(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(sql)
        .await
        .map(drop)
}
