//! Test harness: boots the real `Application` on port 0 against a fresh database
//! (a new PostgreSQL database per test, or a SQLite file in a temp dir) and talks
//! to it over HTTP like any client would.

use portal_api::configuration::Settings;
use portal_api::domain::{EmailAddress, NewPassword, PersonName};
use portal_api::service::providers::{self, NewProvider, OrganizationChoice};
use portal_api::startup::Application;
use portal_api::state::AppState;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::collections::HashMap;
use tokio::sync::oneshot;

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

/// A fresh database: created now, dropped (or deleted) when this guard drops.
pub struct TestDatabase {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("portal.db").display()
                );
                Self {
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let name = format!("portal_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(postgres_admin_url())
                    .await
                    .expect("PostgreSQL reachable");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let base = postgres_admin_url();
                let server = base.rsplit_once('/').map(|(s, _)| s).unwrap_or(&base);
                Self {
                    url: format!("{server}/{name}"),
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread does the work.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                if let Ok(admin) = Database::connect(postgres_admin_url()).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
            Ok::<_, std::io::Error>(())
        })
        .join();
    }
}

/// A running application and an HTTP client for it.
pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    // Declared last: the database is dropped after the server has stopped.
    pub database: TestDatabase,
}

/// Starts the app on `backend` with default settings.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts the app on `backend` with extra environment variables.
pub async fn spawn_app_with(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    let database = TestDatabase::create(backend).await;
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), database.url.clone()),
        ("BIND".into(), "127.0.0.1:0".into()),
        ("DATABASE_MAX_CONNECTIONS".into(), "5".into()),
    ]);
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let settings =
        Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings are valid");
    portal_api::telemetry::init(settings.log_format);
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = app
            .run_until(async {
                let _ = rx.await;
            })
            .await;
    });
    TestApp {
        address,
        http: reqwest::Client::new(),
        state,
        shutdown: Some(tx),
        server: Some(server),
        database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
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
        let mut req = self
            .http
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("JSON body")
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
