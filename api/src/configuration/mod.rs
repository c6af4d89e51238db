//! Typed settings from the environment (and `.env`), validated once at start.
//! A bad value is reported as one line naming the variable; secrets never print.

mod cors;
mod email;
mod production;
mod public_url;
mod stores;
mod trusted_proxies;
mod values;

pub use cors::CorsOrigins;
pub use email::EmailSettings;
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::time::Duration;
use stores::{parse_database_url, parse_redis_url};
pub use trusted_proxies::TrustedProxies;
pub use values::MAX_DURATION_SECS;
use values::Vars;

/// Everything the service reads from its environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: SecretString,
    /// `None` runs the embedded queue and limiter in this process.
    pub redis_url: Option<SecretString>,
    pub bind: SocketAddr,
    /// Where `portal worker` serves `/healthz`, `/readyz` and `/metrics`.
    pub worker_bind: SocketAddr,
    pub app_env: AppEnv,
    pub graphiql: bool,
    pub log_format: LogFormat,
    /// Base URL used in links the service hands out.
    pub public_url: String,
    /// `PUBLIC_URL` was not set: it follows the address actually bound.
    pub public_url_from_bind: bool,
    /// A practice's own client frontend (`CLIENT_PORTAL_URL`); `None`: the built-in
    /// pages under `PUBLIC_URL/account`.
    pub client_portal_url: Option<String>,
    pub session_ttl: Duration,
    pub run_migrations: bool,
    pub database_max_connections: u32,
    pub limits: GraphqlLimits,
    pub http: HttpLimits,
    pub email: EmailSettings,
    /// Multiplies every abuse limit (1 in production; benchmarks raise it).
    pub abuse_limit_scale: u32,
    /// Browser apps on other origins that may call `/graphql` (`CORS_ALLOWED_ORIGINS`).
    pub cors_allowed_origins: CorsOrigins,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` name the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
}

/// Where the service runs; production hides the playground and introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Bounds on what one HTTP request may ask of the GraphQL executor.
#[derive(Debug, Clone)]
pub struct GraphqlLimits {
    pub max_body_bytes: usize,
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_batch: usize,
}

/// Bounds on connections, so slow or idle clients cannot hold the server.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// How long a client may take to send a request head (also the keep-alive idle time).
    pub header_timeout: Duration,
    /// How long a client may take to send a request body.
    pub body_timeout: Duration,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
}

/// A configuration value that cannot be used, naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn err(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

const DEFAULT_BIND: &str = "127.0.0.1:8000";
const DEFAULT_WORKER_BIND: &str = "127.0.0.1:9090";

/// A listen address like `127.0.0.1:8000` (port 0 picks a free port).
fn parse_address(
    variable: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<SocketAddr, ConfigError> {
    let text = value.unwrap_or_else(|| default.to_owned());
    text.parse().map_err(|_| {
        err(
            variable,
            format!("{text:?} is not an address like {default}"),
        )
    })
}

impl Settings {
    /// Reads `.env` (if present) and the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is not.
        if let Err(e) = dotenvy::dotenv()
            && !e.not_found()
        {
            return Err(err(".env", format!("cannot be read: {e}")));
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any variable source (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars::new(&get);
        let var = |name: &str| vars.text(name);
        let database_url = parse_database_url(var("DATABASE_URL"))?;
        let redis_url = var("REDIS_URL").map(parse_redis_url).transpose()?;
        let bind = parse_address("BIND", var("BIND"), DEFAULT_BIND)?;
        let worker_bind = parse_address("WORKER_BIND", var("WORKER_BIND"), DEFAULT_WORKER_BIND)?;
        let app_env = match var("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(err(
                    "APP_ENV",
                    format!("{other:?} is not development or production"),
                ));
            }
        };
        let graphiql = vars.bool("GRAPHIQL", app_env == AppEnv::Development)?;
        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(err(
                    "LOG_FORMAT",
                    format!("{other:?} is not pretty or json"),
                ));
            }
        };
        let public_url_from_bind = var("PUBLIC_URL").is_none();
        let public_url = match var("PUBLIC_URL") {
            Some(url) => public_url::parse(&url)?,
            None => format!("http://{bind}"),
        };
        let client_portal_url = var("CLIENT_PORTAL_URL")
            .map(|url| public_url::parse_as("CLIENT_PORTAL_URL", &url))
            .transpose()?;
        let settings = Self {
            client_portal_url,
            email: EmailSettings::from_vars(&vars)?,
            cors_allowed_origins: cors::parse(var("CORS_ALLOWED_ORIGINS").as_deref())?,
            trusted_proxies: trusted_proxies::parse(var("TRUSTED_PROXIES").as_deref())?,
            database_url,
            redis_url,
            bind,
            worker_bind,
            app_env,
            graphiql,
            log_format,
            public_url,
            public_url_from_bind,
            session_ttl: vars.secs("SESSION_TTL_SECS", 12 * 3600)?,
            run_migrations: vars.bool("RUN_MIGRATIONS", true)?,
            database_max_connections: vars.number_u32("DATABASE_MAX_CONNECTIONS", 10, 1_000)?,
            // Benchmarks raise every abuse limit a millionfold; production keeps 1.
            abuse_limit_scale: vars.number_u32("ABUSE_LIMIT_SCALE", 1, 1_000_000)?,
            limits: GraphqlLimits {
                max_body_bytes: vars.number_usize("GRAPHQL_MAX_BODY_BYTES", 64 * 1024, 16 << 20)?,
                max_depth: vars.number_usize("GRAPHQL_MAX_DEPTH", 12, 100)?,
                max_complexity: vars.number_usize("GRAPHQL_MAX_COMPLEXITY", 5000, 1_000_000)?,
                max_aliases: vars.number_usize("GRAPHQL_MAX_ALIASES", 30, 10_000)?,
                max_batch: vars.number_usize("GRAPHQL_MAX_BATCH", 10, 100)?,
            },
            http: HttpLimits {
                header_timeout: vars.secs("HTTP_HEADER_TIMEOUT_SECS", 10)?,
                body_timeout: vars.secs("HTTP_BODY_TIMEOUT_SECS", 30)?,
                max_connections: vars.number_usize("HTTP_MAX_CONNECTIONS", 1024, 1_000_000)?,
            },
        };
        if settings.app_env == AppEnv::Production {
            production::check(&settings)?;
        }
        Ok(settings)
    }

    /// Where "sign in" links lead (the done page after a setup or reset).
    pub fn client_sign_in_url(&self) -> String {
        match &self.client_portal_url {
            Some(url) => url.clone(),
            None => format!("{}/account/sign-in", self.public_url),
        }
    }

    /// Where emails about something waiting in the portal lead: the client's home,
    /// through sign-in.
    pub fn client_home_url(&self) -> String {
        match &self.client_portal_url {
            Some(url) => url.clone(),
            None => format!("{}/account", self.public_url),
        }
    }

    /// True when the database is SQLite (embedded mode).
    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose_secret().starts_with("sqlite:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_set_means_embedded_development() {
        let s = settings(&[]).unwrap();
        assert!(s.is_sqlite());
        assert!(s.redis_url.is_none());
        assert!(s.graphiql);
        assert_eq!(s.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(s.worker_bind.to_string(), "127.0.0.1:9090");
        assert_eq!(s.session_ttl, Duration::from_secs(43200));
        assert_eq!(s.http.header_timeout, Duration::from_secs(10));
        assert_eq!(s.http.body_timeout, Duration::from_secs(30));
        assert_eq!(s.http.max_connections, 1024);
    }

    #[test]
    fn sign_in_links_lead_to_the_client_portal_or_to_the_built_in_pages() {
        let own = settings(&[("PUBLIC_URL", "https://api.example")]).unwrap();
        assert_eq!(
            own.client_sign_in_url(),
            "https://api.example/account/sign-in"
        );
        assert_eq!(own.client_home_url(), "https://api.example/account");
        let portal = [
            ("PUBLIC_URL", "https://api.example"),
            ("CLIENT_PORTAL_URL", "https://app.example/portal/"),
        ];
        let elsewhere = settings(&portal).unwrap();
        assert_eq!(elsewhere.client_sign_in_url(), "https://app.example/portal");
        assert_eq!(elsewhere.client_home_url(), "https://app.example/portal");
    }

    #[test]
    fn each_bad_value_names_its_variable_and_hides_secrets() {
        let cases = [
            ("DATABASE_URL", "mysql://root:hunter2@db/x"),
            ("DATABASE_URL", "not a url"),
            ("REDIS_URL", "http://nope"),
            ("BIND", "localhost"),
            ("WORKER_BIND", "9090"),
            ("APP_ENV", "staging"),
            ("LOG_FORMAT", "xml"),
            ("SESSION_TTL_SECS", "-5"),
            ("GRAPHIQL", "maybe"),
            ("PUBLIC_URL", "ftp://x"),
            ("SMTP_URL", "http://mail"),
            ("MAIL_FROM", "not an address"),
            ("RESEND_LIMIT", "0"),
            ("RESET_LINK_TTL_SECS", "soon"),
            ("PUBLIC_URL", "https://portal.example@evil.example"),
            ("PUBLIC_URL", "https://portal example"),
            ("PUBLIC_URL", "http://portal.example/?x=1"),
            ("RESEND_WINDOW_SECS", "10000000000000"),
            ("SESSION_TTL_SECS", "18446744073709551616"),
            ("EMAIL_RETRY_BASE_MS", "18446744073709551615"),
            ("DATABASE_MAX_CONNECTIONS", "4294967296"),
            ("GRAPHQL_MAX_DEPTH", "9223372036854775808"),
            ("ABUSE_LIMIT_SCALE", "1000001"),
            ("HTTP_HEADER_TIMEOUT_SECS", "0"),
            ("HTTP_BODY_TIMEOUT_SECS", "315360001"),
            ("HTTP_MAX_CONNECTIONS", "1000001"),
            ("CORS_ALLOWED_ORIGINS", "https://app.example/"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
            ("CLIENT_PORTAL_URL", "https://app.example@evil.example"),
            ("CLIENT_PORTAL_URL", "app.example"),
            ("WORKER_CONCURRENCY", "0"),
            ("WORKER_CONCURRENCY", "1025"),
        ];
        for (name, value) in cases {
            let e = settings(&[(name, value)]).unwrap_err();
            assert_eq!(e.variable, name);
            assert!(!e.to_string().contains("hunter2"));
        }
    }
}
