//! The one error type services return; `graphql::error` maps it to `extensions.code`.
use crate::domain::{InvalidInput, WeakPassword};
use chrono::{DateTime, Utc};
use sea_orm::{DbErr, SqlErr};

/// Why an account link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    Expired,
    Used,
    Superseded,
    Invalid,
}

/// What a `RATE_LIMITED` answer limited, so it can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// R5: link emails a provider sends one client.
    ClientEmails,
    /// R5: self-service password resets for one client.
    PasswordResetEmails,
    /// Abuse limits on `signIn` and `clientSignIn`.
    SignIn,
    /// Abuse limits on looking up or using account links.
    AccountLinks,
    /// Abuse limits on `requestPasswordReset`.
    PasswordResetRequests,
}

impl Limited {
    fn message(self) -> &'static str {
        match self {
            Self::ClientEmails => "Too many emails sent to this client recently",
            Self::PasswordResetEmails => {
                "Too many password reset emails sent to this client recently"
            }
            Self::SignIn => "Too many sign-in attempts",
            Self::AccountLinks => "Too many attempts with account links",
            Self::PasswordResetRequests => "Too many password reset requests",
        }
    }
}

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
    #[error("This client has no email address; add one first.")]
    ClientHasNoEmail,
    #[error(
        "{field}: did you mean {suggestion}? Set confirmUnusualDomain to use the address as typed."
    )]
    LikelyTypo {
        field: &'static str,
        suggestion: String,
    },
    #[error("{}; try again after {next_available_at}.", limited.message())]
    RateLimited {
        limited: Limited,
        next_available_at: DateTime<Utc>,
        retry_after_seconds: i64,
    },
    #[error("{}", link_message(.0))]
    Link(LinkProblem),
    #[error("Change your password first.")]
    PasswordChangeRequired,
    #[error("{0} is unavailable right now; try again shortly.")]
    ServiceUnavailable(&'static str),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        if connection_lost(&e) {
            tracing::warn!(error = %e, "database unavailable");
            crate::startup::mark_connection_lost();
            return Self::ServiceUnavailable("The database");
        }
        Self::Unexpected(anyhow::Error::new(e).context("database error"))
    }
}

/// Whether `e` says the database could not be reached or dropped the connection
/// (restart, fail-over, `pg_terminate_backend`) rather than refused the statement:
/// those are worth retrying, so they answer `SERVICE_UNAVAILABLE`, not `INTERNAL`.
fn connection_lost(e: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, SqlxError};
    let sqlx = match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => s,
        _ => return false,
    };
    match sqlx.as_ref() {
        SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::Protocol(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed => true,
        // PostgreSQL: class 08 (connection exception), 57P01-57P03 (the server is
        // shutting down, crashed, or not accepting connections yet).
        SqlxError::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
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

fn link_message(problem: &LinkProblem) -> &'static str {
    match problem {
        LinkProblem::Expired => {
            "This link has expired. Ask the practice to send a new one, or use \"Forgot password\"."
        }
        LinkProblem::Used => {
            "This link was already used. Sign in with your password, or use \"Forgot password\"."
        }
        LinkProblem::Superseded => {
            "A newer link was sent, or the password was set another way. Use the newest email, or sign in."
        }
        LinkProblem::Invalid => "This link is not valid. Check that it was copied completely.",
    }
}
