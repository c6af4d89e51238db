//! The GraphiQL playground, with the Authorization header prepared for the token.
use poem::web::Html;
use poem::{IntoResponse, Response, handler};

const WELCOME: &str = r#"# Welcome to portal-access.
#
# 1. Sign in (create a provider first: `cargo run -p portal-api -- create-provider`):
#      mutation { signIn(input: {email: "you@practice.com", password: "..."}) { token } }
# 2. Open "Headers" below and paste the token:
#      {"Authorization": "Bearer pat_..."}
# 3. Then, for example:
#      mutation { createClient(input: {firstName: "Jane", lastName: "Doe", email: "jane@example.com"}) { client { id status } } }
#      query { clients(first: 10) { edges { node { id firstName lastName email status } } } }

query Me {
  me { ... on Provider { name email organization { name } } }
}
"#;

const DEFAULT_HEADERS: &str = r#"{"Authorization": "Bearer <paste the token from signIn>"}"#;

/// The playground page. GraphiQL itself loads from a CDN in the user's browser.
#[handler]
pub fn page() -> Response {
    let source = async_graphql::http::GraphiQLSource::build()
        .endpoint("/graphql")
        .title("portal-access GraphiQL")
        .finish();
    let settings = format!(
        "defaultEditorToolsVisibility: true,\n          defaultQuery: {},\n          defaultHeaders: {},\n          shouldPersistHeaders: true,",
        serde_json::Value::from(WELCOME),
        serde_json::Value::from(DEFAULT_HEADERS),
    );
    let html = source.replacen("defaultEditorToolsVisibility: true,", &settings, 1);
    Html(html)
        .with_header(
            "content-security-policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; \
         style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data: https:; \
         connect-src 'self'; frame-ancestors 'none'",
        )
        .into_response()
}
