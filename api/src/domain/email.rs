//! An email address as a practice would type it: strict enough to catch slips,
//! lenient about case (compared case-insensitively, shown as typed).
use super::InvalidInput;

const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MAX_LABEL_LEN: usize = 63;

/// A syntactically valid address with a dotted domain; trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses user input; `field` names the input for the error.
    pub fn parse(input: &str, field: &'static str) -> Result<Self, InvalidInput> {
        let value = input.trim();
        let bad = |why: &str| InvalidInput::new(field, format!("Email address {why}."));
        if value.is_empty() {
            return Err(bad("is empty"));
        }
        if value.len() > MAX_LEN {
            return Err(bad("is too long"));
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(bad("needs an @"));
        };
        if !valid_local(local) {
            return Err(bad("has an invalid part before the @"));
        }
        if !valid_domain(domain) {
            return Err(bad("has an invalid domain"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The address as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased form used for uniqueness and look-up.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    /// The part after the `@`, lower-cased.
    pub fn domain(&self) -> String {
        self.0
            .rsplit_once('@')
            .map(|(_, d)| d.to_lowercase())
            .unwrap_or_default()
    }
}

fn valid_local(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LEN
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    labels.len() >= 2
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && labels.iter().all(|label| valid_label(label))
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    fn ok(s: &str) -> bool {
        EmailAddress::parse(s, "email").is_ok()
    }

    #[test]
    fn ordinary_addresses_are_accepted_and_trimmed() {
        assert!(ok("jane.doe+portal@example.co.uk"));
        let e = EmailAddress::parse("  Jane@Example.com ", "email").unwrap();
        assert_eq!(e.as_str(), "Jane@Example.com");
        assert_eq!(e.normalized(), "jane@example.com");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for s in [
            "",
            "   ",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "jane@@example.com",
            "ja ne@example.com",
            "jane@exa mple.com",
            ".jane@example.com",
            "jane.@example.com",
            "ja..ne@example.com",
            "jane@-example.com",
            "jane@example-.com",
            "jane@example.c",
            "jane@example.123",
            "jane@.example.com",
            "jane@example..com",
            "jané@example.com",
        ] {
            assert!(!ok(s), "{s:?} should be refused");
        }
    }

    #[test]
    fn overlong_addresses_are_refused() {
        let local = "a".repeat(65);
        assert!(!ok(&format!("{local}@example.com")));
        let domain = format!("{}.com", "a".repeat(250));
        assert!(!ok(&format!("a@{domain}")));
    }
}
