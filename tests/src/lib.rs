//! Test harness: boots the real `Application` on port 0 against a fresh database
//! (a new PostgreSQL database per test, or a SQLite file in a temp dir) and talks
//! to it over HTTP like any client would.

pub mod mail;
pub mod smtp;

pub use smtp::{Received, SmtpSink, free_port};

use jobs::clock::OffsetClock;
use portal_api::configuration::Settings;
use portal_api::domain::{EmailAddress, NewPassword, PersonName};
use portal_api::service::providers::{self, NewProvider, OrganizationChoice};
use portal_api::startup::{Application, Options};
use portal_api::state::AppState;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
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
    dir: tempfile::TempDir,
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
                    dir,
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
                    dir: tempfile::tempdir().expect("temp dir"),
                }
            }
        }
    }
}

impl TestDatabase {
    /// A directory of this test's own (for `.eml` files and the like).
    pub fn scratch_dir(&self) -> &std::path::Path {
        self.dir.path()
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
    /// The app's clock; `advance` it to jump ahead without sleeping.
    pub clock: Arc<OffsetClock>,
    /// The SMTP server the app sends to, when started with [`spawn_mail_app`].
    pub smtp: Option<SmtpSink>,
    env: HashMap<String, String>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    // Declared last: the database is dropped after the server has stopped.
    pub database: Option<TestDatabase>,
}

/// Starts the app on `backend` with default settings (embedded queue, `.eml` files
/// in a temp dir).
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts the app on `backend` with extra environment variables.
pub async fn spawn_app_with(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    spawn_on_new_database(backend, env, true).await
}

async fn spawn_on_new_database(backend: Backend, env: &[(&str, &str)], worker: bool) -> TestApp {
    let database = TestDatabase::create(backend).await;
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), database.url.clone()),
        ("BIND".into(), "127.0.0.1:0".into()),
        ("DATABASE_MAX_CONNECTIONS".into(), "5".into()),
        (
            "SMTP_URL".into(),
            format!("file://{}", database.scratch_dir().display()),
        ),
    ]);
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut app = start(vars, Arc::new(OffsetClock::default()), worker).await;
    app.database = Some(database);
    app
}

/// Which queue and limiter a mail test runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Redis (production mode), under a key prefix of the test's own.
    Redis,
    /// In-process (embedded mode).
    Embedded,
}

/// Starts the app with a real SMTP sink, quick retries and, for `Queue::Redis`,
/// Redis under a fresh key prefix.
pub async fn spawn_mail_app(backend: Backend, queue: Queue, env: &[(&str, &str)]) -> TestApp {
    spawn_mail_app_with(backend, queue, env, true).await
}

/// Like [`spawn_mail_app`]; without `worker`, the instance only queues (`serve --no-worker`).
pub async fn spawn_mail_app_with(
    backend: Backend,
    queue: Queue,
    env: &[(&str, &str)],
    worker: bool,
) -> TestApp {
    let sink = SmtpSink::start();
    let mut vars: Vec<(String, String)> = vec![
        ("SMTP_URL".into(), sink.url()),
        ("EMAIL_RETRY_BASE_MS".into(), "200".into()),
        ("EMAIL_SWEEP_GRACE_MS".into(), "1000".into()),
    ];
    if queue == Queue::Redis {
        vars.push(("REDIS_URL".into(), redis_url()));
        let prefix = format!("test:{}", uuid::Uuid::new_v4().simple());
        vars.push(("REDIS_KEY_PREFIX".into(), prefix));
    }
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut app = spawn_on_new_database(backend, &pairs, worker).await;
    app.smtp = Some(sink);
    app
}

async fn start(vars: HashMap<String, String>, clock: Arc<OffsetClock>, worker: bool) -> TestApp {
    let settings =
        Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings are valid");
    portal_api::telemetry::init(settings.log_format);
    let options = Options {
        worker,
        clock: clock.clone(),
    };
    let app = Application::build_with(settings, options)
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
        clock,
        smtp: None,
        env: vars,
        shutdown: Some(tx),
        server: Some(server),
        database: None,
    }
}

impl TestApp {
    /// Another instance on the same database, Redis prefix, SMTP sink and clock,
    /// with or without its own worker (as a second `portal serve` or `portal worker`).
    pub async fn sibling(&self, worker: bool) -> TestApp {
        let mut app = start(self.env.clone(), self.clock.clone(), worker).await;
        app.smtp = self.smtp.clone();
        app
    }

    /// Stops the server and its worker, letting jobs in flight finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// The SMTP sink (panics if the app was not started with one).
    pub fn smtp(&self) -> &SmtpSink {
        self.smtp.as_ref().expect("started with spawn_mail_app")
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
        if self.database.is_some()
            && let Some(prefix) = self.env.get("REDIS_KEY_PREFIX").cloned()
        {
            let _ = std::thread::spawn(move || delete_redis_keys(&prefix)).join();
        }
    }
}

/// Removes every key a test wrote under its prefix.
fn delete_redis_keys(prefix: &str) {
    let Ok(client) = redis::Client::open(redis_url()) else {
        return;
    };
    let Ok(mut conn) = client.get_connection() else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query(&mut conn)
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&keys).query(&mut conn);
    }
    let _: redis::RedisResult<()> = redis::cmd("ZREM")
        .arg("core:apalis:queues:list")
        .arg(format!("{prefix}:deliver_email"))
        .query(&mut conn);
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
