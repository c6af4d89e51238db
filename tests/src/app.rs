//! Starting the real application in-process, on port 0, in either mode.
use crate::{Backend, SmtpSink, TestDatabase, redis_url};
use access::clock::OffsetClock;
use portal_api::configuration::Settings;
use portal_api::startup::{Application, Options};
use portal_api::state::AppState;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::oneshot;

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
    crate::logscan::install();
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
        if let Some(database) = &self.database {
            crate::logscan::stored_secrets(&database.url);
        }
        crate::logscan::assert_no_leaks();
    }
}

/// Removes every key written under `prefix` (and its queues' entries in apalis' list).
pub fn delete_redis_keys(prefix: &str) {
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
    // apalis lists each queue's workers set (`{prefix}:{queue}:workers`) there.
    const QUEUES_LIST: &str = "core:apalis:queues:list";
    let listed: Vec<String> = redis::cmd("ZRANGE")
        .arg(QUEUES_LIST)
        .arg(0)
        .arg(-1)
        .query(&mut conn)
        .unwrap_or_default();
    let own = format!("{prefix}:");
    let ours: Vec<&String> = listed.iter().filter(|m| m.starts_with(&own)).collect();
    if !ours.is_empty() {
        let _: redis::RedisResult<()> = redis::cmd("ZREM")
            .arg(QUEUES_LIST)
            .arg(ours)
            .query(&mut conn);
    }
}
