//! Migrations apply, roll back completely and apply again, on both databases.
use migration::{Migrator, MigratorTrait};
use portal_tests::{Backend, TestDatabase, on_both_databases};
use sea_orm::Database;

on_both_databases!(migrations_go_up_down_and_up_again);

const TABLES: [&str; 5] = [
    "organization",
    "provider",
    "client",
    "session",
    "audit_event",
];

async fn migrations_go_up_down_and_up_again(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let db = Database::connect(&database.url).await.unwrap();
    Migrator::up(&db, None).await.expect("up");
    let manager = migration::SchemaManager::new(&db);
    for table in TABLES {
        assert!(manager.has_table(table).await.unwrap(), "{table} after up");
    }
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::down(&db, None).await.expect("down");
    for table in TABLES {
        assert!(
            !manager.has_table(table).await.unwrap(),
            "{table} after down"
        );
    }
    Migrator::up(&db, None).await.expect("up again");
    for table in TABLES {
        assert!(
            manager.has_table(table).await.unwrap(),
            "{table} after up again"
        );
    }
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
