//! Sign-in input and payload.
use super::datetime::DateTime;
use super::viewer::Provider;
use async_graphql::{InputObject, SimpleObject};

/// Credentials; the password is never logged or echoed.
#[derive(InputObject)]
pub struct SignInInput {
    /// The email address signed in with.
    pub email: String,
    /// The password.
    #[graphql(secret)]
    pub password: String,
}

/// A new session: send `token` as `Authorization: Bearer <token>`.
#[derive(SimpleObject)]
pub struct SignInPayload {
    /// Bearer token of the new session; shown once.
    pub token: String,
    /// When the session ends.
    pub expires_at: DateTime,
    /// The signed-in provider.
    pub provider: Provider,
}
