//! The pages email links open: `GET /account/setup?token=…` shows the link's state
//! and never uses it (mail scanners cannot burn links); the form's `POST` does.
//! `GET/POST /account/forgot` asks for a password-reset link.
mod csrf;
mod render;

use super::WebState;
use super::client_address::ClientAddress;
use crate::error::AppError;
use crate::service::throttle::Action;
use crate::service::{links, reset_requests};
use entity::account_link::LinkKind;
use minijinja::context;
use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{IntoResponse, Request, Response, Route, get, handler};
use secrecy::SecretString;
use serde::Deserialize;

/// The account routes, mounted under `/account`.
pub fn routes() -> Route {
    Route::new()
        .at("/setup", get(setup_page).post(setup_submit))
        .at("/forgot", get(forgot_page).post(forgot_submit))
        .at("/style.css", get(style))
}

#[handler]
fn style() -> Response {
    render::STYLE
        .with_content_type("text/css; charset=utf-8")
        .with_header("cache-control", "public, max-age=3600")
        .into_response()
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
struct SetupForm {
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
struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

fn secure(web: &WebState) -> bool {
    web.app.settings.public_url.starts_with("https://")
}

/// The setup form (or the link's state), with a fresh CSRF token.
async fn show_setup(
    web: &WebState,
    token: &str,
    error: Option<String>,
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
        "VALID" if error.is_some() => StatusCode::UNPROCESSABLE_ENTITY,
        "VALID" => StatusCode::OK,
        "INVALID" => StatusCode::NOT_FOUND,
        _ => StatusCode::GONE,
    };
    let ctx = context! { state, first_name, practice, kind, token, csrf, error, suggestions };
    render::page(status, "setup.html", ctx)
        .with_header("set-cookie", csrf::cookie(&csrf, secure(web)))
        .into_response()
}

/// The page for an error the form cannot fix: too many attempts (429), or the
/// service being unavailable (503).
fn error_page(e: AppError) -> Response {
    if let AppError::RateLimited {
        retry_after_seconds,
        ..
    } = e
    {
        let minutes = (retry_after_seconds + 59) / 60;
        let message = format!("Too many attempts. Please try again in {minutes} minute(s).");
        return render::page(
            StatusCode::TOO_MANY_REQUESTS,
            "refused.html",
            context! { message },
        )
        .with_header("retry-after", retry_after_seconds.to_string())
        .into_response();
    }
    tracing::warn!(error = %e, "account page unavailable");
    let ctx = context! { message => "The portal is unavailable right now; try again in a minute." };
    render::page(StatusCode::SERVICE_UNAVAILABLE, "refused.html", ctx)
}

fn refused() -> Response {
    let ctx = context! { message => "This form expired or did not come from this site. Open the link from your email again." };
    render::page(StatusCode::FORBIDDEN, "refused.html", ctx)
}

#[handler]
async fn setup_page(
    req: &Request,
    Query(q): Query<TokenQuery>,
    Data(web): Data<&WebState>,
) -> Response {
    let throttle = &web.app.throttle;
    let ip = client_ip(req);
    let checked = throttle.check(Action::AccountLink, ip.as_deref(), &q.token);
    if let Err(e) = checked.await {
        return error_page(e);
    }
    show_setup(web, &q.token, None, vec![]).await
}

/// The client's address as decided for this request (behind proxies too).
fn client_ip(req: &Request) -> Option<String> {
    ClientAddress::of(req).text()
}

#[handler]
async fn setup_submit(
    req: &Request,
    Form(form): Form<SetupForm>,
    Data(web): Data<&WebState>,
) -> Response {
    if !csrf::verify(req, &form.csrf) {
        return refused();
    }
    if form.password != form.confirm {
        let error = "The two passwords differ.".to_owned();
        return show_setup(web, &form.token, Some(error), vec![]).await;
    }
    let ip = client_ip(req);
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
            let ctx = context! { practice, first_name => done.client.first_name, forms };
            render::page(StatusCode::OK, "done.html", ctx)
        }
        Err(AppError::WeakPassword(w)) => {
            show_setup(web, &form.token, Some(w.message), w.suggestions).await
        }
        Err(AppError::Link(_)) => show_setup(web, &form.token, None, vec![]).await,
        Err(e) => error_page(e),
    }
}

#[handler]
fn forgot_page(Data(web): Data<&WebState>) -> Response {
    let csrf = csrf::new_token();
    render::page(
        StatusCode::OK,
        "forgot.html",
        context! { csrf, sent => false },
    )
    .with_header("set-cookie", csrf::cookie(&csrf, secure(web)))
    .into_response()
}

#[handler]
async fn forgot_submit(
    req: &Request,
    Form(form): Form<ForgotForm>,
    Data(web): Data<&WebState>,
) -> Response {
    if !csrf::verify(req, &form.csrf) {
        return refused();
    }
    let ip = client_ip(req);
    // The same answer whether or not the address is known, and for malformed ones.
    if let Ok(email) = crate::domain::EmailAddress::parse(&form.email, "email")
        && let Err(e) = reset_requests::request(&web.app, email.normalized(), ip).await
    {
        return error_page(e);
    }
    render::page(StatusCode::OK, "forgot.html", context! { sent => true })
}
