//! The GraphiQL playground, served entirely by the service (no CDN): the page, and
//! GraphiQL's files embedded in the binary ([`assets`]). The page prepares a welcome
//! query and the Authorization header for the token.
mod assets;

pub use assets::{ROUTE as ASSET_ROUTE, asset};

use assets::Kind;
use poem::web::Html;
use poem::{IntoResponse, Response, handler};
use std::sync::LazyLock;

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

/// Only the service's own origin: scripts and styles are the embedded files, the
/// page's settings are a JSON block (not a script), GraphiQL's fonts and icons are
/// `data:` URLs in its stylesheet, and queries go to `/graphql`.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static PAGE: LazyLock<String> = LazyLock::new(|| {
    let settings = serde_json::json!({
        "endpoint": "/graphql",
        "defaultQuery": WELCOME,
        "defaultHeaders": DEFAULT_HEADERS,
    });
    // `<` escaped, so no text in the settings can close the block.
    let settings = settings.to_string().replace('<', "\\u003c");
    let styles: String = assets::paths(Kind::Style)
        .map(|p| format!("    <link rel=\"stylesheet\" href=\"{p}\">\n"))
        .collect();
    let scripts: String = assets::paths(Kind::Script)
        .map(|p| format!("    <script src=\"{p}\"></script>\n"))
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>portal-access GraphiQL</title>
    <link rel="icon" href="data:,">
{styles}  </head>
  <body>
    <div id="graphiql">Loading…</div>
    <script type="application/json" id="graphiql-settings">{settings}</script>
{scripts}  </body>
</html>
"#
    )
});

/// `GET /graphiql`: the playground page.
#[handler]
pub fn page() -> Response {
    Html(PAGE.as_str())
        .with_header("content-security-policy", CSP)
        .into_response()
}
