//! Settings of the email path and the resend cap.
use super::values::Vars;
use super::{ConfigError, err};
use jobs::dkim::{DkimError, DkimSigner};
use lettre::message::Mailbox;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

/// How email is sent and how often a client may be sent a new link.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// `smtp://`, `smtps://user:pass@host` or `file://DIR`; may carry credentials.
    pub smtp_url: SecretString,
    pub mail_from: Mailbox,
    /// Signs every email (`DKIM_DOMAIN`, `DKIM_SELECTOR`, `DKIM_PRIVATE_KEY_FILE`).
    pub dkim: Option<Arc<DkimSigner>>,
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
    /// Emails one worker has in hand at once (`WORKER_CONCURRENCY`).
    pub worker_concurrency: usize,
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
            dkim: dkim(vars)?,
            reset_link_ttl: vars.secs("RESET_LINK_TTL_SECS", 86_400)?,
            resend_limit: vars.number_u32("RESEND_LIMIT", 5, 1_000_000)?,
            resend_window: vars.secs("RESEND_WINDOW_SECS", 86_400)?,
            self_reset_limit: vars.number_u32("SELF_RESET_LIMIT", 3, 1_000_000)?,
            max_attempts: vars.number_u32("EMAIL_MAX_ATTEMPTS", 8, 1_000)? as i32,
            retry_base: vars.millis("EMAIL_RETRY_BASE_MS", 2000)?,
            sweep_grace: vars.millis("EMAIL_SWEEP_GRACE_MS", 10_000)?,
            intake_reminder_delay: vars.secs("INTAKE_REMINDER_DELAY_SECS", 86_400)?,
            redis_key_prefix: prefix,
            worker_concurrency: vars.number_usize("WORKER_CONCURRENCY", 512, 1024)?,
        })
    }
}

const DKIM_VARIABLES: [&str; 3] = ["DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_PRIVATE_KEY_FILE"];

/// The DKIM signer: all three variables or none; the key file is read and
/// checked here, so a key that cannot sign stops the start, not the first email.
fn dkim(vars: &Vars) -> Result<Option<Arc<DkimSigner>>, ConfigError> {
    let [domain, selector, key_file] = DKIM_VARIABLES.map(|name| vars.text(name));
    let (domain, selector, key_file) = match (domain, selector, key_file) {
        (None, None, None) => return Ok(None),
        (Some(d), Some(s), Some(k)) => (d, s, k),
        given => {
            let set = [given.0.is_some(), given.1.is_some(), given.2.is_some()];
            let missing: Vec<&str> = DKIM_VARIABLES
                .iter()
                .zip(set)
                .filter(|(_, set)| !set)
                .map(|(name, _)| *name)
                .collect();
            return Err(err(
                missing[0],
                format!(
                    "DKIM signing needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE \
                     together; {} missing",
                    missing.join(" and ")
                ),
            ));
        }
    };
    let pem = std::fs::read_to_string(&key_file).map_err(|e| {
        err(
            "DKIM_PRIVATE_KEY_FILE",
            format!("{key_file} cannot be read: {e}"),
        )
    })?;
    let signer = DkimSigner::new(&domain, &selector, &pem).map_err(|e| match e {
        DkimError::Domain(m) => err("DKIM_DOMAIN", m),
        DkimError::Selector(m) => err("DKIM_SELECTOR", m),
        DkimError::Key(m) => err("DKIM_PRIVATE_KEY_FILE", format!("{key_file} {m}")),
    })?;
    Ok(Some(Arc::new(signer)))
}

#[cfg(test)]
mod tests {
    use crate::configuration::{ConfigError, Settings};
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn dkim_is_off_unless_configured() {
        assert!(settings(&[]).unwrap().email.dkim.is_none());
    }

    #[test]
    fn the_dkim_variables_go_together() {
        let all = [
            ("DKIM_DOMAIN", "clinic.example"),
            ("DKIM_SELECTOR", "portal"),
            ("DKIM_PRIVATE_KEY_FILE", "/nonexistent/dkim.pem"),
        ];
        for leave_out in [
            vec![0],
            vec![1],
            vec![2],
            vec![0, 1],
            vec![1, 2],
            vec![0, 2],
        ] {
            let given: Vec<(&str, &str)> = (0..3)
                .filter(|i| !leave_out.contains(i))
                .map(|i| all[i])
                .collect();
            let e = settings(&given).unwrap_err();
            assert_eq!(e.variable, all[leave_out[0]].0, "{given:?}: {e}");
            for i in &leave_out {
                assert!(e.message.contains(all[*i].0), "{given:?}: {e}");
            }
            assert!(e.message.contains("together"), "{e}");
        }
    }

    #[test]
    fn a_key_that_cannot_sign_stops_the_start_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let garbage = garbage.to_str().unwrap();
        let missing = dir.path().join("missing.pem");
        let missing = missing.to_str().unwrap();
        let dir_path = dir.path().to_str().unwrap();
        let cases = [
            (
                "clinic.example",
                "portal",
                missing,
                "DKIM_PRIVATE_KEY_FILE",
                "cannot be read",
            ),
            (
                "clinic.example",
                "portal",
                dir_path,
                "DKIM_PRIVATE_KEY_FILE",
                "cannot be read",
            ),
            (
                "clinic.example",
                "portal",
                garbage,
                "DKIM_PRIVATE_KEY_FILE",
                "neither RSA nor Ed25519",
            ),
            (
                "clinic example",
                "portal",
                garbage,
                "DKIM_DOMAIN",
                "not a domain",
            ),
            (
                "clinic.example",
                "por tal",
                garbage,
                "DKIM_SELECTOR",
                "not a selector",
            ),
        ];
        for (domain, selector, file, variable, says) in cases {
            let e = settings(&[
                ("DKIM_DOMAIN", domain),
                ("DKIM_SELECTOR", selector),
                ("DKIM_PRIVATE_KEY_FILE", file),
            ])
            .unwrap_err();
            assert_eq!(e.variable, variable, "{e}");
            assert!(e.message.contains(says), "{e}");
            assert!(
                !e.message.contains("c2VjcmV0"),
                "the key is never quoted: {e}"
            );
        }
    }
}
