//! `GET /account/setup?token=…` shows the link's state and never uses it (mail
//! scanners cannot burn links); the form's `POST` does. `GET/POST /account/forgot`
//! asks for a password-reset link.
use super::render::{self, FieldErrors};
use super::{csrf, error_page, refused, remote_ip, secure};
use crate::error::AppError;
use crate::service::throttle::Action;
use crate::service::{links, reset_requests};
use crate::web::WebState;
use entity::account_link::LinkKind;
use minijinja::context;
use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{IntoResponse, Request, Response, handler};
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub(super) struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
pub(super) struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

/// The setup form (or the link's state), with a fresh CSRF token.
async fn show_setup(
    web: &WebState,
    token: &str,
    errors: FieldErrors,
    suggestions: Vec<String>,
) -> Response {
    let found = match links::find(&web.app.db, token, web.app.clock.now()).await {
        Ok(found) => found,
        Err(e) => return error_page(e),
    };
    let csrf = csrf::new_token();
    let view = links::LinkView::of(found);
    let (first_name, practice) = (view.first_name, view.practice);
    let state = view.state.as_str();
    let kind = view.kind.map(|k| match k {
        LinkKind::Invite => "INVITE",
        LinkKind::PasswordReset => "PASSWORD_RESET",
    });
    let status = match state {
        "VALID" if errors.has_any() => StatusCode::UNPROCESSABLE_ENTITY,
        "VALID" => StatusCode::OK,
        "INVALID" => StatusCode::NOT_FOUND,
        _ => StatusCode::GONE,
    };
    let sign_in_url = sign_in_url(web);
    let ctx = context! {
        state, first_name, practice, kind, token, csrf, suggestions, sign_in_url,
        ..errors.context()
    };
    render::page(status, "setup.html", ctx)
        .with_header("set-cookie", csrf::cookie(&csrf, secure(web)))
        .into_response()
}

/// Where "sign in" leads. The URL was checked at start-up (no quotes, spaces or
/// angle brackets), and escaping its slashes would only make the page harder to read.
fn sign_in_url(web: &WebState) -> minijinja::Value {
    minijinja::Value::from_safe_string(web.app.settings.client_sign_in_url())
}

#[handler]
pub(super) async fn setup_page(
    req: &Request,
    Query(q): Query<TokenQuery>,
    Data(web): Data<&WebState>,
) -> Response {
    let throttle = &web.app.throttle;
    let ip = remote_ip(req);
    let checked = throttle.check(Action::AccountLink, ip.as_deref(), &q.token);
    if let Err(e) = checked.await {
        return error_page(e);
    }
    show_setup(web, &q.token, FieldErrors::default(), vec![]).await
}

#[handler]
pub(super) async fn setup_submit(
    req: &Request,
    Form(form): Form<SetupForm>,
    Data(web): Data<&WebState>,
) -> Response {
    if !csrf::verify(req, &form.csrf) {
        return refused();
    }
    if form.password != form.confirm {
        let errors = FieldErrors::one("confirm", "The two passwords differ.");
        return show_setup(web, &form.token, errors, vec![]).await;
    }
    let ip = remote_ip(req);
    let password = SecretString::from(form.password);
    match links::complete(&web.app, &form.token, password, ip).await {
        Ok(done) => {
            let practice =
                crate::service::providers::organization(&web.app.db, done.client.organization_id)
                    .await
                    .map(|o| o.name)
                    .unwrap_or_default();
            let forms: Vec<String> = done
                .pending_forms
                .into_iter()
                .map(|(_, f)| f.title)
                .collect();
            let sign_in_url = sign_in_url(web);
            let first_name = done.client.first_name;
            let ctx = context! { practice, first_name, forms, sign_in_url };
            render::page(StatusCode::OK, "done.html", ctx)
        }
        Err(AppError::WeakPassword(w)) => {
            let errors = FieldErrors::one("password", w.message);
            show_setup(web, &form.token, errors, w.suggestions).await
        }
        Err(AppError::Link(_)) => {
            show_setup(web, &form.token, FieldErrors::default(), vec![]).await
        }
        Err(e) => error_page(e),
    }
}

#[handler]
pub(super) fn forgot_page(Data(web): Data<&WebState>) -> Response {
    show_forgot(web, StatusCode::OK, FieldErrors::default())
}

fn show_forgot(web: &WebState, status: StatusCode, errors: FieldErrors) -> Response {
    let csrf = csrf::new_token();
    let ctx = context! { csrf, sent => false, ..errors.context() };
    render::page(status, "forgot.html", ctx)
        .with_header("set-cookie", csrf::cookie(&csrf, secure(web)))
        .into_response()
}

#[handler]
pub(super) async fn forgot_submit(
    req: &Request,
    Form(form): Form<ForgotForm>,
    Data(web): Data<&WebState>,
) -> Response {
    if !csrf::verify(req, &form.csrf) {
        return refused();
    }
    if form.email.trim().is_empty() {
        let errors = FieldErrors::one("email", "Enter your email address.");
        return show_forgot(web, StatusCode::UNPROCESSABLE_ENTITY, errors);
    }
    let ip = remote_ip(req);
    // The same answer whether or not the address is known, and for malformed ones.
    if let Ok(email) = crate::domain::EmailAddress::parse(&form.email, "email")
        && let Err(e) = reset_requests::request(&web.app, email.normalized(), ip).await
    {
        return error_page(e);
    }
    render::page(StatusCode::OK, "forgot.html", context! { sent => true })
}
