//! Migrations apply, roll back completely and apply again, on both databases; a run
//! interrupted anywhere completes on the next start.
use migration::{Migrator, MigratorTrait};
use portal_tests::{Backend, TestDatabase, on_both_databases};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityName, Statement};
use std::collections::BTreeSet;

on_both_databases!(migrations_go_up_down_and_up_again);

/// The table of every entity: what the migrations must create, no more, no less (a
/// new migration's table fails this test until its entity is listed here).
fn entity_tables() -> BTreeSet<String> {
    use entity::*;
    [
        account_link::Entity.table_name(),
        audit_event::Entity.table_name(),
        client::Entity.table_name(),
        email_delivery::Entity.table_name(),
        intake_assignment::Entity.table_name(),
        intake_check::Entity.table_name(),
        intake_form::Entity.table_name(),
        message::Entity.table_name(),
        organization::Entity.table_name(),
        password_reset_request::Entity.table_name(),
        provider::Entity.table_name(),
        session::Entity.table_name(),
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// The tables in the database, apart from the migrator's own record.
async fn tables(db: &DatabaseConnection) -> BTreeSet<String> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        _ => {
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = current_schema()"
        }
    };
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("list tables")
        .iter()
        .map(|row| row.try_get::<String>("", "name").expect("table name"))
        .filter(|name| name != "seaql_migrations")
        .collect()
}

async fn migrations_go_up_down_and_up_again(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let db = Database::connect(&database.url).await.unwrap();
    Migrator::up(&db, None).await.expect("up");
    assert_eq!(tables(&db).await, entity_tables(), "after up");
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::down(&db, None).await.expect("down");
    assert_eq!(tables(&db).await, BTreeSet::new(), "after down");
    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(tables(&db).await, entity_tables(), "after up again");
    db.close().await.unwrap();
}

on_both_databases!(
    a_migration_interrupted_after_any_statement_completes_on_the_next_run,
    running_every_migration_again_changes_nothing,
);

/// A start killed mid-migration leaves that migration's work done but unrecorded
/// (SQLite ran migrations outside transactions): `table "client" already exists` on
/// every later start. Each migration is applied by hand without its record, and the
/// migrator must then complete it; the client table is also left without its last
/// index, as a kill between two statements would.
async fn a_migration_interrupted_after_any_statement_completes_on_the_next_run(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let db = Database::connect(&database.url).await.unwrap();
    let manager = migration::SchemaManager::new(&db);
    for m in Migrator::migrations() {
        m.up(&manager).await.expect("applied by hand, not recorded");
        if m.name().ends_with("create_client") {
            let drop = sea_orm::sea_query::Index::drop()
                .name("idx_client_org_sort")
                .table(sea_orm::sea_query::Alias::new("client"))
                .to_owned();
            manager.drop_index(drop).await.expect("index dropped");
        }
        Migrator::up(&db, Some(1))
            .await
            .unwrap_or_else(|e| panic!("{} after an interrupted run: {e}", m.name()));
    }
    assert!(
        manager
            .has_index("client", "idx_client_org_sort")
            .await
            .unwrap()
    );
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    db.close().await.unwrap();
}

async fn running_every_migration_again_changes_nothing(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let db = Database::connect(&database.url).await.unwrap();
    Migrator::up(&db, None).await.expect("up");
    Migrator::up(&db, None)
        .await
        .expect("a second run is a no-op");
    let manager = migration::SchemaManager::new(&db);
    for m in Migrator::migrations() {
        // Every migration runs in a transaction on both databases.
        assert_eq!(m.use_transaction(), Some(true), "{}", m.name());
        m.up(&manager)
            .await
            .unwrap_or_else(|e| panic!("{} run again: {e}", m.name()));
    }
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    db.close().await.unwrap();
}
