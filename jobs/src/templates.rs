//! Email bodies, rendered from the templates in `templates/` (text and HTML parts).
//! What goes in: the practice's name, the client's first name and, for link emails,
//! the link. Never health information, never anything a provider typed about the client.
use minijinja::{Environment, context};
use std::sync::LazyLock;

/// A rendered email, ready for the mailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Which email to render, with what it needs.
#[derive(Debug, Clone)]
pub enum EmailContent<'a> {
    /// Invite: set up the account.
    Welcome { link: &'a str },
    /// Choose a new password; the link expires after `expires_in`.
    PasswordReset { link: &'a str, expires_in: String },
    /// Sent to the old address after a change; carries no link.
    EmailChangedNotice,
    /// R9: a message waits in the portal. Never the message itself.
    MessageNotification { portal: &'a str },
    /// R8: forms still to complete, by title only (never answers).
    IntakeReminder { portal: &'a str, forms: Vec<String> },
}

/// Who the email is for.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    pub practice: &'a str,
    pub first_name: &'a str,
}

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    let sources = [
        ("base.html", include_str!("templates/base.html")),
        ("welcome.html", include_str!("templates/welcome.html")),
        ("welcome.txt", include_str!("templates/welcome.txt")),
        (
            "password_reset.html",
            include_str!("templates/password_reset.html"),
        ),
        (
            "password_reset.txt",
            include_str!("templates/password_reset.txt"),
        ),
        (
            "email_changed_notice.html",
            include_str!("templates/email_changed_notice.html"),
        ),
        (
            "email_changed_notice.txt",
            include_str!("templates/email_changed_notice.txt"),
        ),
        (
            "message_notification.html",
            include_str!("templates/message_notification.html"),
        ),
        (
            "message_notification.txt",
            include_str!("templates/message_notification.txt"),
        ),
        (
            "intake_reminder.html",
            include_str!("templates/intake_reminder.html"),
        ),
        (
            "intake_reminder.txt",
            include_str!("templates/intake_reminder.txt"),
        ),
    ];
    for (name, source) in sources {
        // The templates are compiled into the binary; a broken one fails every test.
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env
});

/// Renders `content` for `to`.
pub fn render(to: Recipient<'_>, content: &EmailContent<'_>) -> Result<Rendered, minijinja::Error> {
    let (portal, forms) = match content {
        EmailContent::MessageNotification { portal } => (Some(*portal), None),
        EmailContent::IntakeReminder { portal, forms } => (Some(*portal), Some(forms.clone())),
        _ => (None, None),
    };
    let (name, subject, link, expires_in) = match content {
        EmailContent::Welcome { link } => (
            "welcome",
            format!("Set up your {} client portal account", to.practice),
            Some(*link),
            None,
        ),
        EmailContent::PasswordReset { link, expires_in } => (
            "password_reset",
            format!(
                "Choose a new password for your {} client portal",
                to.practice
            ),
            Some(*link),
            Some(expires_in.as_str()),
        ),
        EmailContent::EmailChangedNotice => (
            "email_changed_notice",
            format!(
                "Your {} client portal email address was changed",
                to.practice
            ),
            None,
            None,
        ),
        EmailContent::MessageNotification { .. } => (
            "message_notification",
            format!("New message from {}", to.practice),
            None,
            None,
        ),
        EmailContent::IntakeReminder { .. } => (
            "intake_reminder",
            format!("{}: forms to complete in your client portal", to.practice),
            None,
            None,
        ),
    };
    // The link is ours (PUBLIC_URL + a base64url token): HTML-safe as it is, and
    // escaping its slashes would only make the raw message harder to read.
    let link = link.map(|l| minijinja::Value::from_safe_string(l.to_owned()));
    let portal = portal.map(|p| minijinja::Value::from_safe_string(p.to_owned()));
    let ctx = context! {
        practice => to.practice,
        first_name => to.first_name,
        link => link,
        expires_in => expires_in,
        portal => portal,
        forms => forms,
    };
    let text = TEMPLATES
        .get_template(&format!("{name}.txt"))?
        .render(&ctx)?;
    let html = TEMPLATES
        .get_template(&format!("{name}.html"))?
        .render(&ctx)?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

/// "24 hours", "90 minutes", "2 days": how long a link lasts, for people.
pub fn human_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs.is_multiple_of(86_400) && secs >= 2 * 86_400 {
        plural(secs / 86_400, "day")
    } else if secs.is_multiple_of(3600) && secs >= 3600 {
        plural(secs / 3600, "hour")
    } else {
        plural(secs.div_ceil(60).max(1), "minute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TO: Recipient<'static> = Recipient {
        practice: "Harbor & Pine Therapy",
        first_name: "Jane",
    };
    const LINK: &str = "https://portal.example/account/setup?token=TOKEN";

    #[test]
    fn welcome_email_renders() {
        let r = render(TO, &EmailContent::Welcome { link: LINK }).unwrap();
        insta::assert_snapshot!("welcome_subject", r.subject);
        insta::assert_snapshot!("welcome_text", r.text);
        insta::assert_snapshot!("welcome_html", r.html);
    }

    #[test]
    fn password_reset_email_states_the_expiry() {
        let content = EmailContent::PasswordReset {
            link: LINK,
            expires_in: human_duration(std::time::Duration::from_secs(86_400)),
        };
        let r = render(TO, &content).unwrap();
        assert!(r.text.contains("expires 24 hours after"));
        insta::assert_snapshot!("password_reset_text", r.text);
        insta::assert_snapshot!("password_reset_html", r.html);
    }

    #[test]
    fn email_changed_notice_has_no_link() {
        let r = render(TO, &EmailContent::EmailChangedNotice).unwrap();
        assert!(!r.text.contains("http") && !r.html.contains("href"));
        insta::assert_snapshot!("email_changed_notice_text", r.text);
        insta::assert_snapshot!("email_changed_notice_html", r.html);
    }

    #[test]
    fn message_notification_says_only_that_a_message_waits() {
        let content = EmailContent::MessageNotification {
            portal: "https://portal.example/",
        };
        let r = render(TO, &content).unwrap();
        insta::assert_snapshot!("message_notification_text", r.text);
        insta::assert_snapshot!("message_notification_html", r.html);
    }

    #[test]
    fn intake_reminder_names_the_forms() {
        let content = EmailContent::IntakeReminder {
            portal: "https://portal.example/",
            forms: vec!["Health history".into(), "Consent <form>".into()],
        };
        let r = render(TO, &content).unwrap();
        assert!(r.html.contains("Consent &lt;form&gt;"));
        insta::assert_snapshot!("intake_reminder_text", r.text);
        insta::assert_snapshot!("intake_reminder_html", r.html);
    }

    #[test]
    fn html_part_escapes_names() {
        let to = Recipient {
            practice: "<b>Evil</b>",
            first_name: "<script>",
        };
        let r = render(to, &EmailContent::Welcome { link: LINK }).unwrap();
        assert!(!r.html.contains("<script>") && r.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn durations_read_naturally() {
        use std::time::Duration;
        assert_eq!(human_duration(Duration::from_secs(86_400)), "24 hours");
        assert_eq!(human_duration(Duration::from_secs(172_800)), "2 days");
        assert_eq!(human_duration(Duration::from_secs(5400)), "90 minutes");
        assert_eq!(human_duration(Duration::from_secs(3600)), "1 hour");
    }
}
