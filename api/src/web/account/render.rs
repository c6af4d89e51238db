//! The account pages' HTML, from the templates next to this file (auto-escaped).
use minijinja::Environment;
use poem::http::StatusCode;
use poem::web::Html;
use poem::{IntoResponse, Response};
use std::sync::LazyLock;

static PAGES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    let sources = [
        ("base.html", include_str!("templates/base.html")),
        ("setup.html", include_str!("templates/setup.html")),
        ("done.html", include_str!("templates/done.html")),
        ("forgot.html", include_str!("templates/forgot.html")),
        ("refused.html", include_str!("templates/refused.html")),
    ];
    for (name, source) in sources {
        // Compiled into the binary; a broken template fails every page test.
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env
});

/// The stylesheet the pages link (no inline styles, so the CSP can forbid them).
pub const STYLE: &str = include_str!("templates/style.css");

/// Strict policy: nothing but our stylesheet, forms posting back to us, no framing.
pub const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// Renders `name` with `ctx` and the page headers.
pub fn page(status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
    let html = match PAGES.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, template = name, "page failed to render");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    Html(html)
        .with_status(status)
        .with_header("content-security-policy", CSP)
        .into_response()
}
