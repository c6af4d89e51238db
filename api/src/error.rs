//! The one error type services return; `graphql::error` maps it to `extensions.code`.
use crate::domain::{InvalidInput, WeakPassword};
use sea_orm::{DbErr, SqlErr};

/// Everything a service can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Sign in to do this.")]
    Unauthenticated,
    #[error("Email or password is incorrect.")]
    InvalidCredentials,
    #[error("Your session has expired or was signed out; sign in again.")]
    SessionExpired,
    #[error("You are not allowed to do this.")]
    Forbidden,
    #[error("{0} not found.")]
    NotFound(&'static str),
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    #[error("Another client of this practice already uses this email address.")]
    EmailTaken,
    #[error("A provider with this email address already exists.")]
    ProviderEmailTaken,
    #[error(transparent)]
    WeakPassword(#[from] WeakPassword),
    #[error("{0} is unavailable right now; try again shortly.")]
    ServiceUnavailable(&'static str),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        match e {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
                Self::ServiceUnavailable("The database")
            }
            other => Self::Unexpected(anyhow::Error::new(other).context("database error")),
        }
    }
}

/// Turns a unique-constraint violation into `taken`, anything else into an `AppError`;
/// the one place that knows how databases report duplicates.
pub fn unique_violation_as(e: DbErr, taken: AppError) -> AppError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => taken,
        _ => e.into(),
    }
}
