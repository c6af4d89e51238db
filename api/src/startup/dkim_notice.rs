//! What the worker says about DKIM as it starts.
use crate::configuration::{AppEnv, Settings};

/// Says once, as the worker starts, whether its mail is signed. Production mail
/// without DKIM is signed only if the relay does it, and is more likely to land
/// in spam; it still goes out.
pub(super) fn announce(settings: &Settings) {
    let from_domain = settings.email.mail_from.email.domain();
    match &settings.email.dkim {
        Some(signer) => {
            tracing::info!(
                domain = signer.domain(),
                record = %signer.record_name(),
                algorithm = %signer.algorithm(),
                "emails are DKIM-signed"
            );
            if !signer.aligns_with(from_domain) {
                tracing::warn!(
                    dkim_domain = signer.domain(),
                    mail_from_domain = from_domain,
                    "DKIM_DOMAIN is neither MAIL_FROM's domain nor a parent or subdomain of it; \
                     receivers applying DMARC may not count the signature"
                );
            }
        }
        None if settings.app_env == AppEnv::Production => tracing::warn!(
            mail_from_domain = from_domain,
            "emails are not DKIM-signed: set DKIM_DOMAIN, DKIM_SELECTOR and \
             DKIM_PRIVATE_KEY_FILE, or make sure the mail relay signs them"
        ),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::configuration::Settings;
    use std::collections::HashMap;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `announce` logs for these settings.
    fn announced(vars: &[(&str, &str)]) -> String {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let settings = Settings::from_lookup(|k| vars.get(k).cloned()).unwrap();
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || super::announce(&settings));
        String::from_utf8(lines.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn production_without_dkim_is_warned_about_and_development_is_not() {
        let production = [
            ("APP_ENV", "production"),
            (
                "DATABASE_URL",
                "postgres://portal:Xq7-long-secret@db:5432/portal",
            ),
            ("REDIS_URL", "redis://redis:6379"),
            (
                "SMTP_URL",
                "smtps://mailer:k3y-long-secret@smtp.example.com",
            ),
            ("MAIL_FROM", "Sunrise Clinic <no-reply@sunrise.example>"),
            ("PUBLIC_URL", "https://portal.sunrise.example"),
        ];
        let said = announced(&production);
        assert_eq!(said.matches("WARN").count(), 1, "{said}");
        assert!(said.contains("not DKIM-signed"), "{said}");
        assert!(said.contains("DKIM_PRIVATE_KEY_FILE"), "{said}");
        assert_eq!(announced(&[]), "", "development mail is not warned about");
    }
}
