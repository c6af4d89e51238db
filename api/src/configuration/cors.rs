//! `CORS_ALLOWED_ORIGINS`: the browser apps on other origins that may call `/graphql`.
//! Exact origins only (`https://app.example`, `http://localhost:5173`), compared the
//! way browsers serialize the `Origin` header: scheme and host in lower case, no path.
use super::{ConfigError, err};

const VARIABLE: &str = "CORS_ALLOWED_ORIGINS";

/// Which origins get CORS headers; the default list is empty (no CORS headers at all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Only these exact origins (empty: none).
    #[default]
    None,
    Exact(Vec<String>),
    /// `*`: any origin (development only).
    Any,
}

impl CorsOrigins {
    /// True when a request with this `Origin` may read the answer.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            CorsOrigins::None => false,
            CorsOrigins::Exact(list) => list.iter().any(|o| o == origin),
            CorsOrigins::Any => true,
        }
    }

    /// True when no origin is allowed: the middleware then adds nothing.
    pub fn is_none(&self) -> bool {
        *self == CorsOrigins::None
    }
}

/// Parses the comma-separated list; a blank value is the empty list.
pub fn parse(value: Option<&str>) -> Result<CorsOrigins, ConfigError> {
    let Some(value) = value else {
        return Ok(CorsOrigins::None);
    };
    let entries: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() {
        return Ok(CorsOrigins::None);
    }
    if entries.contains(&"*") {
        if entries.len() > 1 {
            return Err(err(VARIABLE, "* cannot be combined with other origins"));
        }
        return Ok(CorsOrigins::Any);
    }
    entries
        .into_iter()
        .map(origin)
        .collect::<Result<Vec<_>, _>>()
        .map(CorsOrigins::Exact)
}

/// One origin, `http(s)://host[:port]`, lower-cased as browsers send it.
fn origin(entry: &str) -> Result<String, ConfigError> {
    let lower = entry.to_ascii_lowercase();
    let refuse = |why: &str| err(VARIABLE, format!("{entry:?} {why}"));
    let Some(authority) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return Err(refuse("is not an origin like https://app.example"));
    };
    let host_char = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
    if authority.is_empty() || !authority.chars().all(host_char) {
        return Err(refuse(
            "is not an origin like https://app.example (scheme and host[:port], no path)",
        ));
    }
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_blank_allows_no_origin() {
        assert_eq!(parse(None), Ok(CorsOrigins::None));
        assert_eq!(parse(Some(" , ")), Ok(CorsOrigins::None));
        assert!(!parse(None).unwrap().allows("https://app.example"));
    }

    #[test]
    fn exact_origins_are_matched_as_browsers_send_them() {
        let origins = parse(Some("https://App.Example, http://localhost:5173")).unwrap();
        assert!(origins.allows("https://app.example"));
        assert!(origins.allows("http://localhost:5173"));
        assert!(!origins.allows("https://app.example.evil"));
        assert!(!origins.allows("http://app.example"));
    }

    #[test]
    fn paths_wildcards_in_hosts_and_other_schemes_are_refused_by_name() {
        for bad in [
            "https://app.example/",
            "https://app.example/path",
            "app.example",
            "ftp://app.example",
            "https://*.example",
            "https://",
            "null",
            "*, https://app.example",
        ] {
            assert_eq!(parse(Some(bad)).unwrap_err().variable, VARIABLE, "{bad}");
        }
    }
}
