//! Database migrations, one table per file; they run on PostgreSQL and SQLite alike.
//! Foreign keys are declared in `create_table` because SQLite cannot add them later.

pub use sea_orm_migration::prelude::*;

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

/// All migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_organization::Migration),
            Box::new(m20261124_000002_create_provider::Migration),
            Box::new(m20261124_000003_create_client::Migration),
            Box::new(m20261124_000004_create_session::Migration),
            Box::new(m20261124_000005_create_audit_event::Migration),
            Box::new(m20261125_000006_add_client_link_generation::Migration),
            Box::new(m20261125_000007_create_account_link::Migration),
            Box::new(m20261125_000008_create_email_delivery::Migration),
            Box::new(m20261125_000009_create_intake_form::Migration),
            Box::new(m20261125_000010_create_intake_assignment::Migration),
            Box::new(m20261125_000011_create_intake_check::Migration),
            Box::new(m20261125_000012_create_message::Migration),
            Box::new(m20261130_000013_add_account_link_delivery::Migration),
            Box::new(m20261130_000014_add_email_delivery_counted_in::Migration),
            Box::new(m20261130_000015_create_password_reset_request::Migration),
        ]
    }
}
