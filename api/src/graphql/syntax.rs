//! Syntax errors as one line a person can act on. The parser (pest, through
//! async-graphql 7.2) reports them as a multi-line drawing of the document with
//! rule names (`" --> 1:71 … = expected name"`); clients show that message as is.
use async_graphql::ServerError;
use async_graphql::parser::{Error, parse_query};

/// The error for a document that does not parse: "Syntax error at line 1, column 71:
/// expected name", with the position in `locations` as well.
pub fn error(query: &str) -> ServerError {
    match parse_query(query) {
        Err(Error::Syntax { message, start, .. }) => ServerError::new(
            format!(
                "Syntax error at line {}, column {}: {}",
                start.line,
                start.column,
                expectation(&message)
            ),
            Some(start),
        ),
        Err(other) => {
            let position = other.positions().next();
            ServerError::new(one_line(&other.to_string()), position)
        }
        Ok(_) => ServerError::new("The document could not be parsed.", None),
    }
}

/// The `= …` part of pest's drawing, with its rule names in words.
fn expectation(message: &str) -> String {
    let last = message
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("= "))
        .unwrap_or("unexpected text");
    let words = last
        .replace("EOI", "the end of the document")
        .replace('_', " ");
    one_line(&words)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::error;

    #[test]
    fn a_syntax_error_is_one_line_with_line_and_column() {
        let e = error("{ me { __typename } \n  signIn(input: { email: }) }");
        assert!(!e.message.contains('\n'), "{}", e.message);
        assert!(
            e.message.starts_with("Syntax error at line 2, column "),
            "{}",
            e.message
        );
        assert!(e.message.contains("expected"), "{}", e.message);
        assert_eq!(e.locations.len(), 1);
        let e = error("{ me { ");
        assert!(
            e.message.starts_with("Syntax error at line 1, column 8: "),
            "{}",
            e.message
        );
    }
}
