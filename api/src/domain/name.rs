//! A person's first or last name, a provider's name, a practice's name: short text
//! that the service puts into emails to clients, so it must read as a name there.
use super::InvalidInput;

const MAX_CHARS: usize = 100;

/// A trimmed, non-empty name of at most 100 characters without control, invisible or
/// text-direction characters, web addresses or `@`.
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
        if has_hidden_characters(value) {
            return Err(InvalidInput::new(
                field,
                format!("{field} contains invisible or text-direction characters."),
            ));
        }
        // Names are not addresses: `jane@evil.example` in a greeting becomes a
        // clickable mailto link in most mail clients, and no one's name has an `@`.
        if value.contains('@') {
            return Err(InvalidInput::new(
                field,
                format!("{field} cannot contain @ or an email address."),
            ));
        }
        if looks_like_a_link(value) {
            return Err(InvalidInput::new(
                field,
                format!("{field} cannot contain a web address."),
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

/// Unicode format characters (category Cf: bidi overrides and isolates, zero-width
/// spaces, the BOM, tags, ...), line and paragraph separators, private-use
/// characters and the letters that render as nothing. They let a name reorder or
/// hide the text around it in an email, or look like another name.
fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{E000}'..='\u{F8FF}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{F0000}'..='\u{10FFFF}'
    )
}

/// Hidden characters, except the zero-width (non-)joiner between two non-ASCII
/// letters: Persian, Urdu and Indic scripts need them to spell names correctly,
/// while a Latin name never does.
fn has_hidden_characters(value: &str) -> bool {
    let chars: Vec<char> = value.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| match c {
        '\u{200C}' | '\u{200D}' => {
            let letter = |j: Option<usize>| {
                j.and_then(|j| chars.get(j))
                    .is_some_and(|c| c.is_alphabetic() && !c.is_ascii())
            };
            !(letter(i.checked_sub(1)) && letter(Some(i + 1)))
        }
        c => is_hidden(c),
    })
}

/// Top-level domains that mail clients turn into links even without `http://` or
/// a path (`evil.com`); other `word.word` pairs are left alone (`St.John`, `M.Sc`).
const LINKED_TLDS: &[&str] = &[
    "app", "biz", "cc", "click", "cn", "co", "com", "de", "dev", "eu", "fr", "gov", "info", "io",
    "link", "ly", "me", "net", "online", "org", "ru", "site", "to", "top", "uk", "us", "xyz",
];

/// Whether `value` holds something a mail client would make clickable: a scheme
/// (`https://`), `www.`, or a domain (`evil.example`) followed by a path, port,
/// query or fragment, or ending in a common top-level domain. "St. John", "Jr." and
/// "J.R.R." stay names: a period followed by a space, by nothing, or by a single
/// letter is not a domain.
fn looks_like_a_link(value: &str) -> bool {
    let lower = value.to_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    let bytes = lower.as_bytes();
    lower.match_indices('.').any(|(dot, _)| {
        let label = bytes[..dot]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        let tld = bytes[dot + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        if label == 0 || tld < 2 {
            return false;
        }
        let after = dot + 1 + tld;
        match bytes.get(after) {
            Some(b'/' | b':' | b'?' | b'#') => true,
            Some(b) if b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.' => false,
            _ => LINKED_TLDS.contains(&&lower[dot + 1..after]),
        }
    })
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

    #[test]
    fn names_carrying_links_or_addresses_are_refused() {
        for name in [
            "Jane - your account was locked, verify at https://evil.example/verify",
            "Jane HTTP://EVIL.EXAMPLE",
            "Jane www.evil.example",
            "Jane evil.example/verify",
            "Jane evil.example:8080",
            "Jane evil.example?x=1",
            "Jane Evil.Com",
            "Jane (portal-login.net)",
            "jane@evil.example",
            "Jane @ Doe",
        ] {
            let err = PersonName::parse(name, "firstName").unwrap_err();
            assert_eq!(err.field, "firstName", "{name}");
        }
    }

    #[test]
    fn bidi_and_invisible_characters_are_refused() {
        for c in [
            '\u{202E}',
            '\u{202A}',
            '\u{2066}',
            '\u{200B}',
            '\u{200E}',
            '\u{2028}',
            '\u{2029}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{2060}',
            '\u{E0041}',
            '\u{E000}',
            '\u{3164}',
        ] {
            let name = format!("Ja{c}ne");
            let err = PersonName::parse(&name, "lastName").unwrap_err();
            assert_eq!(err.field, "lastName", "{:?}", c);
        }
        assert!(PersonName::parse("Jane\u{200D}", "firstName").is_err());
        assert!(PersonName::parse("Ja\u{200C}ne", "firstName").is_err());
    }

    #[test]
    fn ordinary_names_with_periods_joiners_and_punctuation_are_accepted() {
        for name in [
            "St. John",
            "Jr.",
            "J.R.R. Tolkien",
            "Martin Luther King Jr.",
            "St.John",
            "M.Sc.",
            "O'Brien-Smith",
            "Harbor & Pine Therapy",
            "Dr. You",
            "نرگس\u{200C}ها",
            "Zoë Ångström",
            "李小龍",
        ] {
            let parsed = PersonName::parse(name, "firstName").unwrap();
            assert_eq!(parsed.as_str(), name);
        }
    }
}
