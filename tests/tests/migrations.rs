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
