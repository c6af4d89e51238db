//! Bounds on the free text that no other parser bounds: the client search, form
//! descriptions and questions, tokens and sign-in credentials. Every string argument
//! has a documented maximum (README, "Request limits"); over it the answer is
//! `BAD_USER_INPUT` naming the field, before any database or password work.
use super::InvalidInput;

/// Longest `clients(search:)`: the longest email address, so any stored address can
/// be searched for whole. (SQLite refuses LIKE patterns over 50,000 bytes with an
/// error, and long patterns cost time on every row.)
pub const MAX_SEARCH_CHARS: usize = 254;
/// Longest intake form description.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Longest intake form question.
pub const MAX_QUESTION_CHARS: usize = 500;
/// Longest link token accepted; the service hands out 47-character ones.
pub const MAX_TOKEN_CHARS: usize = 256;
/// Longest email address (RFC 5321), for sign-in where the address is not parsed.
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest password offered at sign-in; new passwords are held to 256 bytes.
pub const MAX_PASSWORD_BYTES: usize = 1_024;

/// Refuses `value` when it has more than `max` characters.
pub fn bounded<'a>(
    value: &'a str,
    field: &'static str,
    max: usize,
) -> Result<&'a str, InvalidInput> {
    // Counting stops at max + 1, so a huge value costs no more than a short one.
    if value.chars().nth(max).is_some() {
        return Err(InvalidInput::new(
            field,
            format!("{field} is longer than {max} characters."),
        ));
    }
    Ok(value)
}

/// Refuses a password longer than [`MAX_PASSWORD_BYTES`] without echoing it.
pub fn bounded_password<'a>(value: &'a str, field: &'static str) -> Result<&'a str, InvalidInput> {
    if value.len() > MAX_PASSWORD_BYTES {
        return Err(InvalidInput::new(
            field,
            format!("{field} is longer than {MAX_PASSWORD_BYTES} bytes."),
        ));
    }
    Ok(value)
}

/// What `clients(search:)` looks for: at most [`MAX_SEARCH_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// `None` for no search or a blank one.
    pub fn parse(input: Option<&str>) -> Result<Option<Self>, InvalidInput> {
        let Some(text) = input.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(Self(
            bounded(text, "search", MAX_SEARCH_CHARS)?.to_owned(),
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_up_to_the_bound_is_kept_and_a_longer_one_names_the_field() {
        let at = "é".repeat(MAX_SEARCH_CHARS);
        assert_eq!(SearchTerm::parse(Some(&at)).unwrap().unwrap().as_str(), at);
        let err = SearchTerm::parse(Some(&"x".repeat(50_000))).unwrap_err();
        assert_eq!(err.field, "search");
        assert_eq!(SearchTerm::parse(Some("  ")).unwrap(), None);
        assert_eq!(SearchTerm::parse(None).unwrap(), None);
    }

    #[test]
    fn bounds_count_characters_and_passwords_count_bytes() {
        assert!(bounded(&"中".repeat(500), "questions", 500).is_ok());
        assert_eq!(
            bounded(&"中".repeat(501), "questions", 500)
                .unwrap_err()
                .field,
            "questions"
        );
        assert!(bounded_password(&"x".repeat(MAX_PASSWORD_BYTES), "password").is_ok());
        let err = bounded_password(&"中".repeat(400), "password").unwrap_err();
        assert!(!err.message.contains('中'));
    }
}
