//! CORS for `/graphql`, for browser apps on the origins in `CORS_ALLOWED_ORIGINS`.
//!
//! Not poem's `Cors` middleware, which (poem 3.1) answers preflights with 200, sends
//! `Vary: Origin` only for wildcard matches (a cache could then serve one origin's
//! answer to another), treats an empty list as "every origin", refuses requests from
//! unlisted origins outright (also GraphiQL's own same-origin POSTs, which carry an
//! `Origin` header), and accepts a preflight when any one requested header is allowed.
//!
//! CORS only decides which pages may *read* answers. It does not replace the CSRF
//! defence: operations still run only from `application/json` POSTs, which a browser
//! sends cross-origin only after a preflight this middleware approved.
use crate::configuration::CorsOrigins;
use poem::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use std::sync::Arc;

/// How long a browser may cache an approved preflight (seconds).
pub const MAX_AGE_SECS: u32 = 600;
const ALLOWED_METHODS: &str = "POST";
/// Request headers a browser app may send, lower case as browsers list them.
const ALLOWED_HEADERS: &[&str] = &["accept", "authorization", "content-type"];

fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN)?.to_str().ok()
}

/// True when every header the preflight asks for is one we allow.
fn headers_allowed(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .all(|value| {
            value.to_str().is_ok_and(|list| {
                list.split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .all(|h| ALLOWED_HEADERS.contains(&h.as_str()))
            })
        })
}

fn vary_origin(resp: &mut Response) {
    resp.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Origin"));
}

/// The answer to `OPTIONS` with `Access-Control-Request-Method`: 204 with the
/// `Access-Control-Allow-*` headers when origin, method and headers are allowed;
/// otherwise 403 without them, so the browser refuses the real request.
fn preflight(origins: &CorsOrigins, headers: &HeaderMap) -> Response {
    let method_allowed = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .is_some_and(|m| m.as_bytes() == ALLOWED_METHODS.as_bytes());
    let allowed_origin = origin(headers).filter(|o| origins.allows(o));
    let mut resp = match allowed_origin {
        Some(o) if method_allowed && headers_allowed(headers) => Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, o)
            .header(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS)
            .header(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                ALLOWED_HEADERS.join(", "),
            )
            .header(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECS)
            .finish(),
        _ => StatusCode::FORBIDDEN.into_response(),
    };
    vary_origin(&mut resp);
    resp
}

/// Wraps `/graphql`: answers preflights, and lets allowed origins read answers.
/// With no origin configured it adds nothing.
pub async fn cors<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    origins: Arc<CorsOrigins>,
) -> poem::Result<Response> {
    if origins.is_none() {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let is_preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        return Ok(preflight(&origins, req.headers()));
    }
    let allowed = origin(req.headers())
        .filter(|o| origins.allows(o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let mut resp = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    if let Some(o) = allowed {
        resp.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        resp.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id"),
        );
    }
    vary_origin(&mut resp);
    Ok(resp)
}
