//! A worker held up between its claim and its links for longer than its lease: another
//! worker takes the row over, and the first one mints nothing and sends nothing. The
//! look in the database that decides it is skipped only within the first half of a
//! lease (`Deliverer::surely_held`); this is the case past it.
use entity::account_link;
use entity::{client, email_delivery};
use jobs::deliver_email::{Deliverer, Outcome};
use portal_tests::{Backend, Queue, TestApp, spawn_mail_app_with};
use sea_orm::sea_query::LockType;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Long enough that no renewal (every third of it) runs during the test.
const LEASE: Duration = Duration::from_secs(30);
const PATIENCE: Duration = Duration::from_secs(20);

fn deliverer(api: &TestApp) -> Arc<Deliverer> {
    let smtp = format!("smtp://127.0.0.1:{}", api.smtp().port);
    crate::support::deliverer(api, &smtp, LEASE)
}

/// Waits until the row of `id` has counted `attempts` claims.
async fn claimed(api: &TestApp, id: Uuid, attempts: i32) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let row = email_delivery::Entity::find_by_id(id)
            .one(&api.state.db)
            .await
            .expect("query")
            .expect("the row exists");
        if row.attempts == attempts {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never claimed: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_held_up_past_its_lease_before_minting_leaves_the_email_to_its_successor() {
    let api = spawn_mail_app_with(Backend::Postgres, Queue::Redis, &[], false).await;
    let db = &api.state.db;
    let provider = api.signed_in_provider("Practice").await;
    let address = "stalled@example.com";
    api.invite_client(&provider.token, "Jane", address).await;
    let queued = email_delivery::Entity::find()
        .one(db)
        .await
        .expect("query")
        .expect("the invite is queued");

    // The client's row held: the first worker claims, then waits at its look at the
    // client before minting the link.
    let blocker = db.begin().await.expect("begin");
    client::Entity::find_by_id(queued.client_id)
        .lock(LockType::Update)
        .one(&blocker)
        .await
        .expect("lock the client");
    let first = tokio::spawn({
        let worker = deliverer(&api);
        async move { worker.deliver(queued.id).await }
    });
    claimed(&api, queued.id, 1).await;

    // Its lease runs out by the clock every worker reads; a second worker takes over.
    api.clock
        .advance(chrono::Duration::from_std(LEASE * 2).expect("lease"));
    let second = tokio::spawn({
        let worker = deliverer(&api);
        async move { worker.deliver(queued.id).await }
    });
    claimed(&api, queued.id, 2).await;
    blocker.rollback().await.expect("release the client");

    let first = tokio::time::timeout(PATIENCE, first)
        .await
        .expect("first finished");
    let second = tokio::time::timeout(PATIENCE, second)
        .await
        .expect("second finished");
    assert_eq!(first.expect("join").expect("first"), Outcome::Skipped);
    assert_eq!(second.expect("join").expect("second"), Outcome::Sent);
    api.smtp().wait_for(address, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(api.smtp().messages_to(address).len(), 1, "one email");
    let links = account_link::Entity::find()
        .filter(account_link::Column::DeliveryId.eq(queued.id))
        .all(db)
        .await
        .expect("links");
    assert_eq!(
        links.len(),
        1,
        "only the second worker's link exists: {links:?}"
    );
}
