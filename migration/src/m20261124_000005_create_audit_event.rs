use super::m20261124_000001_create_organization::Organization;
use super::m20261124_000003_create_client::Client;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    OrganizationId,
    ActorKind,
    ActorId,
    Action,
    ClientId,
    Detail,
    Ip,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .if_not_exists()
            .table(AuditEvent::Table)
            .col(pk_uuid(AuditEvent::Id))
            .col(uuid(AuditEvent::OrganizationId))
            .col(string(AuditEvent::ActorKind))
            .col(uuid_null(AuditEvent::ActorId))
            .col(string(AuditEvent::Action))
            .col(uuid_null(AuditEvent::ClientId))
            .col(text_null(AuditEvent::Detail))
            .col(string_null(AuditEvent::Ip))
            .col(timestamp_with_time_zone(AuditEvent::CreatedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_audit_event_organization")
                    .from(AuditEvent::Table, AuditEvent::OrganizationId)
                    .to(Organization::Table, Organization::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_audit_event_client")
                    .from(AuditEvent::Table, AuditEvent::ClientId)
                    .to(Client::Table, Client::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned();
        manager.create_table(table).await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_audit_event_client_created")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::ClientId)
                    .col(AuditEvent::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvent::Table).to_owned())
            .await
    }
}
