//! `POST /graphql` with `application/json` only. GET and form or text bodies are
//! refused, so a cross-site form or image tag can never run a mutation (CSRF).
//! Clients that accept `application/graphql-response+json` get it, with the status
//! codes of the GraphQL-over-HTTP spec; everyone else gets `application/json`.
use super::WebState;
use super::client_address::ClientAddress;
use super::graphql_summary::GraphqlSummary;
use crate::graphql::error::ensure_codes;
use crate::graphql::{OperationName, RequestContext};
use crate::service::sessions::Caller;
use async_graphql::{BatchRequest, BatchResponse};
use poem::http::{HeaderMap, StatusCode, header};
use poem::web::{Data, Json};
use poem::{Body, IntoResponse, Response, handler};
use serde_json::json;
use std::sync::Arc;

/// An error answer outside GraphQL execution, shaped like a GraphQL response.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut resp = Json(body).with_status(status).into_response();
    resp.extensions_mut().insert(GraphqlSummary::refused(code));
    resp
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

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// True when `Accept` lists `application/graphql-response+json` (and not with q=0).
fn wants_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            essence.eq_ignore_ascii_case(GRAPHQL_RESPONSE_JSON) && !refused
        })
}

/// Parse, validation or variable errors: nothing was executed. (Field errors always
/// carry a path; `ensure_codes` draws the same line.)
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// One result as `application/graphql-response+json` wants it: no `data` entry when
/// nothing was executed.
fn graphql_response_body(response: &async_graphql::Response) -> serde_json::Value {
    let mut value = serde_json::to_value(response).unwrap_or_else(|_| {
        json!({ "errors": [{ "message": "Internal error.", "extensions": { "code": "INTERNAL" } }] })
    });
    if is_request_error(response)
        && let Some(object) = value.as_object_mut()
    {
        object.remove("data");
    }
    value
}

/// The answer in the negotiated media type. With `application/graphql-response+json`,
/// a single request that failed before execution answers 400; with `application/json`,
/// every GraphQL result is 200, as older clients expect.
fn respond(response: BatchResponse, graphql_response: bool) -> Response {
    if !graphql_response {
        return Json(response).into_response();
    }
    let (status, body) = match &response {
        BatchResponse::Single(r) if is_request_error(r) => {
            (StatusCode::BAD_REQUEST, graphql_response_body(r))
        }
        BatchResponse::Single(r) => (StatusCode::OK, graphql_response_body(r)),
        BatchResponse::Batch(rs) => (
            StatusCode::OK,
            rs.iter()
                .map(graphql_response_body)
                .collect::<serde_json::Value>(),
        ),
    };
    Response::builder()
        .status(status)
        .content_type("application/graphql-response+json; charset=utf-8")
        .body(body.to_string())
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
    client: ClientAddress,
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
        Err(poem::error::ReadBodyError::Io(e)) if super::body_deadline::timed_out(&e) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                "BAD_USER_INPUT",
                "The request body did not arrive in time.",
            );
        }
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
    // The session is looked up when an operation first needs the viewer.
    let caller = Arc::new(Caller::new(bearer(headers)));
    let ip = client.text();
    let context = RequestContext { caller, ip };
    let (batch, names) = named(batch);
    let batch = batch.data(context);
    let mut response = web.schema.execute_batch(batch).await;
    match &mut response {
        BatchResponse::Single(r) => ensure_codes(r),
        BatchResponse::Batch(rs) => rs.iter_mut().for_each(ensure_codes),
    }
    let summary = GraphqlSummary::of(&names, &response);
    let mut resp = respond(response, wants_graphql_response(headers));
    resp.extensions_mut().insert(summary);
    resp
}

/// Gives each operation of `batch` a slot its name is recorded in.
fn named(batch: BatchRequest) -> (BatchRequest, Vec<OperationName>) {
    let with_slot = |r: async_graphql::Request| {
        let slot = OperationName::new(r.operation_name.clone());
        (r.data(slot.clone()), slot)
    };
    match batch {
        BatchRequest::Single(r) => {
            let (r, slot) = with_slot(r);
            (BatchRequest::Single(r), vec![slot])
        }
        BatchRequest::Batch(items) => {
            let (items, slots) = items.into_iter().map(with_slot).unzip();
            (BatchRequest::Batch(items), slots)
        }
    }
}
