//! The pool without sqlx's ping on every release (`vendor/README.md`): what that ping
//! was for still happens, and a settled connection is back in the pool the moment it
//! is let go. A transaction dropped without commit is rolled back at
//! once, not whenever its connection is next used; a query dropped mid-flight
//! leaves a connection that answers the next statement correctly. The pool hands out
//! the connection used last, and closes the ones left idle.
use migration::MigratorTrait;
use portal_tests::Backend;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};
use std::time::Duration;

async fn pool(url: &str, connections: u32) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(connections)
        .test_before_acquire(false)
        .sqlx_logging(false);
    Database::connect(options).await.unwrap()
}

fn sql(text: &str) -> Statement {
    Statement::from_string(DbBackend::Postgres, text.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_dropped_transaction_lets_go_of_its_locks_at_once() {
    let database = portal_tests::database::TestDatabase::create(Backend::Postgres).await;
    let db = pool(&database.url, 1).await;
    migration::Migrator::up(&db, None).await.unwrap();
    let jane = access::testing::client(&db).await;
    let lock = format!("SELECT id FROM client WHERE id = '{}' FOR UPDATE", jane.id);

    let txn = db.begin().await.unwrap();
    txn.execute_raw(sql(&lock)).await.unwrap();
    drop(txn);
    // The pool's one connection now sits idle; nothing else uses it.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let other = pool(&database.url, 1).await;
    let txn = other.begin().await.unwrap();
    txn.execute_raw(sql("SET LOCAL lock_timeout = '2s'"))
        .await
        .unwrap();
    let locked = txn.execute_raw(sql(&lock)).await;
    assert!(
        locked.is_ok(),
        "the dropped transaction still holds the row: {locked:?}"
    );
    txn.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_query_dropped_mid_flight_leaves_a_connection_that_answers_right() {
    let database = portal_tests::database::TestDatabase::create(Backend::Postgres).await;
    let db = pool(&database.url, 1).await;
    let slow = db.query_one_raw(sql("SELECT 1 AS n FROM pg_sleep(0.3)"));
    assert!(
        tokio::time::timeout(Duration::from_millis(50), slow)
            .await
            .is_err()
    );
    for n in 2..5 {
        let row = db
            .query_one_raw(sql(&format!("SELECT {n} AS n")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<i32>("", "n").unwrap(), n);
    }
}

/// On a single thread nothing spawned runs until the test yields: a connection sqlx
/// gave back by a task of its own would still be out of the pool here.
#[tokio::test(flavor = "current_thread")]
async fn on_postgresql_a_settled_connection_is_back_in_the_pool_as_its_statement_ends() {
    let database = portal_tests::database::TestDatabase::create(Backend::Postgres).await;
    let db = pool(&database.url, 1).await;
    let connections = db.get_postgres_connection_pool();
    for n in 1..4 {
        db.execute_raw(sql(&format!("SELECT {n}"))).await.unwrap();
        assert_eq!(
            connections.num_idle(),
            1,
            "after statement {n}, the pool's one connection is not idle in it"
        );
        assert!(connections.try_acquire().is_some());
    }

    // Not settled (a transaction dropped open): still given back through the ping,
    // by a task of its own, which rolls the transaction back first.
    let txn = db.begin().await.unwrap();
    txn.execute_raw(sql("SELECT 1")).await.unwrap();
    drop(txn);
    assert_eq!(connections.num_idle(), 0);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(connections.num_idle(), 1);
}

/// Opens `n` connections at once (`n` statements in flight together), as a burst of
/// requests does, and lets them all go back idle.
async fn burst(db: &DatabaseConnection, n: usize) {
    let statements = (0..n).map(|_| db.execute_raw(sql("SELECT pg_sleep(0.05)")));
    for done in futures_util::future::join_all(statements).await {
        done.unwrap();
    }
}

async fn backend(db: &DatabaseConnection) -> i32 {
    let row = db
        .query_one_raw(sql("SELECT pg_backend_pid() AS pid"))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "pid").unwrap()
}

/// After a burst opened the whole pool, statements one at a time go to the
/// connection used last, not round the whole pool (`vendor/README.md`: each backend
/// a statement wakes with cold caches cost every request under light load).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_statement_goes_to_the_connection_used_last() {
    let database = portal_tests::database::TestDatabase::create(Backend::Postgres).await;
    let db = pool(&database.url, 4).await;
    burst(&db, 4).await;
    assert_eq!(db.get_postgres_connection_pool().size(), 4);
    let mut backends = Vec::new();
    for _ in 0..12 {
        backends.push(backend(&db).await);
    }
    backends.dedup();
    assert_eq!(
        backends.len(),
        1,
        "one statement at a time went round the pool: {backends:?}"
    );
}

/// The connections a burst opened and steady work no longer needs reach their idle
/// timeout and are closed, while one connection serves a statement every 50 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_connections_left_idle_are_closed_while_others_work() {
    let database = portal_tests::database::TestDatabase::create(Backend::Postgres).await;
    let mut options = ConnectOptions::new(database.url.clone());
    options
        .max_connections(4)
        .min_connections(1)
        .idle_timeout(Duration::from_millis(500))
        .test_before_acquire(false)
        .sqlx_logging(false);
    let db = Database::connect(options).await.unwrap();
    burst(&db, 4).await;
    let connections = db.get_postgres_connection_pool();
    assert_eq!(connections.size(), 4);
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < until && connections.size() > 1 {
        backend(&db).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        connections.size(),
        1,
        "the connections left idle were not closed"
    );
}
