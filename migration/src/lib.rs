//! Database migrations, one table per file; they run on PostgreSQL and SQLite alike.
//! Foreign keys are declared in `create_table` because SQLite cannot add them later.
//!
//! A start killed mid-migration must not brick the database (SQLite once kept
//! `table "client" already exists` forever): every migration runs in a transaction
//! on both databases ([`Atomic`]; sea-orm-migration uses one only on PostgreSQL by
//! default), and every `up` may run again over its own work (`if_not_exists`, a
//! column check), which repairs databases an older binary left half-migrated.

pub use sea_orm_migration::prelude::*;

mod column;

mod m20261124_000001_create_organization;
mod m20261124_000002_create_provider;
mod m20261124_000003_create_client;
mod m20261124_000004_create_session;
mod m20261124_000005_create_audit_event;
mod m20261125_000006_add_client_link_generation;
mod m20261125_000007_create_account_link;
mod m20261125_000008_create_email_delivery;
mod m20261125_000009_create_intake_form;
mod m20261125_000010_create_intake_assignment;
mod m20261125_000011_create_intake_check;
mod m20261125_000012_create_message;
mod m20261130_000013_add_account_link_delivery;
mod m20261130_000014_add_email_delivery_counted_in;
mod m20261130_000015_create_password_reset_request;
mod m20261130_000016_index_queued_link_emails;
mod m20261201_000017_drop_email_delivery_link_fk;
mod m20261207_000018_end_live_links_function;

/// All migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Atomic::boxed(m20261124_000001_create_organization::Migration),
            Atomic::boxed(m20261124_000002_create_provider::Migration),
            Atomic::boxed(m20261124_000003_create_client::Migration),
            Atomic::boxed(m20261124_000004_create_session::Migration),
            Atomic::boxed(m20261124_000005_create_audit_event::Migration),
            Atomic::boxed(m20261125_000006_add_client_link_generation::Migration),
            Atomic::boxed(m20261125_000007_create_account_link::Migration),
            Atomic::boxed(m20261125_000008_create_email_delivery::Migration),
            Atomic::boxed(m20261125_000009_create_intake_form::Migration),
            Atomic::boxed(m20261125_000010_create_intake_assignment::Migration),
            Atomic::boxed(m20261125_000011_create_intake_check::Migration),
            Atomic::boxed(m20261125_000012_create_message::Migration),
            Atomic::boxed(m20261130_000013_add_account_link_delivery::Migration),
            Atomic::boxed(m20261130_000014_add_email_delivery_counted_in::Migration),
            Atomic::boxed(m20261130_000015_create_password_reset_request::Migration),
            Atomic::boxed(m20261130_000016_index_queued_link_emails::Migration),
            Atomic::boxed(m20261201_000017_drop_email_delivery_link_fk::Migration),
            Atomic::boxed(m20261207_000018_end_live_links_function::Migration),
        ]
    }
}

/// A migration applied in one transaction with its `seaql_migrations` record, on
/// every database (SQLite's DDL is transactional too).
pub struct Atomic<M>(M);

impl<M: MigrationTrait + 'static> Atomic<M> {
    fn boxed(migration: M) -> Box<dyn MigrationTrait> {
        Box::new(Self(migration))
    }
}

impl<M: MigrationName> MigrationName for Atomic<M> {
    fn name(&self) -> &str {
        self.0.name()
    }
}

#[async_trait::async_trait]
impl<M: MigrationTrait> MigrationTrait for Atomic<M> {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        self.0.up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        self.0.down(manager).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
