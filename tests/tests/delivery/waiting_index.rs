//! The outbox's index holds only waiting rows (`queued`, `sending`); the sweeper and
//! the outbox gauges must read it in the plans PostgreSQL keeps for every run
//! (generic plans), where a status bound as a parameter would not let it.
use migration::{Migrator, MigratorTrait};
use portal_tests::{Backend, TestDatabase};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use std::time::Duration;

/// Scans of the index so far, as the statistics views show them.
async fn scans(db: &DatabaseConnection) -> i64 {
    let sql = "SELECT idx_scan FROM pg_stat_user_indexes \
               WHERE indexrelname = 'idx_email_delivery_waiting'";
    db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("statistics")
        .expect("the index of waiting rows exists")
        .try_get::<i64>("", "idx_scan")
        .expect("idx_scan")
}

/// Whether the index was scanned `n` times more than `before` within a few seconds
/// (an idle backend reports its statistics every ten seconds, one that ends at once).
async fn scanned_since(db: &DatabaseConnection, before: i64, n: i64) -> bool {
    for _ in 0..50 {
        if scans(db).await >= before + n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_and_the_gauges_read_the_index_of_waiting_rows_in_generic_plans() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let admin = Database::connect(&database.url).await.unwrap();
    Migrator::up(&admin, None).await.expect("migrations");
    // A queued email: a scan of an index that never held an entry is not counted.
    admin
        .execute_unprepared(
            "WITH practice AS (INSERT INTO organization (id, name, created_at) \
             VALUES (gen_random_uuid(), 'Practice', now()) RETURNING id), \
             jane AS (INSERT INTO client (id, organization_id, first_name, last_name, \
             sort_key, search_text, created_at, updated_at) SELECT gen_random_uuid(), id, \
             'Jane', 'Doe', 'doe', 'jane doe', now(), now() FROM practice RETURNING id) \
             INSERT INTO email_delivery (id, client_id, kind, to_address, link_generation, \
             status, next_attempt_at, created_at, updated_at) SELECT gen_random_uuid(), id, \
             'message_notification', 'jane@example.com', 0, 'queued', now(), now(), now() \
             FROM jane",
        )
        .await
        .expect("a queued email");
    // Every connection opened from now on plans as for a kept plan, and takes any
    // index it can use over reading the whole table.
    let name = database.url.rsplit('/').next().unwrap();
    for setting in [
        "plan_cache_mode = force_generic_plan",
        "enable_seqscan = off",
    ] {
        let sql = format!("ALTER DATABASE {name} SET {setting}");
        admin.execute_unprepared(&sql).await.unwrap();
    }
    let clock = access::clock::system();

    let before = scans(&admin).await;
    let db = Database::connect(&database.url).await.unwrap();
    jobs::sweeper::due_deliveries(&db, &clock, Duration::ZERO)
        .await
        .expect("sweep");
    db.close().await.unwrap();
    // Two statements: stale leases back to `queued`, then the rows due.
    assert!(
        scanned_since(&admin, before, 2).await,
        "the sweep read the outbox without its index"
    );
    let before = scans(&admin).await;
    let db = Database::connect(&database.url).await.unwrap();
    jobs::metrics::refresh_outbox(&db, clock.now())
        .await
        .expect("gauges");
    db.close().await.unwrap();
    // Two statements: the counts per status, then the oldest queued email.
    assert!(
        scanned_since(&admin, before, 2).await,
        "the gauges read the outbox without its index"
    );
    admin.close().await.unwrap();
}
