//! R5, the resend cap: five per client in any 24 hours, atomic across API processes,
//! refusing with the time of the next allowed resend, failing closed without Redis.
use access::clock::Clock;
use chrono::{DateTime, Duration, Utc};
use entity::{account_link, email_delivery};
use portal_tests::{
    Backend, Queue, ReservedPort, error_code, in_both_modes, spawn_app_with, spawn_mail_app,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

/// Redis losing the cap's windows.
mod resend {
    pub mod lost_store;
}

in_both_modes!(
    five_resends_pass_and_the_sixth_is_refused_until_a_slot_frees,
    a_resend_needs_an_email_and_a_client_of_ones_own_practice,
    self_service_resets_have_their_own_cap_and_never_use_up_the_providers,
);

async fn a_resend_needs_an_email_and_a_client_of_ones_own_practice(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let stranger = app.signed_in_provider("Other Practice").await;
    let no_email = app
        .create_client(&provider.token, "Jane", "Doe", None)
        .await;
    let no_email = no_email["data"]["createClient"]["client"]["id"]
        .as_str()
        .unwrap();
    let refused = app.resend(&provider.token, no_email).await;
    assert_eq!(error_code(&refused), Some("CLIENT_HAS_NO_EMAIL"));
    let view = app.client_view(&provider.token, no_email).await;
    assert_eq!(view["resendQuota"]["remaining"], 5, "nothing counted");

    let id = app
        .invite_client(&provider.token, "John", "john@example.com")
        .await;
    let foreign = app.resend(&stranger.token, &id).await;
    assert_eq!(error_code(&foreign), Some("NOT_FOUND"));
    let missing = app
        .resend(&provider.token, &Uuid::now_v7().to_string())
        .await;
    assert_eq!(error_code(&missing), Some("NOT_FOUND"));
    assert_eq!(
        foreign["errors"][0]["message"],
        missing["errors"][0]["message"]
    );
    let anonymous = app.resend("", &id).await;
    assert!(
        matches!(error_code(&anonymous), Some("UNAUTHENTICATED")),
        "{anonymous}"
    );
    // Who asks is answered first, whatever the input.
    let anonymous = app.resend("", "not-an-id").await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
    let malformed = app.resend(&provider.token, "not-an-id").await;
    assert_eq!(
        error_code(&malformed),
        Some("BAD_USER_INPUT"),
        "{malformed}"
    );
    // A session the service never issued (on PostgreSQL the statement that queues
    // the email checks it): refused as such, and nothing counted.
    let unknown = access::token::SessionToken::generate();
    let unknown = app.resend(unknown.expose(), &id).await;
    assert_eq!(error_code(&unknown), Some("UNAUTHENTICATED"), "{unknown}");
    let view = app.client_view(&provider.token, &id).await;
    assert_eq!(view["resendQuota"]["remaining"], 5, "nothing counted");

    // A client's own session cannot act as a provider.
    let invite = app.smtp().wait_for("john@example.com", 1).await[0]
        .token()
        .unwrap();
    let done = app
        .complete_link(&invite, portal_tests::mail::CLIENT_PASSWORD)
        .await;
    let client_token = done["data"]["completeAccountLink"]["token"]
        .as_str()
        .unwrap();
    let forbidden = app.resend(client_token, &id).await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"));
}

async fn deliveries_of(app: &portal_tests::TestApp, client_id: &str) -> u64 {
    email_delivery::Entity::find()
        .filter(email_delivery::Column::ClientId.eq(Uuid::parse_str(client_id).unwrap()))
        .count(&app.state.db)
        .await
        .unwrap()
}

fn time(value: &serde_json::Value) -> DateTime<Utc> {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a time: {value}"))
        .parse()
        .unwrap()
}

async fn five_resends_pass_and_the_sixth_is_refused_until_a_slot_frees(
    backend: Backend,
    queue: Queue,
) {
    // The provider stays signed in across the simulated day.
    let app = spawn_mail_app(backend, queue, &[("SESSION_TTL_SECS", "172800")]).await;
    let provider = app.signed_in_provider("Practice").await;
    let client_id = app
        .invite_client(&provider.token, "Jane", "jane@example.com")
        .await;

    let first_at = app.clock.now();
    for expected_left in (0..5).rev() {
        let body = app.resend(&provider.token, &client_id).await;
        let payload = &body["data"]["resendWelcomeEmail"];
        assert_eq!(payload["resendsRemaining"], expected_left, "{body}");
        app.clock.advance(Duration::minutes(10));
    }
    let view = app.client_view(&provider.token, &client_id).await;
    assert_eq!(view["resendQuota"]["limit"], 5);
    assert_eq!(view["resendQuota"]["remaining"], 0);
    assert_eq!(view["resendQuota"]["windowSeconds"], 86_400);

    let rows_before = deliveries_of(&app, &client_id).await;
    let refused = app.resend(&provider.token, &client_id).await;
    assert_eq!(error_code(&refused), Some("RATE_LIMITED"), "{refused}");
    let ext = &refused["errors"][0]["extensions"];
    let next = time(&ext["nextAvailableAt"]);
    let expected = first_at + Duration::hours(24);
    assert!(
        (next - expected).num_seconds().abs() <= 1,
        "{next} vs {expected}"
    );
    let retry_after = ext["retryAfterSeconds"].as_i64().unwrap();
    assert!(
        (retry_after - (24 * 3600 - 50 * 60)).abs() <= 2,
        "{retry_after}"
    );
    assert_eq!(time(&view["resendQuota"]["nextAvailableAt"]), next);
    // Refused means nothing written, queued or sent.
    assert_eq!(deliveries_of(&app, &client_id).await, rows_before);
    let actions = app.audit_actions(&client_id).await;
    assert!(actions.iter().any(|a| a == "email.rate_limited"));
    // A full window is told only to a provider of the client's practice.
    let stranger = app.signed_in_provider("Other Practice").await;
    let foreign = app.resend(&stranger.token, &client_id).await;
    assert_eq!(error_code(&foreign), Some("NOT_FOUND"), "{foreign}");
    let unknown = access::token::SessionToken::generate();
    let unknown = app.resend(unknown.expose(), &client_id).await;
    assert_eq!(error_code(&unknown), Some("UNAUTHENTICATED"), "{unknown}");

    // Just before the oldest leaves the window: still refused. Just after: allowed.
    app.clock
        .advance(next - app.clock.now() - Duration::seconds(5));
    let still = app.resend(&provider.token, &client_id).await;
    assert_eq!(error_code(&still), Some("RATE_LIMITED"));
    app.clock.advance(Duration::seconds(6));
    let freed = app.resend(&provider.token, &client_id).await;
    assert_eq!(
        freed["data"]["resendWelcomeEmail"]["resendsRemaining"], 0,
        "{freed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_resends_through_two_instances_let_exactly_five_through() {
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[]).await;
    let other = app.sibling(true).await;
    let provider = app.signed_in_provider("Practice").await;
    let client_id = app
        .invite_client(&provider.token, "Jane", "jane@example.com")
        .await;

    let calls = (0..50).map(|i| {
        let target = if i % 2 == 0 { &app } else { &other };
        target.resend(&provider.token, &client_id)
    });
    let answers = futures_util::future::join_all(calls).await;
    let ok = answers
        .iter()
        .filter(|a| a["data"]["resendWelcomeEmail"].is_object())
        .count();
    let limited = answers
        .iter()
        .filter(|a| error_code(a) == Some("RATE_LIMITED"))
        .count();
    assert_eq!((ok, limited), (5, 45), "{answers:?}");

    app.wait_deliveries_settled(&provider.token, &client_id)
        .await;
    let id = Uuid::parse_str(&client_id).unwrap();
    let live = account_link::Entity::find()
        .filter(account_link::Column::ClientId.eq(id))
        .filter(account_link::Column::UsedAt.is_null())
        .filter(account_link::Column::RevokedAt.is_null())
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(live, 1, "exactly one live link remains");
    let sent = email_delivery::Entity::find()
        .filter(email_delivery::Column::ClientId.eq(id))
        .filter(email_delivery::Column::Status.eq("sent"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert!(sent >= 1);
    // The one live link is the one in the newest email received.
    let mail = app.smtp().messages_to("jane@example.com");
    let newest = mail.last().and_then(|m| m.token()).unwrap();
    assert_eq!(app.link_status(&newest).await["state"], "VALID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_a_resend_is_refused_and_nothing_is_written() {
    // Held for the whole test: nothing can start listening there.
    let port = ReservedPort::new();
    let dead = format!("redis://127.0.0.1:{}", port.port);
    let prefix = format!("test:{}", Uuid::new_v4().simple());
    let app = spawn_app_with(
        Backend::Postgres,
        &[("REDIS_URL", &dead), ("REDIS_KEY_PREFIX", &prefix)],
    )
    .await;
    let provider = app.signed_in_provider("Practice").await;
    let body = app
        .graphql(
            "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } invite { id } } }",
            json!({ "i": { "firstName": "Jane", "lastName": "Doe", "email": "jane@example.com", "sendInvite": false } }),
            Some(&provider.token),
        )
        .await;
    let client_id = body["data"]["createClient"]["client"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        body["data"]["createClient"]["invite"],
        serde_json::Value::Null
    );

    let refused = app.resend(&provider.token, &client_id).await;
    assert_eq!(
        error_code(&refused),
        Some("SERVICE_UNAVAILABLE"),
        "{refused}"
    );
    assert_eq!(deliveries_of(&app, &client_id).await, 0);
    let actions = app.audit_actions(&client_id).await;
    assert_eq!(actions, vec!["client.created".to_owned()]);
    // The client view still answers; only the quota is unknown.
    let view = app.client_view(&provider.token, &client_id).await;
    assert_eq!(view["resendQuota"], serde_json::Value::Null);
    assert_eq!(view["email"], "jane@example.com");
}

/// Link emails of the client counted against `cap`.
async fn counted(app: &portal_tests::TestApp, client_id: &str, cap: email_delivery::Cap) -> u64 {
    email_delivery::Entity::find()
        .filter(email_delivery::Column::ClientId.eq(Uuid::parse_str(client_id).unwrap()))
        .filter(email_delivery::Column::CountedIn.eq(cap))
        .count(&app.state.db)
        .await
        .unwrap()
}

async fn self_service_resets_have_their_own_cap_and_never_use_up_the_providers(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let client_id = app
        .invite_client(&provider.token, "Jane", "jane@example.com")
        .await;

    // A stranger asks four times; the self-service cap (3 a day) lets three through.
    for _ in 0..4 {
        let body = app
            .graphql(
                "mutation { requestPasswordReset(email: \"jane@example.com\") }",
                json!({}),
                None,
            )
            .await;
        assert_eq!(body["data"]["requestPasswordReset"], true, "{body}");
    }
    // The requests are answered first and handled after; wait for all four.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let refused = app
            .audit_actions(&client_id)
            .await
            .iter()
            .any(|a| a == "email.rate_limited");
        let sent = counted(&app, &client_id, email_delivery::Cap::SelfService).await;
        if refused && sent == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "expected 3 resets and 1 refusal, saw {sent} resets, refused: {refused}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // The provider's quota is untouched.
    let view = app.client_view(&provider.token, &client_id).await;
    assert_eq!(view["resendQuota"]["remaining"], 5, "{view}");
    let body = app.resend(&provider.token, &client_id).await;
    assert_eq!(
        body["data"]["resendWelcomeEmail"]["resendsRemaining"], 4,
        "{body}"
    );
    assert_eq!(
        counted(&app, &client_id, email_delivery::Cap::Provider).await,
        1
    );
}
