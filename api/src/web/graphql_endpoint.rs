//! `POST /graphql` with `application/json` only. GET and form or text bodies are
//! refused, so a cross-site form or image tag can never run a mutation (CSRF).
use super::WebState;
use crate::graphql::RequestContext;
use crate::graphql::error::ensure_codes;
use crate::service::sessions::{self, Viewer};
use async_graphql::{BatchRequest, BatchResponse};
use poem::http::{HeaderMap, StatusCode, header};
use poem::web::{Data, Json, RemoteAddr};
use poem::{Body, IntoResponse, Response, handler};
use serde_json::json;

/// An error answer outside GraphQL execution, shaped like a GraphQL response.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    Json(body).with_status(status).into_response()
}

/// Operations over GET are refused: GET must never change anything, and
/// accepting queries there would invite caching of private data.
#[handler]
pub fn refuse_get() -> Response {
    let mut resp = refuse(
        StatusCode::METHOD_NOT_ALLOWED,
        "BAD_USER_INPUT",
        "Send GraphQL operations as POST with Content-Type: application/json.",
    );
    resp.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    resp
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A JSON object with a string `query`, or an array of them. serde alone would also
/// take `[]` or `[1]` as a request (structs deserialize from sequences).
fn parse_request(bytes: &[u8]) -> Option<BatchRequest> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let is_operation = |v: &serde_json::Value| v.get("query").is_some_and(|q| q.is_string());
    match value {
        serde_json::Value::Object(_) if is_operation(&value) => {
            serde_json::from_value(value).ok().map(BatchRequest::Single)
        }
        serde_json::Value::Array(items) if items.iter().all(is_operation) => items
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<Vec<_>, _>>()
            .ok()
            .map(BatchRequest::Batch),
        _ => None,
    }
}

/// Executes a single operation or a batch.
#[handler]
pub async fn execute(
    headers: &HeaderMap,
    remote: &RemoteAddr,
    body: Body,
    Data(web): Data<&WebState>,
) -> Response {
    let limits = &web.app.settings.limits;
    if !is_json(headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_USER_INPUT",
            "Content-Type must be application/json.",
        );
    }
    let too_large = || {
        let message = format!(
            "The request body is larger than {} bytes.",
            limits.max_body_bytes
        );
        refuse(StatusCode::PAYLOAD_TOO_LARGE, "BAD_USER_INPUT", &message)
    };
    if declared_length(headers).is_some_and(|n| n > limits.max_body_bytes) {
        return too_large();
    }
    let bytes = match body.into_bytes_limit(limits.max_body_bytes).await {
        Ok(b) => b,
        Err(poem::error::ReadBodyError::PayloadTooLarge) => return too_large(),
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                "The request body could not be read.",
            );
        }
    };
    let Some(batch) = parse_request(&bytes) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "The body is not a GraphQL request: expected JSON like {\"query\": \"...\"}.",
        );
    };
    if let BatchRequest::Batch(items) = &batch
        && (items.is_empty() || items.len() > limits.max_batch)
    {
        let message = format!("A batch must hold 1 to {} operations.", limits.max_batch);
        return refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &message);
    }
    let viewer = match bearer(headers) {
        None => Viewer::Anonymous,
        Some(token) => match sessions::resolve(&web.app.db, token, web.app.clock.now()).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "session look-up failed");
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "The service is unavailable right now; try again shortly.",
                );
            }
        },
    };
    let ip = remote.as_socket_addr().map(|a| a.ip().to_string());
    let context = RequestContext { viewer, ip };
    let batch = batch.data(context);
    let mut response = web.schema.execute_batch(batch).await;
    match &mut response {
        BatchResponse::Single(r) => ensure_codes(r),
        BatchResponse::Batch(rs) => rs.iter_mut().for_each(ensure_codes),
    }
    Json(response).into_response()
}
