use crate::m20261201_000017_drop_email_delivery_link_fk::on_postgres;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `portal_end_live_links(client, at, reason)`, on PostgreSQL: ends the client's live
/// links and returns how many. The resend's one statement (`access::link_email`) calls
/// it once it holds the client's row. A `VOLATILE` function's query takes a snapshot
/// of its own, so it also sees a link the worker committed while the statement waited
/// for that row; a `WITH` clause of the statement itself sees only what was committed
/// when the statement began, and left such a link live beside the new one (R4).
/// PL/pgSQL, not SQL: PostgreSQL keeps its statement's plan for the session, where an
/// SQL function is planned again on every call (a third more PostgreSQL CPU per resend).
/// SQLite runs the steps one by one in a transaction and needs no function.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            manager,
            "CREATE OR REPLACE FUNCTION portal_end_live_links(p_client uuid, p_at timestamptz, p_reason text) \
             RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$ \
             DECLARE ended bigint; \
             BEGIN \
                UPDATE account_link SET revoked_at = p_at, revoked_reason = p_reason \
                    WHERE client_id = p_client AND used_at IS NULL AND revoked_at IS NULL; \
                GET DIAGNOSTICS ended = ROW_COUNT; \
                RETURN ended; \
             END $$",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            manager,
            "DROP FUNCTION IF EXISTS portal_end_live_links(uuid, timestamptz, text)",
        )
        .await
    }
}
