//! The email pipeline against a real SMTP server: permanent refusals, an absent
//! server, and a worker restarted with mail still queued.
use entity::email_delivery;
use portal_tests::{
    Backend, Queue, ReservedPort, SmtpSink, in_both_modes, spawn_mail_app, spawn_mail_app_with,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::time::Duration;

/// The Redis queue's housekeeping, how workers share a backlog, and what a client's
/// view shows of its emails.
mod delivery {
    pub mod backlog;
    pub mod redis_queue;
    pub mod snapshot;
}

in_both_modes!(
    a_permanent_refusal_fails_at_once_with_the_reason,
    a_queued_email_whose_push_was_lost_is_swept_and_sent,
);

async fn a_queued_email_whose_push_was_lost_is_swept_and_sent(backend: Backend, queue: Queue) {
    use access::outbox::{self, Outgoing};
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let body = app
        .graphql(
            "mutation { createClient(input: {firstName: \"Jane\", lastName: \"Doe\", email: \"jane@example.com\", sendInvite: false}) { client { id } } }",
            serde_json::json!({}),
            Some(&provider.token),
        )
        .await;
    let id = body["data"]["createClient"]["client"]["id"]
        .as_str()
        .unwrap();
    let client_id = uuid::Uuid::parse_str(id).unwrap();
    // An outbox row committed without its job (as if Redis blinked at the push).
    let client = entity::client::Entity::find_by_id(client_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let email = Outgoing::link_for(&client, "jane@example.com");
    let now = chrono::Utc::now();
    outbox::enqueue(&app.state.db, client_id, email, client.link_generation, now)
        .await
        .unwrap();
    let mail = app.smtp().wait_for("jane@example.com", 1).await;
    assert!(mail[0].token().is_some());
}

async fn a_permanent_refusal_fails_at_once_with_the_reason(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    app.smtp().refuse("bounce@example.com");
    let provider = app.signed_in_provider("Practice").await;
    let id = app
        .invite_client(&provider.token, "Jane", "bounce@example.com")
        .await;

    let view = app.wait_deliveries_settled(&provider.token, &id).await;
    let delivery = &view["emailDeliveries"][0];
    assert_eq!(delivery["status"], "FAILED", "{view}");
    assert_eq!(delivery["attempts"], 1, "a 5xx is not retried");
    let reason = delivery["lastError"].as_str().unwrap();
    assert!(reason.contains("550"), "{reason}");
    // Read again: one view's fields are read one after another, not in one snapshot,
    // so the view that first showed the failure may have read the link before it.
    let view = app.client_view(&provider.token, &id).await;
    assert_eq!(
        view["activeLink"],
        Value::Null,
        "the undelivered link was taken back"
    );
    let actions = app.audit_actions(&id).await;
    assert!(
        actions.iter().any(|a| a == "email.delivery_failed"),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_mail_server_down_delivery_is_retried_until_it_is_back() {
    let port = ReservedPort::new();
    let url = format!("smtp://127.0.0.1:{}", port.port);
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[("SMTP_URL", &url)]).await;
    let provider = app.signed_in_provider("Practice").await;
    let id = app
        .invite_client(&provider.token, "Jane", "jane@example.com")
        .await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let view = loop {
        let view = app.client_view(&provider.token, &id).await;
        if view["emailDeliveries"][0]["attempts"].as_i64().unwrap_or(0) >= 2
            || tokio::time::Instant::now() > deadline
        {
            break view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let delivery = &view["emailDeliveries"][0];
    assert!(
        delivery["attempts"].as_i64().unwrap_or(0) >= 2,
        "not retried in 20 s: {view}"
    );
    assert!(
        ["QUEUED", "SENDING"].contains(&delivery["status"].as_str().unwrap()),
        "{view}"
    );
    assert!(
        delivery["lastError"].as_str().unwrap().contains("SMTP"),
        "{view}"
    );

    let sink = SmtpSink::start_on(port).expect("the held port listens");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sink.messages_to("jane@example.com").is_empty() && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mail = sink.messages_to("jane@example.com");
    assert_eq!(mail.len(), 1);
    let link = mail[0].token().unwrap();
    assert_eq!(app.link_status(&link).await["state"], "VALID");
    let view = app.wait_deliveries_settled(&provider.token, &id).await;
    assert_eq!(view["emailDeliveries"][0]["status"], "SENT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_restarted_with_mail_queued_sends_everything_once() {
    // An API without a worker queues twenty invites.
    let api = spawn_mail_app_with(Backend::Postgres, Queue::Redis, &[], false).await;
    let provider = api.signed_in_provider("Practice").await;
    let addresses: Vec<String> = (0..20).map(|i| format!("client{i}@example.com")).collect();
    for (i, address) in addresses.iter().enumerate() {
        api.invite_client(&provider.token, &format!("Client{i}"), address)
            .await;
    }
    assert!(api.smtp().messages().is_empty());

    // A worker starts, sends some, and is stopped; a new one takes over.
    let first = api.sibling(true).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while api.smtp().messages().len() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.stop().await;
    let second = api.sibling(true).await;
    for address in &addresses {
        api.smtp().wait_for(address, 1).await;
    }
    // Give a duplicate every chance to show up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for address in &addresses {
        assert_eq!(
            api.smtp().messages_to(address).len(),
            1,
            "{address} got one email"
        );
    }
    let rows = email_delivery::Entity::find()
        .filter(email_delivery::Column::Status.ne("sent"))
        .all(&api.state.db)
        .await
        .unwrap();
    assert!(rows.is_empty(), "all sent: {rows:?}");
    drop(second);
}
