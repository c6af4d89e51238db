//! `APP_ENV=production` refuses settings that are only fit for trying the service
//! out: the embedded database and queue, `.eml` files instead of mail, the built-in
//! sender, links pointing at plain HTTP or at the bind address, the playground, raised
//! abuse limits, CORS for any website, and the passwords shipped in examples (`docker-compose.yml`'s
//! `portal:portal`).
use super::{ConfigError, Settings, err};
use secrecy::ExposeSecret;

/// Passwords that appear in examples and images; never acceptable in production.
const DEFAULT_PASSWORDS: &[&str] = &[
    "portal",
    "postgres",
    "password",
    "changeme",
    "change-me",
    "secret",
    "admin",
    "root",
    "example",
    "test",
    "redis",
    "guest",
];

/// The password part of `scheme://user:password@host/...`, if any.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, password)| password)
}

fn refuse_default_password(variable: &'static str, url: &str) -> Result<(), ConfigError> {
    match url_password(url) {
        Some(p) if DEFAULT_PASSWORDS.contains(&p.to_ascii_lowercase().as_str()) => Err(err(
            variable,
            "uses a default example password; set a real secret in production",
        )),
        _ => Ok(()),
    }
}

/// Every reason `settings` cannot run in production, the first one reported.
pub fn check(settings: &Settings) -> Result<(), ConfigError> {
    let database = settings.database_url.expose_secret();
    if settings.is_sqlite() {
        return Err(err(
            "DATABASE_URL",
            "production needs PostgreSQL (postgres://...), not the embedded SQLite file",
        ));
    }
    refuse_default_password("DATABASE_URL", database)?;
    let Some(redis) = &settings.redis_url else {
        return Err(err(
            "REDIS_URL",
            "production needs Redis: the in-process queue loses queued email on restart",
        ));
    };
    refuse_default_password("REDIS_URL", redis.expose_secret())?;
    let smtp = settings.email.smtp_url.expose_secret();
    if smtp.starts_with("file://") {
        return Err(err(
            "SMTP_URL",
            "production needs an SMTP server (smtp:// or smtps://), not .eml files",
        ));
    }
    refuse_default_password("SMTP_URL", smtp)?;
    // The built-in sender is at portal.localhost.
    if settings
        .email
        .mail_from
        .email
        .domain()
        .ends_with("localhost")
    {
        return Err(err(
            "MAIL_FROM",
            "set the practice's own sender address in production",
        ));
    }
    if settings.public_url_from_bind || !settings.public_url.starts_with("https://") {
        return Err(err(
            "PUBLIC_URL",
            "production needs the public https:// address the emailed links point to",
        ));
    }
    if let Some(url) = &settings.client_portal_url
        && !url.starts_with("https://")
    {
        return Err(err(
            "CLIENT_PORTAL_URL",
            "production needs an https:// address for the client portal emails link to",
        ));
    }
    if settings.graphiql {
        return Err(err("GRAPHIQL", "the playground cannot be on in production"));
    }
    if settings.cors_allowed_origins == super::CorsOrigins::Any {
        return Err(err(
            "CORS_ALLOWED_ORIGINS",
            "* lets every website call the API; list the exact origins in production",
        ));
    }
    if settings.abuse_limit_scale != 1 {
        return Err(err(
            "ABUSE_LIMIT_SCALE",
            "raises every abuse limit (for benchmarks); production keeps 1",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A complete production configuration.
    fn good() -> HashMap<&'static str, &'static str> {
        HashMap::from([
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
        ])
    }

    fn settings(changes: &[(&'static str, &'static str)]) -> Result<Settings, ConfigError> {
        let mut vars = good();
        vars.extend(changes.iter().copied());
        Settings::from_lookup(|k| vars.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn a_complete_configuration_starts_with_the_playground_off() {
        let s = settings(&[]).unwrap();
        assert!(!s.graphiql);
    }

    #[test]
    fn each_unfit_setting_is_refused_by_name_without_echoing_secrets() {
        let cases = [
            ("DATABASE_URL", ""),
            ("DATABASE_URL", "sqlite://portal.db?mode=rwc"),
            (
                "DATABASE_URL",
                "postgres://portal:portal@postgres:5432/portal",
            ),
            ("REDIS_URL", ""),
            ("REDIS_URL", "redis://:changeme@redis:6379"),
            ("SMTP_URL", ""),
            ("SMTP_URL", "file:///var/mail"),
            ("SMTP_URL", "smtp://user:password@smtp.example.com"),
            ("MAIL_FROM", ""),
            ("PUBLIC_URL", ""),
            ("PUBLIC_URL", "http://portal.sunrise.example"),
            ("GRAPHIQL", "true"),
            ("ABUSE_LIMIT_SCALE", "1000"),
            ("ABUSE_LIMIT_SCALE", "2"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("CLIENT_PORTAL_URL", "http://app.sunrise.example"),
            ("PUBLIC_URL", "https://portal.sunrise.example@evil.example"),
            ("PUBLIC_URL", "https://portal sunrise.example"),
            ("RESEND_WINDOW_SECS", "10000000000000"),
        ];
        for (variable, value) in cases {
            let e = settings(&[(variable, value)]).unwrap_err();
            assert_eq!(e.variable, variable, "{variable}={value}: {e}");
            for secret in ["portal:portal", "changeme", "user:password"] {
                assert!(!e.message.contains(secret), "{e}");
            }
        }
    }

    #[test]
    fn development_accepts_the_defaults() {
        assert!(Settings::from_lookup(|_| None).is_ok());
    }
}
