//! Settings of the email path and the resend cap.
use super::values::Vars;
use super::{ConfigError, err};
use lettre::message::Mailbox;
use secrecy::SecretString;
use std::time::Duration;

/// How email is sent and how often a client may be sent a new link.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// `smtp://`, `smtps://user:pass@host` or `file://DIR`; may carry credentials.
    pub smtp_url: SecretString,
    pub mail_from: Mailbox,
    pub reset_link_ttl: Duration,
    pub resend_limit: u32,
    pub resend_window: Duration,
    /// Self-service password reset emails per client per window (R5), counted
    /// apart from what providers send.
    pub self_reset_limit: u32,
    pub max_attempts: i32,
    pub retry_base: Duration,
    /// How long a queued email may sit untouched before the sweeper pushes it again.
    pub sweep_grace: Duration,
    /// How long after activation the intake-form check runs (R8).
    pub intake_reminder_delay: Duration,
    /// Prefix of every Redis key this service writes (queue, resend windows).
    pub redis_key_prefix: String,
}

const DEFAULT_SMTP_URL: &str = "file://mail";
const DEFAULT_MAIL_FROM: &str = "Client Portal <no-reply@portal.localhost>";

impl EmailSettings {
    /// Reads the email variables (blank counts as unset).
    pub(super) fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let smtp_url = vars
            .text("SMTP_URL")
            .unwrap_or_else(|| DEFAULT_SMTP_URL.to_owned());
        if !["smtp://", "smtps://", "file://"]
            .iter()
            .any(|p| smtp_url.starts_with(p))
        {
            return Err(err(
                "SMTP_URL",
                "must start with smtp://, smtps:// or file://",
            ));
        }
        let from_text = vars
            .text("MAIL_FROM")
            .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned());
        let mail_from: Mailbox = from_text.parse().map_err(|_| {
            err(
                "MAIL_FROM",
                format!("{from_text:?} is not an address like Practice <no-reply@example.com>"),
            )
        })?;
        let prefix = vars
            .text("REDIS_KEY_PREFIX")
            .unwrap_or_else(|| "portal".to_owned());
        if prefix.contains(char::is_whitespace) {
            return Err(err("REDIS_KEY_PREFIX", "must not contain spaces"));
        }
        Ok(Self {
            smtp_url: SecretString::from(smtp_url),
            mail_from,
            reset_link_ttl: vars.secs("RESET_LINK_TTL_SECS", 86_400)?,
            resend_limit: vars.number_u32("RESEND_LIMIT", 5, 1_000_000)?,
            resend_window: vars.secs("RESEND_WINDOW_SECS", 86_400)?,
            self_reset_limit: vars.number_u32("SELF_RESET_LIMIT", 3, 1_000_000)?,
            max_attempts: vars.number_u32("EMAIL_MAX_ATTEMPTS", 8, 1_000)? as i32,
            retry_base: vars.millis("EMAIL_RETRY_BASE_MS", 2000)?,
            sweep_grace: vars.millis("EMAIL_SWEEP_GRACE_MS", 10_000)?,
            intake_reminder_delay: vars.secs("INTAKE_REMINDER_DELAY_SECS", 86_400)?,
            redis_key_prefix: prefix,
        })
    }
}
