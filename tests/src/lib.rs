//! Test harness: boots the real `Application` on port 0 against a fresh database
//! (a new PostgreSQL database per test, or a SQLite file in a temp dir) and talks
//! to it over HTTP like any client would.

pub mod app;
pub mod axe;
pub mod browser;
pub mod database;
pub mod logscan;
pub mod mail;
pub mod nginx;
pub mod pages;
pub mod ports;
pub mod process;
pub mod smtp;

pub use app::*;
pub use database::TestDatabase;
pub use ports::ReservedPort;
pub use smtp::{Received, SmtpSink};

use portal_api::domain::{EmailAddress, NewPassword, PersonName};
use portal_api::service::providers::{self, NewProvider, OrganizationChoice};
use serde_json::{Value, json};

/// What `APP_ENV=production` needs on top of what [`spawn_mail_app`] with
/// `Queue::Redis` on PostgreSQL sets (database, Redis, SMTP server).
pub const PRODUCTION: &[(&str, &str)] = &[
    ("APP_ENV", "production"),
    ("MAIL_FROM", "Sunrise Clinic <no-reply@sunrise.test>"),
    ("PUBLIC_URL", "https://portal.sunrise.test"),
];

/// A password every test provider gets; strong enough for zxcvbn.
pub const PASSWORD: &str = "correct horse battery staple tuba";

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The Redis server tests use.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A provider created for a test, signed in.
pub struct TestProvider {
    pub organization_id: uuid::Uuid,
    pub email: String,
    pub token: String,
}

impl TestApp {
    /// Posts a GraphQL operation as JSON and returns the decoded body.
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        logscan::secrets_in_request(query, &variables);
        let mut req = self
            .http
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let body: Value = req
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("JSON body");
        logscan::secrets_in(&body["data"]);
        body
    }

    /// Creates an organization with one provider, as `portal create-provider` does.
    pub async fn create_provider(&self, organization: &str, email: &str) -> uuid::Uuid {
        let new = NewProvider {
            organization: OrganizationChoice::New {
                name: organization.to_owned(),
            },
            email: EmailAddress::parse(email, "email").unwrap(),
            name: PersonName::parse("Dr Test", "name").unwrap(),
            password: NewPassword::parse(PASSWORD.to_owned().into(), &[]).unwrap(),
        };
        let (org, _) = providers::create_provider(&self.state.db, &self.state.passwords, new)
            .await
            .expect("provider created");
        org.id
    }

    /// Signs in through GraphQL and returns the token.
    pub async fn sign_in(&self, email: &str, password: &str) -> Value {
        self.graphql(
            "mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) { token expiresAt provider { email } } }",
            json!({ "e": email, "p": password }),
            None,
        )
        .await
    }

    /// A new organization with a signed-in provider.
    pub async fn signed_in_provider(&self, organization: &str) -> TestProvider {
        let email = format!("dr.{}@practice.test", uuid::Uuid::new_v4().simple());
        let organization_id = self.create_provider(organization, &email).await;
        let body = self.sign_in(&email, PASSWORD).await;
        let token = body["data"]["signIn"]["token"]
            .as_str()
            .expect("signed in")
            .to_owned();
        TestProvider {
            organization_id,
            email,
            token,
        }
    }

    /// Creates a client through GraphQL and returns the whole response.
    pub async fn create_client(
        &self,
        token: &str,
        first: &str,
        last: &str,
        email: Option<&str>,
    ) -> Value {
        self.graphql(
            "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id firstName lastName email status } } }",
            json!({ "i": { "firstName": first, "lastName": last, "email": email } }),
            Some(token),
        )
        .await
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// Runs one async test body against PostgreSQL and against SQLite.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                super::$name($crate::Backend::Postgres).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
        }
    )+};
}

/// Runs one async mail test in production mode (PostgreSQL + Redis) and in embedded
/// mode (SQLite + in-process queue and limiter).
#[macro_export]
macro_rules! in_both_modes {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn in_production_mode() {
                super::$name($crate::Backend::Postgres, $crate::Queue::Redis).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn in_embedded_mode() {
                super::$name($crate::Backend::Sqlite, $crate::Queue::Embedded).await
            }
        }
    )+};
}
