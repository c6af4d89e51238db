//! `DateTime`, an instant as an RFC 3339 string. Ours rather than async-graphql's
//! chrono scalar, whose description (7.2) reads "Implement the DateTime<Utc> scalar".
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::Utc;

/// An instant in UTC (chrono's `DateTime<Utc>`) in the GraphQL schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// A date-time string as RFC 3339 defines it, with its offset from UTC, such as
/// `2026-11-30T14:05:09.123+00:00`. The service always answers in UTC (`+00:00`).
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => Ok(DateTime(s.parse::<chrono::DateTime<Utc>>()?)),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(instant: chrono::DateTime<Utc>) -> Self {
        DateTime(instant)
    }
}
