//! The same story in both modes: embedded (SQLite, nothing else) and production
//! (PostgreSQL + Redis), with readiness reflecting what is configured.
use portal_tests::{Backend, PASSWORD, PRODUCTION, Queue, spawn_app_with, spawn_mail_app};
use serde_json::{Value, json};

async fn provider_creates_and_lists_a_client(app: &portal_tests::TestApp) {
    app.create_provider("Sunrise Clinic", "doc@sunrise.test")
        .await;
    let signed = app.sign_in("doc@sunrise.test", PASSWORD).await;
    let token = signed["data"]["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = app
        .create_client(&token, "Jane", "Doe", Some("jane@example.com"))
        .await;
    assert!(created["errors"].is_null(), "{created}");
    let list = app
        .graphql(
            "{ clients { edges { node { firstName email status } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        list["data"]["clients"]["edges"][0]["node"]["email"],
        "jane@example.com"
    );
}

async fn readiness(app: &portal_tests::TestApp) -> (u16, Value) {
    let resp = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_mode_needs_nothing_but_a_sqlite_file() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    assert!(app.state.redis.is_none());
    provider_creates_and_lists_a_client(&app).await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 200);
    assert_eq!(body["redis"], "not configured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mode_runs_on_postgres_and_checks_redis() {
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, PRODUCTION).await;
    provider_creates_and_lists_a_client(&app).await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["redis"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_when_redis_does_not_answer() {
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        format!("redis://127.0.0.1:{port}")
    };
    let app = spawn_app_with(Backend::Postgres, &[("REDIS_URL", &dead)]).await;
    let (status, body) = readiness(&app).await;
    assert_eq!(status, 503);
    assert_eq!(body["redis"], "unavailable");
    assert_eq!(body["database"], "ok");
}
