//! Domain newtypes: once parsed, a value is valid for the rest of its life.

mod cursor;
mod email;
mod name;
mod password;
#[cfg(test)]
mod proptests;
pub mod text;
mod typo;

pub use access::token::{LinkToken, SessionToken};
pub use cursor::ClientCursor;
pub use email::EmailAddress;
pub use name::PersonName;
pub use password::{NewPassword, WeakPassword};
pub use text::SearchTerm;
pub use typo::suggestion as typo_suggestion;

/// Why a user-supplied value was refused; the message is safe to show back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidInput {
    /// The GraphQL input field the value came from (`email`, `firstName`, ...).
    pub field: &'static str,
    pub message: String,
}

impl InvalidInput {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
