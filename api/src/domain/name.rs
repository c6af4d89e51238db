//! A person's first or last name.
use super::InvalidInput;

const MAX_CHARS: usize = 100;

/// A trimmed, non-empty name of at most 100 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Parses user input; `field` names the input for the error.
    pub fn parse(input: &str, field: &'static str) -> Result<Self, InvalidInput> {
        let value = input.trim();
        if value.is_empty() {
            return Err(InvalidInput::new(field, format!("{field} is required.")));
        }
        if value.chars().count() > MAX_CHARS {
            return Err(InvalidInput::new(
                field,
                format!("{field} is longer than {MAX_CHARS} characters."),
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(InvalidInput::new(
                field,
                format!("{field} contains control characters."),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::PersonName;

    #[test]
    fn names_are_trimmed() {
        let n = PersonName::parse("  Zoë  ", "firstName").unwrap();
        assert_eq!(n.as_str(), "Zoë");
    }

    #[test]
    fn blank_long_and_control_names_are_refused() {
        assert!(PersonName::parse(" \t ", "firstName").is_err());
        assert!(PersonName::parse(&"x".repeat(101), "firstName").is_err());
        assert!(PersonName::parse("a\u{0}b", "firstName").is_err());
        let err = PersonName::parse("", "lastName").unwrap_err();
        assert_eq!(err.field, "lastName");
    }
}
