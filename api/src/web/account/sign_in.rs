//! `GET/POST /account/sign-in` and `POST /account/sign-out`. Signing in goes
//! through the same service function as `clientSignIn`, so the same abuse limits
//! apply and an unknown address gets the same answer as a wrong password.
use super::render::{self, FieldErrors};
use super::session::{self, Visitor};
use super::{csrf, error_page, refused, remote_ip, secure, see_other};
use crate::domain::text::{MAX_EMAIL_CHARS, MAX_PASSWORD_BYTES};
use crate::error::AppError;
use crate::service::auth::{self, SigningOut};
use crate::service::client_accounts;
use crate::web::WebState;
use minijinja::context;
use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct SignInQuery {
    /// Set after signing out, to say so.
    #[serde(default)]
    out: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
pub(super) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// The sign-in form, with a fresh CSRF token.
fn show(web: &WebState, status: StatusCode, email: &str, errors: FieldErrors) -> Response {
    show_with_notice(web, status, email, errors, None)
}

fn show_with_notice(
    web: &WebState,
    status: StatusCode,
    email: &str,
    errors: FieldErrors,
    notice: Option<&str>,
) -> Response {
    let csrf = csrf::new_token();
    let ctx = context! { csrf, email, notice, ..errors.context() };
    render::page(status, "sign_in.html", ctx)
        .with_header("set-cookie", csrf::cookie(&csrf, secure(web)))
        .into_response()
}

#[handler]
pub(super) async fn page(
    req: &Request,
    Query(q): Query<SignInQuery>,
    Data(web): Data<&WebState>,
) -> Response {
    let stale = match session::visitor(req, web).await {
        Ok(Visitor::Client(_)) => return see_other("/account"),
        Ok(visitor) => matches!(visitor, Visitor::Stale),
        Err(e) => return error_page(e),
    };
    let notice = q.out.map(|_| "You are signed out.");
    let page = show_with_notice(web, StatusCode::OK, "", FieldErrors::default(), notice);
    match stale {
        true => page
            .with_header("set-cookie", session::clear(web))
            .into_response(),
        false => page,
    }
}

/// What is missing from the form, before any password work.
fn missing(form: &SignInForm) -> Option<FieldErrors> {
    if form.email.trim().is_empty() {
        return Some(FieldErrors::one("email", "Enter your email address."));
    }
    if form.password.is_empty() {
        return Some(FieldErrors::one("password", "Enter your password."));
    }
    None
}

#[handler]
pub(super) async fn submit(
    req: &Request,
    Form(form): Form<SignInForm>,
    Data(web): Data<&WebState>,
) -> Response {
    if !csrf::verify(req, &form.csrf) {
        return refused();
    }
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    if let Some(errors) = missing(&form) {
        return show(web, unprocessable, &form.email, errors);
    }
    let wrong = || FieldErrors::one("email", "The email address or the password is not right.");
    // Longer than anything that can match: the same answer as a wrong password
    // (clientSignIn refuses them as BAD_USER_INPUT before any work, too).
    if form.email.chars().count() > MAX_EMAIL_CHARS || form.password.len() > MAX_PASSWORD_BYTES {
        return show(web, unprocessable, "", wrong());
    }
    let ip = remote_ip(req);
    let password = form.password.into();
    match client_accounts::sign_in(&web.app, &form.email, password, ip).await {
        Ok(signed) => see_other("/account")
            .with_header("set-cookie", session::set(web, &signed.token))
            .into_response(),
        Err(AppError::InvalidCredentials) => show(web, unprocessable, &form.email, wrong()),
        Err(e) => error_page(e),
    }
}

#[handler]
pub(super) async fn sign_out(
    req: &Request,
    Form(form): Form<CsrfOnly>,
    Data(web): Data<&WebState>,
) -> Response {
    if !csrf::verify(req, &form.csrf) {
        return refused();
    }
    match session::visitor(req, web).await {
        Ok(Visitor::Client(actor)) => {
            let ip = remote_ip(req);
            if let Err(e) = auth::sign_out(&web.app, SigningOut::Client(actor), ip).await {
                return error_page(e);
            }
        }
        Ok(_) => {}
        Err(e) => return error_page(e),
    }
    see_other("/account/sign-in?out=1")
        .with_header("set-cookie", session::clear(web))
        .into_response()
}
