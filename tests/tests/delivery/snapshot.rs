//! A client's view shows the client's link and emails as of one moment: an email
//! that failed never appears beside the link its failure took back.
use entity::account_link::{self, RevokedReason};
use entity::email_delivery::{self, DeliveryStatus};
use portal_tests::{Backend, Queue, spawn_mail_app};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde_json::{Value, json};
use std::time::Duration;

const VIEW: &str = "query($id: ID!) { client(id: $id) { activeLink { createdAt } \
    emailDeliveries(first: 5) { status } } }";

/// PostgreSQL only: the test holds the outbox with a table lock while the view
/// reads, so the view's read of the emails waits for the failure to commit while
/// its read of the link has already happened. Each field reading in a moment of
/// its own showed the email `FAILED` beside its live link (seen once in
/// `a_permanent_refusal_fails_at_once_with_the_reason`, by chance).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_view_never_shows_a_failed_email_beside_the_link_it_took_back() {
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let body = app
        .create_client(&provider.token, "Jane", "Doe", Some("jane@example.com"))
        .await;
    let id = body["data"]["createClient"]["client"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client_id = uuid::Uuid::parse_str(&id).unwrap();
    app.smtp().wait_for("jane@example.com", 1).await;
    let view = || app.graphql(VIEW, json!({ "id": id }), Some(&provider.token));
    let mut seen = view().await;
    for _ in 0..100 {
        if seen["data"]["client"]["emailDeliveries"][0]["status"] == "SENT" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen = view().await;
    }
    assert_eq!(
        seen["data"]["client"]["emailDeliveries"][0]["status"], "SENT",
        "{seen}"
    );
    assert!(seen["data"]["client"]["activeLink"].is_object(), "{seen}");

    // The email fails (as a bounce recorded later would) and its link is taken back,
    // in one transaction that holds the outbox until the view waits for it.
    let db = &app.state.db;
    let change = db.begin().await.unwrap();
    change
        .execute_unprepared("LOCK TABLE email_delivery IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let fail = async {
        let waiting = "SELECT count(*) AS n FROM pg_locks \
            WHERE NOT granted AND relation = 'email_delivery'::regclass";
        let statement = sea_orm::Statement::from_string(db.get_database_backend(), waiting);
        for _ in 0..200 {
            let row = db.query_one_raw(statement.clone()).await.unwrap().unwrap();
            if row.try_get::<i64>("", "n").unwrap() > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let now = chrono::Utc::now();
        email_delivery::Entity::update_many()
            .col_expr(
                email_delivery::Column::Status,
                Expr::value(DeliveryStatus::Failed),
            )
            .filter(email_delivery::Column::ClientId.eq(client_id))
            .exec(&change)
            .await
            .unwrap();
        account_link::Entity::update_many()
            .col_expr(account_link::Column::RevokedAt, Expr::value(now))
            .col_expr(
                account_link::Column::RevokedReason,
                Expr::value(RevokedReason::DeliveryFailed),
            )
            .filter(account_link::Column::ClientId.eq(client_id))
            .filter(account_link::Column::RevokedAt.is_null())
            .exec(&change)
            .await
            .unwrap();
        change.commit().await.unwrap();
    };
    let (during, ()) = tokio::join!(view(), fail);
    let after = view().await;
    let consistent = |v: &Value| {
        let client = &v["data"]["client"];
        let failed = client["emailDeliveries"][0]["status"] == "FAILED";
        let linked = client["activeLink"].is_object();
        failed != linked
    };
    assert!(
        consistent(&during),
        "read while the failure committed: {during}"
    );
    assert!(consistent(&after), "read after: {after}");
    assert_eq!(
        after["data"]["client"]["emailDeliveries"][0]["status"],
        "FAILED"
    );
}
