//! Sign-in input and payload.
use super::viewer::Provider;
use async_graphql::{InputObject, SimpleObject};
use chrono::{DateTime, Utc};

/// Credentials; the password is never logged or echoed.
#[derive(InputObject)]
pub struct SignInInput {
    pub email: String,
    #[graphql(secret)]
    pub password: String,
}

/// A new session: send `token` as `Authorization: Bearer <token>`.
#[derive(SimpleObject)]
pub struct SignInPayload {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub provider: Provider,
}
