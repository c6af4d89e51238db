//! The one place where service errors become GraphQL errors with `extensions.code`.
use crate::error::{AppError, LinkProblem};
use async_graphql::{ErrorExtensions, Response};

/// Stable machine-readable codes clients switch on.
pub fn code(e: &AppError) -> &'static str {
    match e {
        AppError::Unauthenticated | AppError::InvalidCredentials | AppError::SessionExpired => {
            "UNAUTHENTICATED"
        }
        AppError::Forbidden => "FORBIDDEN",
        AppError::NotFound(_) => "NOT_FOUND",
        AppError::InvalidInput(_) => "BAD_USER_INPUT",
        AppError::EmailTaken | AppError::ProviderEmailTaken => "EMAIL_TAKEN",
        AppError::WeakPassword(_) => "WEAK_PASSWORD",
        AppError::ServiceUnavailable(_) => "SERVICE_UNAVAILABLE",
        AppError::ClientHasNoEmail => "CLIENT_HAS_NO_EMAIL",
        AppError::LikelyTypo { .. } => "BAD_USER_INPUT",
        AppError::RateLimited { .. } => "RATE_LIMITED",
        AppError::PasswordChangeRequired => "FORBIDDEN",
        AppError::Link(LinkProblem::Expired) => "LINK_EXPIRED",
        AppError::Link(LinkProblem::Used) => "LINK_USED",
        AppError::Link(LinkProblem::Superseded) => "LINK_SUPERSEDED",
        AppError::Link(LinkProblem::Invalid) => "LINK_INVALID",
        AppError::Unexpected(_) => "INTERNAL",
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        if let AppError::Unexpected(cause) = self {
            let error_id = uuid::Uuid::new_v4().to_string();
            tracing::error!(error_id, error = ?cause, "unexpected error");
            return async_graphql::Error::new(format!("Internal error; reference {error_id}."))
                .extend_with(|_, ext| {
                    ext.set("code", "INTERNAL");
                    ext.set("errorId", error_id.clone());
                });
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", code(self));
            match self {
                AppError::InvalidInput(i) => ext.set("field", i.field),
                AppError::WeakPassword(w) => ext.set("suggestions", w.suggestions.clone()),
                AppError::LikelyTypo { field, suggestion } => {
                    ext.set("field", *field);
                    ext.set("suggestion", suggestion.clone());
                }
                AppError::RateLimited {
                    next_available_at,
                    retry_after_seconds,
                    ..
                } => {
                    ext.set("retryAfterSeconds", *retry_after_seconds);
                    ext.set("nextAvailableAt", next_available_at.to_rfc3339());
                }
                AppError::PasswordChangeRequired => ext.set("reason", "PASSWORD_CHANGE_REQUIRED"),
                _ => {}
            }
        })
    }
}

/// async-graphql coerces arguments (and variables used in them) while resolving the
/// field, so a value of the wrong type (`input: 5` for an input object) or a declared
/// variable left out of `variables` fails with a path, like a resolver error. These
/// are async-graphql's messages for them; `tests/tests/hostile.rs` sends such values
/// and fails if they become `INTERNAL`.
fn is_input_value_error(message: &str) -> bool {
    message.starts_with("Expected input type \"")
        || message.starts_with("Failed to parse \"")
        || (message.starts_with("Variable ") && message.ends_with(" is not defined."))
}

/// `.gql()` on a service result: the only way resolvers turn `AppError` into GraphQL.
pub trait IntoGraphql<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> IntoGraphql<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.extend())
    }
}

/// Gives every error that left the executor without a code one: request-level
/// errors (syntax, validation, limits) and argument values that do not fit their type
/// are the caller's, other resolver errors are ours.
pub fn ensure_codes(response: &mut Response) {
    for error in &mut response.errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            let code = if error.path.is_empty() || is_input_value_error(&error.message) {
                "BAD_USER_INPUT"
            } else {
                "INTERNAL"
            };
            if code == "INTERNAL" {
                tracing::error!(message = %error.message, "resolver error without a code");
                error.message = "Internal error.".to_owned();
            }
            ext.set("code", code);
        }
    }
}
