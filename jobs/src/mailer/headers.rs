//! The headers lettre does not write the way mail filters want them.
use lettre::message::header::{self, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes};

/// `Auto-Submitted: auto-generated` (RFC 3834): every email here is sent by the
/// service, not by a person.
#[derive(Debug, Clone, Copy)]
pub(super) struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// `From:` (the sender as readers see it) with a printable-ASCII display name as a quoted string. lettre writes
/// any name holding a character outside letters, digits, space, `-_.` (`&`, `'`,
/// `,`, `:` …) as a base64 encoded word, which spam filters score as a sender
/// hiding its name (SpamAssassin `FROM_EXCESS_BASE64`). Names that need it
/// (non-ASCII) keep lettre's encoding.
#[derive(Debug, Clone)]
pub(super) struct Sender(pub Mailbox);

impl Header for Sender {
    fn name() -> HeaderName {
        header::From::name()
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.parse()?))
    }

    fn display(&self) -> HeaderValue {
        match quoted(&self.0) {
            // The raw value is lettre's own form, which its `From` parses back.
            Some(encoded) => {
                HeaderValue::dangerous_new_pre_encoded(Self::name(), self.0.to_string(), encoded)
            }
            None => header::From::from(Mailboxes::from(self.0.clone())).display(),
        }
    }
}

/// `"Name" <address>` when the name is printable ASCII (so no CR, LF or other
/// control character can reach the header), folded before the address when the
/// line would pass 78 characters.
fn quoted(mailbox: &Mailbox) -> Option<String> {
    let name = mailbox.name.as_deref().map(str::trim)?;
    if name.is_empty() || !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    let mut out = String::with_capacity(name.len() + 64);
    out.push('"');
    for c in name.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    let address = format!("<{}>", mailbox.email);
    let separator = if "From: ".len() + out.len() + 1 + address.len() > 78 {
        "\r\n "
    } else {
        " "
    };
    out.push_str(separator);
    out.push_str(&address);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::Sender;
    use lettre::message::{Mailbox, Mailboxes};

    fn from_line(mailbox: &str) -> String {
        let mailbox: Mailbox = mailbox.parse().unwrap();
        let mut headers = lettre::message::header::Headers::new();
        headers.set(Sender(mailbox.clone()));
        let parsed: lettre::message::header::From = headers.get().expect("parses back");
        let back: Vec<Mailbox> = Mailboxes::from(parsed).into();
        assert_eq!(
            back,
            vec![mailbox],
            "the raw value parses back to the mailbox"
        );
        headers.to_string()
    }

    #[test]
    fn ascii_names_are_quoted_never_encoded() {
        let cases = [
            (
                "Client Portal <no-reply@clinic.example>",
                "From: \"Client Portal\" <no-reply@clinic.example>\r\n",
            ),
            (
                "\"Harbor & Pine Therapy\" <no-reply@clinic.example>",
                "From: \"Harbor & Pine Therapy\" <no-reply@clinic.example>\r\n",
            ),
            (
                "\"Dr. O'Brien, Counselling: Portal\" <a@clinic.example>",
                "From: \"Dr. O'Brien, Counselling: Portal\" <a@clinic.example>\r\n",
            ),
            (
                "\"The \\\"Best\\\" Clinic \\\\ Co\" <a@clinic.example>",
                "From: \"The \\\"Best\\\" Clinic \\\\ Co\" <a@clinic.example>\r\n",
            ),
            (
                "no-reply@clinic.example",
                "From: no-reply@clinic.example\r\n",
            ),
        ];
        for (mailbox, expected) in cases {
            assert_eq!(from_line(mailbox), expected);
        }
    }

    #[test]
    fn a_long_name_folds_before_the_address() {
        let line = from_line(
            "\"Northern Lakes Family Counselling & Wellbeing Centre\" <no-reply@northern-lakes.example>",
        );
        assert_eq!(
            line,
            "From: \"Northern Lakes Family Counselling & Wellbeing Centre\"\r\n <no-reply@northern-lakes.example>\r\n"
        );
    }

    #[test]
    fn names_that_need_it_are_still_encoded() {
        let line = from_line("Clínica Sol <no-reply@clinic.example>");
        assert!(line.starts_with("From: =?utf-8?"), "{line}");
        assert!(!line.contains('í'), "{line}");
    }
}
