//! Reading one variable: numbers within the range that makes sense, durations the
//! calendar can hold, booleans. Out of range is refused, never clamped or wrapped:
//! a setting that silently became 0 once switched the resend cap off.
use super::{ConfigError, err};
use std::time::Duration;

/// The longest duration any setting may hold (ten years). The service adds
/// durations to dates with chrono, which cannot represent ~292 million years and
/// whose calendar ends in year 262143 (`now + duration` would panic); ten years is
/// far beyond any sensible window, lifetime or delay.
pub const MAX_DURATION_SECS: u64 = 10 * 365 * 24 * 3600;

/// The environment as the settings read it: a blank value counts as unset.
pub struct Vars<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Vars<'a> {
    pub fn new(get: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { get }
    }

    /// The trimmed value, `None` when unset or blank.
    pub fn text(&self, name: &str) -> Option<String> {
        (self.get)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A whole number from 1 to `max`, or `default` when unset.
    pub fn number(&self, name: &'static str, default: u64, max: u64) -> Result<u64, ConfigError> {
        let Some(text) = self.text(name) else {
            return Ok(default);
        };
        let all_digits = text.bytes().all(|b| b.is_ascii_digit());
        match text.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            Ok(n) if n > max => Err(too_large(name, &text, max)),
            Err(_) if all_digits => Err(too_large(name, &text, max)),
            _ => Err(err(
                name,
                format!("{text:?} is not a positive whole number"),
            )),
        }
    }

    /// [`Vars::number`] for settings held in a `u32` (`max` must fit one).
    pub fn number_u32(
        &self,
        name: &'static str,
        default: u32,
        max: u32,
    ) -> Result<u32, ConfigError> {
        let n = self.number(name, u64::from(default), u64::from(max))?;
        u32::try_from(n).map_err(|_| too_large(name, &n.to_string(), u64::from(max)))
    }

    /// [`Vars::number`] for sizes and counts held in a `usize`.
    pub fn number_usize(
        &self,
        name: &'static str,
        default: usize,
        max: usize,
    ) -> Result<usize, ConfigError> {
        let n = self.number(name, default as u64, max as u64)?;
        usize::try_from(n).map_err(|_| too_large(name, &n.to_string(), max as u64))
    }

    /// A duration in whole seconds, at most ten years.
    pub fn secs(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(self.number(
            name,
            default,
            MAX_DURATION_SECS,
        )?))
    }

    /// A duration in milliseconds, at most ten years.
    pub fn millis(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        Ok(Duration::from_millis(self.number(
            name,
            default,
            MAX_DURATION_SECS * 1000,
        )?))
    }

    /// `true`/`false` (also 1/0, yes/no, on/off), or `default` when unset.
    pub fn bool(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.text(name) {
            None => Ok(default),
            Some(v) => parse_bool(name, &v),
        }
    }
}

fn too_large(name: &'static str, text: &str, max: u64) -> ConfigError {
    err(
        name,
        format!("{text} is more than {max}, the most it may be"),
    )
}

pub fn parse_bool(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(err(variable, format!("{other:?} is not true or false"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with<T>(name: &str, value: &str, f: impl FnOnce(&Vars) -> T) -> T {
        let map = HashMap::from([(name.to_owned(), value.to_owned())]);
        let get = |k: &str| map.get(k).cloned();
        f(&Vars::new(&get))
    }

    #[test]
    fn numbers_outside_their_range_are_refused_not_wrapped() {
        for value in [
            "0",
            "-1",
            "1.5",
            "ten",
            "4294967296",
            "99999999999999999999999",
        ] {
            let e = with("DATABASE_MAX_CONNECTIONS", value, |v| {
                v.number_u32("DATABASE_MAX_CONNECTIONS", 10, 1000)
            });
            assert_eq!(
                e.unwrap_err().variable,
                "DATABASE_MAX_CONNECTIONS",
                "{value}"
            );
        }
        assert_eq!(with("N", "7", |v| v.number("N", 1, 10)).unwrap(), 7);
        assert_eq!(with("N", " ", |v| v.number("N", 3, 10)).unwrap(), 3);
    }

    #[test]
    fn durations_chrono_cannot_add_to_now_are_refused() {
        for value in ["10000000000000", "18446744073709551615", "315360001"] {
            let e = with("RESEND_WINDOW_SECS", value, |v| {
                v.secs("RESEND_WINDOW_SECS", 86_400)
            });
            assert_eq!(e.unwrap_err().variable, "RESEND_WINDOW_SECS", "{value}");
        }
        let ten_years = with("W", "315360000", |v| v.secs("W", 1)).unwrap();
        assert!(chrono::Duration::from_std(ten_years).is_ok());
        assert!(with("M", "315360000001", |v| v.millis("M", 1)).is_err());
    }
}
