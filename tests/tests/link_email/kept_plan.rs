//! How much of the outbox the resend's statement reads, in a plan PostgreSQL made
//! while the outbox was nearly empty and kept for the connection.
use crate::{client_with_a_pending_link, postgres, request};
use access::link_email;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// What PostgreSQL's statistics say of the outbox: rows inserted, and index entries
/// and rows read by scans (a backend reports its figures when it ends).
async fn outbox_reads(db: &DatabaseConnection) -> (i64, i64) {
    let sql = "SELECT t.n_tup_ins AS inserted, coalesce(t.seq_tup_read, 0) + \
               (SELECT coalesce(sum(i.idx_tup_read), 0) FROM pg_stat_user_indexes i \
               WHERE i.relid = t.relid)::bigint AS read \
               FROM pg_stat_user_tables t WHERE t.relname = 'email_delivery'";
    let statement = sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql);
    let row = db
        .query_one_raw(statement)
        .await
        .unwrap()
        .expect("the outbox");
    (
        row.try_get::<i64>("", "inserted").unwrap(),
        row.try_get::<i64>("", "read").unwrap(),
    )
}

/// The statement supersedes a client's queued link emails through their index by
/// client, also in a plan PostgreSQL made while the outbox was nearly empty and kept
/// for the connection's later runs, once thousands of emails wait. A partial index
/// of queued rows that this step could read whole looked as cheap as the lookup
/// then, and every resend after walked every queued email (pipeline notes item 19
/// in `bench/NOTES.md`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_reads_a_handful_of_outbox_rows_in_a_plan_kept_from_an_empty_outbox() {
    const OTHERS: i64 = 5_000;
    let (database, admin) = postgres().await;
    let now = Utc::now();
    let jane = client_with_a_pending_link(&admin, false, now).await;
    let mut options = sea_orm::ConnectOptions::new(database.url.clone());
    options.max_connections(1).min_connections(1);
    let db = sea_orm::Database::connect(options).await.unwrap();
    // PostgreSQL settles on a kept plan for a prepared statement after five runs.
    const EARLY: i64 = 8;
    for _ in 0..EARLY {
        link_email::in_one_statement(&db, request(&jane, now))
            .await
            .unwrap()
            .expect("queued");
    }
    // 5,000 link emails of 500 other clients come to wait in the queue.
    let filler = sea_orm::Database::connect(&database.url).await.unwrap();
    filler
        .execute_unprepared(
            "WITH others AS (INSERT INTO client (id, organization_id, first_name, last_name, \
             sort_key, search_text, created_at, updated_at) SELECT gen_random_uuid(), \
             organization_id, 'Other', 'Client', 'client', 'other client', now(), now() \
             FROM client, generate_series(1, 500) RETURNING id) \
             INSERT INTO email_delivery (id, client_id, kind, to_address, link_kind, \
             link_generation, status, next_attempt_at, created_at, updated_at) \
             SELECT gen_random_uuid(), id, 'welcome', 'other@example.com', 'invite', 0, \
             'queued', now(), now(), now() FROM others, generate_series(1, 10)",
        )
        .await
        .unwrap();
    filler.close().await.unwrap();
    link_email::in_one_statement(&db, request(&jane, now))
        .await
        .unwrap()
        .expect("queued");
    db.close().await.unwrap();

    // The rows both closed connections inserted are counted: they have reported.
    let expected = OTHERS + EARLY + 1;
    let mut reads = outbox_reads(&admin).await;
    for _ in 0..50 {
        if reads.0 >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        reads = outbox_reads(&admin).await;
    }
    assert!(reads.0 >= expected, "statistics reported: {reads:?}");
    assert!(
        reads.1 < 100,
        "the resends read {} outbox rows and index entries with {OTHERS} others queued",
        reads.1
    );
    admin.close().await.unwrap();
}
