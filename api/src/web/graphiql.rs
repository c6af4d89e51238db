//! The GraphiQL playground, served entirely by the service (no CDN): the page, and
//! GraphiQL's files embedded in the binary ([`assets`]). The page prepares a welcome
//! query and the Authorization header for the token.
mod assets;

pub use assets::{ROUTE as ASSET_ROUTE, asset};

use assets::Kind;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use poem::web::Html;
use poem::{IntoResponse, Response, handler};
use rand::RngCore;

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

/// The page's policy: only the service's own origin. Scripts and styles are the
/// embedded files; the settings are a JSON block, not a script; GraphiQL's fonts and
/// icons are `data:` URLs in its stylesheet; queries go to `/graphql`. The one
/// inline thing GraphiQL makes, the `<style>` its dialogs add, carries the
/// per-page `nonce`, so `style-src` needs no `'unsafe-inline'`.
fn csp(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// A fresh nonce for each page: 128 random bits.
fn nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn render(nonce: &str) -> String {
    let settings = serde_json::json!({
        "endpoint": "/graphql",
        "defaultQuery": WELCOME,
        "defaultHeaders": DEFAULT_HEADERS,
        "styleNonce": nonce,
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
}

/// `GET /graphiql`: the playground page (never cached: its nonce is its own).
#[handler]
pub fn page() -> Response {
    let nonce = nonce();
    Html(render(&nonce))
        .with_header("content-security-policy", csp(&nonce))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn the_settings_block_cannot_be_closed_by_its_text() {
        let page = render("n0nce");
        let block = page.split("id=\"graphiql-settings\">").nth(1).unwrap();
        let json = block.split("</script>").next().unwrap();
        assert!(!json.contains('<'), "{json}");
        let settings: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(settings["styleNonce"], "n0nce");
        assert!(
            settings["defaultHeaders"]
                .as_str()
                .unwrap()
                .contains("<paste")
        );
    }
}
