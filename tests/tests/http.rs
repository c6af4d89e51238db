//! GraphQL over HTTP: only JSON POSTs run operations; limits hold; errors carry codes.
use portal_tests::{
    Backend, PRODUCTION, Queue, error_code, on_both_databases, spawn_app, spawn_app_with,
    spawn_mail_app,
};
use serde_json::{Value, json};

#[path = "http/graphiql.rs"]
mod graphiql;

on_both_databases!(health_and_metrics_answer);

async fn health_and_metrics_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    app.graphql("{ __typename }", json!({}), None).await;
    let metrics = app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("http_requests_total")
    );
}

#[tokio::test]
async fn a_mutation_over_get_is_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let url = format!("{}/graphql?query=mutation%7BsignOut%7D", app.address);
    let resp = app.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn text_plain_and_form_bodies_are_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let operation = r#"{"query":"mutation { signOut }"}"#;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
    ] {
        let resp = app
            .http
            .post(format!("{}/graphql", app.address))
            .header("content-type", content_type)
            .body(operation)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 415, "{content_type}");
    }
    let none = app
        .http
        .post(format!("{}/graphql", app.address))
        .body(operation)
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 415);
    let with_charset = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("content-type", "Application/JSON; charset=utf-8")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(with_charset.status(), 200);
}

#[tokio::test]
async fn an_oversized_body_gets_413() {
    let app = spawn_app_with(Backend::Sqlite, &[("GRAPHQL_MAX_BODY_BYTES", "2048")]).await;
    let padding = " ".repeat(4096);
    let body = format!(r#"{{"query":"{{ __typename {padding} }}"}}"#);
    let resp = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    // A chunked body without Content-Length is cut off at the limit too.
    let stream = futures_stream(format!(r#"{{"query":"{{ __typename {padding} }}"}}"#));
    let resp = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body(stream)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
}

fn futures_stream(text: String) -> reqwest::Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = text
        .into_bytes()
        .chunks(512)
        .map(|c| Ok(c.to_vec()))
        .collect();
    reqwest::Body::wrap_stream(tokio_stream_iter(chunks))
}

fn tokio_stream_iter(
    items: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    futures_util::stream::iter(items)
}

#[tokio::test]
async fn too_deep_too_complex_and_alias_flooded_queries_are_refused() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("GRAPHQL_MAX_DEPTH", "4"), ("GRAPHQL_MAX_ALIASES", "5")],
    )
    .await;
    // Five fields deep outside introspection (introspection has its own limit).
    let deep = "{ me { ... on Provider { organization { name { x { y } } } } } }";
    let body = app.graphql(deep, json!({}), None).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nested"),
        "{body}"
    );
    let aliases: String = (0..6).map(|i| format!("a{i}: __typename ")).collect();
    let body = app
        .graphql(&format!("{{ {aliases} }}"), json!({}), None)
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliases")
    );
    let five: String = (0..5).map(|i| format!("a{i}: __typename ")).collect();
    let body = app.graphql(&format!("{{ {five} }}"), json!({}), None).await;
    assert!(body["errors"].is_null(), "{body}");

    let app = spawn_app_with(Backend::Sqlite, &[("GRAPHQL_MAX_COMPLEXITY", "50")]).await;
    let body = app
        .graphql(
            "{ clients(first: 100) { edges { node { id firstName } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_requests_and_batches_get_clear_errors() {
    let app = spawn_app_with(Backend::Sqlite, &[("GRAPHQL_MAX_BATCH", "3")]).await;
    let post = |body: &'static str| {
        app.http
            .post(format!("{}/graphql", app.address))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for bad in ["{", "[]", "42", r#"{"query": 5}"#] {
        let resp = post(bad).await.unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{bad}");
    }
    let big_batch = post(
        r#"[{"query":"{__typename}"},{"query":"{__typename}"},{"query":"{__typename}"},{"query":"{__typename}"}]"#,
    );
    assert_eq!(big_batch.await.unwrap().status(), 400);
    let batch: Value = post(r#"[{"query":"{__typename}"},{"query":"{ nope }"}]"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(batch[0]["data"]["__typename"], "QueryRoot");
    assert_eq!(error_code(&batch[1]), Some("BAD_USER_INPUT"));
    let syntax = app.graphql("{ me { ", json!({}), None).await;
    assert_eq!(error_code(&syntax), Some("BAD_USER_INPUT"));
    // One line with where and what, not the parser's drawing of the document.
    let message = syntax["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Syntax error at line 1, column 8: expected ")
            && !message.contains('\n'),
        "{message}"
    );
    assert_eq!(syntax["errors"][0]["locations"][0]["column"], 8, "{syntax}");
}

#[tokio::test]
async fn production_hides_graphiql_and_introspection_and_sets_security_headers() {
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, PRODUCTION).await;
    let resp = app
        .http
        .get(format!("{}/graphiql", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let (_, graphiql_js) = graphiql::graphiql_file("graphiql.min.js");
    let resp = app.http.get(format!("{}{graphiql_js}", app.address));
    assert_eq!(resp.send().await.unwrap().status(), 404, "{graphiql_js}");
    let body = app
        .graphql("{ __schema { queryType { name } } }", json!({}), None)
        .await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection answers nothing: {body}"
    );
    let resp = app
        .http
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    for header in [
        "x-content-type-options",
        "x-frame-options",
        "content-security-policy",
        "cache-control",
        "x-request-id",
        "strict-transport-security",
        "cross-origin-opener-policy",
        "permissions-policy",
    ] {
        assert!(resp.headers().contains_key(header), "{header}");
    }
}
