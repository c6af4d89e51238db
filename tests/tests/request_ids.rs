//! Request ids join a caller's logs with ours: a sane `X-Request-Id` or a W3C
//! `traceparent` is kept and echoed; anything else gets a fresh id.
use portal_tests::{Backend, spawn_app};

async fn echoed(app: &portal_tests::TestApp, header: Option<(&str, &str)>) -> String {
    let mut req = app.http.get(format!("{}/healthz", app.address));
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    let resp = req.send().await.unwrap();
    resp.headers()["x-request-id"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_request_id_or_trace_id_is_echoed_and_anything_else_replaced() {
    let app = spawn_app(Backend::Sqlite).await;
    let given = echoed(&app, Some(("x-request-id", "frontend-42.a"))).await;
    assert_eq!(given, "frontend-42.a");
    let traced = echoed(
        &app,
        Some((
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )),
    )
    .await;
    assert_eq!(traced, "4bf92f3577b34da6a3ce929d0e0e4736");
    let hostile = echoed(&app, Some(("x-request-id", "<script>alert(1)</script>"))).await;
    assert!(uuid::Uuid::parse_str(&hostile).is_ok(), "{hostile}");
    let none = echoed(&app, None).await;
    assert!(uuid::Uuid::parse_str(&none).is_ok(), "{none}");
}
