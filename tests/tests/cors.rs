//! CORS on `/graphql` for browser apps on the origins in `CORS_ALLOWED_ORIGINS`, over
//! HTTP and in a real browser (tests/tests/cors/browser.rs).
use portal_tests::{Backend, TestApp, spawn_app, spawn_app_with};
use reqwest::Response;
use reqwest::header::HeaderMap;

#[path = "cors/browser.rs"]
mod browser;

const APP_ORIGIN: &str = "https://app.sunrise.test";
const OTHER_ORIGIN: &str = "https://evil.test";

async fn app_allowing(origins: &str) -> TestApp {
    spawn_app_with(Backend::Sqlite, &[("CORS_ALLOWED_ORIGINS", origins)]).await
}

async fn preflight(app: &TestApp, origin: &str, headers: &str) -> Response {
    app.http
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

async fn post_from(app: &TestApp, origin: &str, content_type: &str) -> Response {
    app.http
        .post(format!("{}/graphql", app.address))
        .header("origin", origin)
        .header("content-type", content_type)
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn cors_headers(headers: &HeaderMap) -> Vec<&str> {
    headers
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with("access-control-allow"))
        .collect()
}

fn varies_on_origin(headers: &HeaderMap) -> bool {
    headers.get_all("vary").iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("origin"))
    })
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_approves_json_posts_with_a_token() {
    let app = app_allowing(&format!("http://localhost:5173, {APP_ORIGIN}")).await;
    let resp = preflight(&app, APP_ORIGIN, "content-type, authorization").await;
    assert_eq!(resp.status(), 204);
    let h = resp.headers();
    assert_eq!(header(h, "access-control-allow-origin"), Some(APP_ORIGIN));
    assert_eq!(header(h, "access-control-allow-methods"), Some("POST"));
    let allowed = header(h, "access-control-allow-headers").unwrap_or_default();
    for name in ["content-type", "authorization"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert_eq!(header(h, "access-control-max-age"), Some("600"));
    assert!(varies_on_origin(h));
    assert!(header(h, "access-control-allow-credentials").is_none());
}

#[tokio::test]
async fn a_preflight_from_an_origin_not_on_the_list_gets_no_cors_headers() {
    let app = app_allowing(APP_ORIGIN).await;
    for (origin, headers) in [
        (OTHER_ORIGIN, "content-type, authorization"),
        ("https://app.sunrise.test.evil.test", "content-type"),
        ("http://app.sunrise.test", "content-type"),
        // An allowed origin asking for a header outside the list.
        (APP_ORIGIN, "content-type, x-forwarded-for"),
    ] {
        let resp = preflight(&app, origin, headers).await;
        assert_eq!(resp.status(), 403, "{origin} {headers}");
        assert_eq!(cors_headers(resp.headers()), Vec::<&str>::new(), "{origin}");
        assert!(varies_on_origin(resp.headers()));
    }
}

#[tokio::test]
async fn an_allowed_origin_may_read_answers_and_no_other_origin_may() {
    let app = app_allowing(APP_ORIGIN).await;
    let resp = post_from(&app, APP_ORIGIN, "application/json").await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(header(&h, "access-control-allow-origin"), Some(APP_ORIGIN));
    assert!(varies_on_origin(&h));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "QueryRoot");

    let resp = post_from(&app, OTHER_ORIGIN, "application/json").await;
    assert_eq!(cors_headers(resp.headers()), Vec::<&str>::new());
    assert!(varies_on_origin(resp.headers()));
}

#[tokio::test]
async fn cross_origin_get_and_text_plain_posts_still_run_nothing() {
    let app = app_allowing(APP_ORIGIN).await;
    // A simple request (no preflight) from an allowed origin still is no operation.
    let resp = post_from(&app, APP_ORIGIN, "text/plain").await;
    assert_eq!(resp.status(), 415);
    let resp = app
        .http
        .get(format!("{}/graphql?query=%7B__typename%7D", app.address))
        .header("origin", APP_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    // A preflight for anything but POST is not approved.
    let resp = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
        .header("origin", APP_ORIGIN)
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(cors_headers(resp.headers()), Vec::<&str>::new());
}

#[tokio::test]
async fn without_allowed_origins_no_answer_carries_cors_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    let resp = preflight(&app, APP_ORIGIN, "content-type").await;
    assert_ne!(resp.status(), 204);
    assert_eq!(cors_headers(resp.headers()), Vec::<&str>::new());
    let resp = post_from(&app, APP_ORIGIN, "application/json").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(cors_headers(resp.headers()), Vec::<&str>::new());
}
