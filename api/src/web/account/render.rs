//! The account pages' HTML, from the templates next to this file (auto-escaped).
use minijinja::{Environment, context};
use poem::http::StatusCode;
use poem::web::Html;
use poem::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::sync::LazyLock;

static PAGES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    let sources = [
        ("base.html", include_str!("templates/base.html")),
        ("setup.html", include_str!("templates/setup.html")),
        ("done.html", include_str!("templates/done.html")),
        ("forgot.html", include_str!("templates/forgot.html")),
        ("refused.html", include_str!("templates/refused.html")),
        ("errors.html", include_str!("templates/errors.html")),
        ("fields.html", include_str!("templates/fields.html")),
        ("sign_in.html", include_str!("templates/sign_in.html")),
        ("home.html", include_str!("templates/home.html")),
        (
            "password_required.html",
            include_str!("templates/password_required.html"),
        ),
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

/// What was wrong with a submitted form, field by field: the error summary lists
/// them (each a link to its field) and each field is `aria-invalid` and described
/// by its message.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    /// One field's problem.
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![(field.into(), message.into())])
    }

    /// Whether any field is at fault.
    pub fn has_any(&self) -> bool {
        !self.0.is_empty()
    }

    /// `errors` (the summary's list) and `invalid` (message by field) for a template.
    pub fn context(&self) -> minijinja::Value {
        let errors: Vec<_> = self
            .0
            .iter()
            .map(|(field, message)| context! { field, message })
            .collect();
        let invalid: BTreeMap<&str, &str> = self
            .0
            .iter()
            .map(|(f, m)| (f.as_str(), m.as_str()))
            .collect();
        context! { errors, invalid }
    }
}

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
