//! The URLs of the stores: the database (PostgreSQL, or SQLite in the embedded mode)
//! and Redis. A bad one is reported without its value, which may carry a password.

use super::{ConfigError, err};
use secrecy::SecretString;

const DEFAULT_DATABASE_URL: &str = "sqlite://portal.db?mode=rwc";

pub(super) fn parse_database_url(value: Option<String>) -> Result<SecretString, ConfigError> {
    let url = value.unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    let url = url.trim();
    let valid = match url.split_once("://") {
        Some(("postgres" | "postgresql", rest)) => {
            !rest.is_empty() && !rest.contains(char::is_whitespace)
        }
        Some(("sqlite", rest)) => !rest.is_empty(),
        _ => url.starts_with("sqlite:") && url.len() > "sqlite:".len(),
    };
    if !valid {
        // The value may carry a password: say what is wrong, not what it is.
        return Err(err(
            "DATABASE_URL",
            "cannot be parsed; expected postgres://user@host:port/db or sqlite://path?mode=rwc",
        ));
    }
    if !cfg!(feature = "sqlite") && url.starts_with("sqlite:") {
        return Err(err(
            "DATABASE_URL",
            "is SQLite, and this build has no SQLite (its `sqlite` feature is off); use postgres://user@host:port/db",
        ));
    }
    Ok(SecretString::from(url.to_owned()))
}

pub(super) fn parse_redis_url(value: String) -> Result<SecretString, ConfigError> {
    let url = value.trim().to_owned();
    redis::Client::open(url.as_str()).map_err(|_| {
        err(
            "REDIS_URL",
            "cannot be parsed; expected redis://host:port[/db]",
        )
    })?;
    Ok(SecretString::from(url))
}
