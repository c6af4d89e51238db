//! The client's pages, server-rendered without JavaScript. Email links open them:
//! `/account/setup?token=…` (never used up by being opened; the form's `POST` does
//! it), `/account/forgot`, `/account/sign-in` and `/account`, the signed-in client's
//! home (forms, messages, password). Every `POST` is CSRF-protected.
mod csrf;
mod home;
mod render;
mod session;
mod setup;
mod sign_in;
mod view;

use super::WebState;
use super::client_address::ClientAddress;
use crate::error::AppError;
use minijinja::context;
use poem::error::ReadBodyError;
use poem::http::Method;
use poem::http::StatusCode;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler, post};
use std::sync::Arc;

/// The largest form a page posts: an intake form's answers (at most 32 KiB as
/// JSON) percent-encoded, with room to spare.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The account routes, mounted under `/account`.
pub fn routes() -> impl Endpoint<Output = Response> {
    Route::new()
        .at("/", get(home::page))
        .at("/intake", post(home::submit_form))
        .at("/password", post(home::change_password))
        .at("/sign-in", get(sign_in::page).post(sign_in::submit))
        .at("/sign-out", post(sign_in::sign_out))
        .at("/setup", get(setup::setup_page).post(setup::setup_submit))
        .at(
            "/forgot",
            get(setup::forgot_page).post(setup::forgot_submit),
        )
        .at("/style.css", get(style))
        .around(limit_form)
}

/// Reads a form post whole, refusing one larger than any page sends (413) before
/// a handler parses it.
async fn limit_form<E: Endpoint>(next: Arc<E>, mut req: Request) -> poem::Result<Response> {
    if req.method() == Method::POST {
        match req.take_body().into_bytes_limit(MAX_FORM_BYTES).await {
            Ok(bytes) => req.set_body(bytes),
            Err(ReadBodyError::PayloadTooLarge) => {
                let ctx = context! { message => "The form is larger than this page accepts." };
                return Ok(render::page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "refused.html",
                    ctx,
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    next.call(req).await.map(IntoResponse::into_response)
}

#[handler]
fn style() -> Response {
    render::STYLE
        .with_content_type("text/css; charset=utf-8")
        .with_header("cache-control", "public, max-age=3600")
        .into_response()
}

/// Whether the site is served over https (cookies are then `Secure`).
fn secure(web: &WebState) -> bool {
    web.app.settings.public_url.starts_with("https://")
}

/// The client's address as decided for this request (behind proxies too).
fn remote_ip(req: &Request) -> Option<String> {
    ClientAddress::of(req).text()
}

/// A `303 See Other` to `location` (after a form post, or to sign in).
fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header("location", location)
        .finish()
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
    if let AppError::NotFound(what) = e {
        let message = format!("{what} not found: it may have been removed by the practice.");
        return render::page(StatusCode::NOT_FOUND, "refused.html", context! { message });
    }
    tracing::warn!(error = %e, "account page unavailable");
    let ctx = context! { message => "The portal is unavailable right now; try again in a minute." };
    render::page(StatusCode::SERVICE_UNAVAILABLE, "refused.html", ctx)
}

fn refused() -> Response {
    let ctx = context! { message => "This form expired or did not come from this site. Go back, reload the page and try again." };
    render::page(StatusCode::FORBIDDEN, "refused.html", ctx)
}
