//! What one `POST /graphql` came to, handed from the endpoint to the access log and
//! the metrics through the response's extensions: the operation(s) and error codes.
use crate::graphql::OperationName;
use async_graphql::BatchResponse;
use std::collections::HashSet;
use std::sync::Mutex;

/// Distinct operation names the latency metric labels by; later names are `other`.
const MAX_OPERATION_LABELS: usize = 200;
/// Longest operation name kept as a label.
const MAX_OPERATION_NAME: usize = 64;

/// The GraphQL side of an answer.
#[derive(Debug, Clone, Default)]
pub struct GraphqlSummary {
    /// Operation names for the log, comma-separated for a batch (`anonymous` when unnamed).
    pub operation: String,
    /// The operation label of `graphql_operation_duration_seconds`.
    pub label: String,
    /// Distinct `extensions.code` values of the errors, in order of appearance.
    pub codes: Vec<String>,
}

impl GraphqlSummary {
    /// An answer refused before any operation was read.
    pub fn refused(code: &str) -> Self {
        Self {
            operation: String::new(),
            label: "none".into(),
            codes: vec![code.to_owned()],
        }
    }

    /// An executed request: the names its operations ran under and the codes of
    /// every error; counts the codes in `graphql_errors_total`.
    pub fn of(names: &[OperationName], response: &BatchResponse) -> Self {
        let names: Vec<Option<String>> = names.iter().map(OperationName::get).collect();
        let operation = names
            .iter()
            .map(|n| n.as_deref().unwrap_or("anonymous"))
            .collect::<Vec<_>>()
            .join(",");
        let label = match &names[..] {
            [one] => label(one.as_deref()),
            _ => "batch".to_owned(),
        };
        let responses = match response {
            BatchResponse::Single(r) => std::slice::from_ref(r),
            BatchResponse::Batch(rs) => rs.as_slice(),
        };
        let mut codes: Vec<String> = Vec::new();
        for error in responses.iter().flat_map(|r| &r.errors) {
            let code = error
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .and_then(|c| match c {
                    async_graphql::Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "INTERNAL".into());
            metrics::counter!(crate::telemetry::metrics::GRAPHQL_ERRORS, "code" => code.clone())
                .increment(1);
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        Self {
            operation,
            label,
            codes,
        }
    }
}

/// The metric label for an operation name: the name itself while it is a sane
/// GraphQL name and one of the first [`MAX_OPERATION_LABELS`] seen, so a caller
/// sending random names cannot grow the metric without bound.
fn label(name: Option<&str>) -> String {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let Some(name) = name else {
        return "anonymous".into();
    };
    let sane = name.len() <= MAX_OPERATION_NAME
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !sane {
        return "other".into();
    }
    let Ok(mut seen) = SEEN.lock() else {
        return "other".into();
    };
    let seen = seen.get_or_insert_with(HashSet::new);
    if seen.contains(name) || seen.len() < MAX_OPERATION_LABELS {
        seen.insert(name.to_owned());
        name.to_owned()
    } else {
        "other".into()
    }
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn operation_labels_are_sane_names_or_a_fixed_word() {
        assert_eq!(label(Some("ClientList")), "ClientList");
        assert_eq!(label(None), "anonymous");
        assert_eq!(label(Some("x y")), "other");
        assert_eq!(label(Some("9lives")), "other");
        assert_eq!(label(Some(&"a".repeat(65))), "other");
    }
}
