//! The signed-in client's cookie. Its value is a session token like the bearer ones
//! (same table, see `service::sessions`), so whatever ends those sessions ends it
//! too: sign-out, `changePassword` elsewhere, `setClientPassword`, expiry.
//! `__Host-portal_session` (HttpOnly, SameSite=Lax, Secure, Path=/) over https;
//! over plain http (development) browsers refuse `__Host-` and `Secure` cookies, so
//! it is `portal_session` without `Secure`.
use super::secure;
use crate::error::AppError;
use crate::service::sessions::{self, ClientActor, Viewer};
use crate::web::WebState;
use poem::Request;

fn name(secure: bool) -> &'static str {
    match secure {
        true => "__Host-portal_session",
        false => "portal_session",
    }
}

/// The value of the cookie called `name`, when the request carries one.
pub(super) fn cookie<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// The `Set-Cookie` value carrying a new session's token.
pub(super) fn set(web: &WebState, token: &str) -> String {
    let secure = secure(web);
    let max_age = web.app.settings.session_ttl.as_secs();
    let attributes = if secure { "; Secure" } else { "" };
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{attributes}",
        name(secure)
    )
}

/// The `Set-Cookie` value that removes the cookie.
pub(super) fn clear(web: &WebState) -> String {
    let secure = secure(web);
    let attributes = if secure { "; Secure" } else { "" };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{attributes}",
        name(secure)
    )
}

/// What the cookie says about the visitor.
pub(super) enum Visitor {
    /// No cookie.
    Anonymous,
    /// A cookie whose session ended (or never was a client's): to be cleared.
    Stale,
    Client(ClientActor),
}

/// Resolves the request's cookie to the signed-in client, if any.
pub(super) async fn visitor(req: &Request, web: &WebState) -> Result<Visitor, AppError> {
    let Some(token) = cookie(req, name(secure(web))) else {
        return Ok(Visitor::Anonymous);
    };
    let now = web.app.clock.now();
    Ok(match sessions::resolve(&web.app.db, token, now).await? {
        Viewer::Client(actor) => Visitor::Client(actor),
        _ => Visitor::Stale,
    })
}
