//! GraphQL over HTTP conformance: the `graphql-http` server audit (conformance/audit.mjs)
//! against the real app, plus the media-type negotiation it relies on.
use portal_tests::{Backend, error_code, spawn_app};
use serde_json::Value;
use std::path::PathBuf;
use tokio::process::Command;

/// Audits that may answer `warn` or `notice`, each explained in README
/// "GraphQL over HTTP conformance". Anything else not `ok` fails the test.
const EXPECTED_NOT_OK: &[&str] = &[
    "5A70", // MAY accept GET: refused on purpose (CSRF, caching of private data)
    "D6D5", // MAY accept variables in GET: same
    "6A70", // MAY accept variables in GET: same
];

fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("conformance")
}

async fn run(program: &str, args: &[&str], dir: &PathBuf) -> std::process::Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{program}` ({e}). The conformance audit needs Node.js 18+ and npm: \
                 `apt-get install nodejs npm` (Debian) or see https://nodejs.org, then \
                 `npm ci --prefix conformance`."
            )
        })
}

/// `conformance/`, with its npm packages installed.
async fn prepared_conformance_dir() -> PathBuf {
    let dir = conformance_dir();
    if !dir.join("node_modules").join("graphql-http").exists() {
        let npm = run("npm", &["ci", "--no-audit", "--no-fund"], &dir).await;
        assert!(
            npm.status.success(),
            "npm ci in conformance/ failed:\n{}{}",
            String::from_utf8_lossy(&npm.stdout),
            String::from_utf8_lossy(&npm.stderr)
        );
    }
    dir
}

/// Runs `conformance/introspection.mjs <mode>` against a development app; its report.
async fn introspection_script(mode: &str) -> (bool, String) {
    let dir = prepared_conformance_dir().await;
    let app = spawn_app(Backend::Sqlite).await;
    let url = format!("{}/graphql", app.address);
    let schema = dir.join("..").join("schema.graphql");
    let schema = schema.to_string_lossy();
    let out = run("node", &["introspection.mjs", mode, &url, &schema], &dir).await;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_js_introspection_succeeds_and_rebuilds_the_committed_schema() {
    let (ok, report) = introspection_script("schema").await;
    assert!(ok, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let (ok, report) = introspection_script("descriptions").await;
    assert!(ok, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_http_server_audit_passes_every_must() {
    let dir = prepared_conformance_dir().await;
    let app = spawn_app(Backend::Sqlite).await;
    let url = format!("{}/graphql", app.address);
    let audit = run("node", &["audit.mjs", &url], &dir).await;
    let stdout = String::from_utf8_lossy(&audit.stdout);
    let report = format!("{stdout}{}", String::from_utf8_lossy(&audit.stderr));
    println!("{report}");
    assert!(audit.status.success(), "a MUST audit failed:\n{report}");

    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains(" [")).collect();
    assert!(lines.len() > 50, "the audit ran too few checks:\n{report}");
    let unexpected: Vec<&&str> = lines
        .iter()
        .filter(|l| !l.starts_with("ok "))
        .filter(|l| {
            !EXPECTED_NOT_OK
                .iter()
                .any(|id| l.contains(&format!("[{id}]")))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "audits not ok and not explained in the README:\n{unexpected:#?}"
    );
}

async fn post(
    app: &portal_tests::TestApp,
    accept: &str,
    body: &'static str,
) -> (u16, String, Value) {
    let resp = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    (status, content_type, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_response_json_answers_request_errors_with_400_and_no_data() {
    let app = spawn_app(Backend::Sqlite).await;
    let modern = "application/graphql-response+json, application/json;q=0.9";

    let (status, content_type, body) = post(&app, modern, r#"{"query":"{ nope }"}"#).await;
    assert_eq!(status, 400);
    assert!(content_type.starts_with("application/graphql-response+json"));
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));

    // A field error is not a request error: 200, with `data`.
    let (status, _, body) = post(&app, modern, r#"{"query":"{ client(id: \"1\") { id } }"}"#).await;
    assert_eq!(status, 200);
    assert!(body.get("data").is_some(), "{body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));

    // Legacy clients keep application/json and 200 for every GraphQL result.
    for accept in [
        "application/json",
        "*/*",
        "application/graphql-response+json;q=0",
    ] {
        let (status, content_type, body) = post(&app, accept, r#"{"query":"{ nope }"}"#).await;
        assert_eq!(status, 200, "{accept}");
        assert!(content_type.starts_with("application/json"), "{accept}");
        assert!(body["data"].is_null(), "{body}");
    }
}
