//! Building and running the service: `Application::build(settings)` connects,
//! migrates and binds (port 0 works), `run_until_stopped` serves.
use crate::configuration::{AppEnv, Settings};
use crate::graphql::build_schema;
use crate::service::passwords::Passwords;
use crate::state::AppState;
use crate::web::{self, WebState};
use migration::{Migrator, MigratorTrait};
use poem::Server;
use poem::listener::{Acceptor, AcceptorExt, Listener, TcpListener};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Why the service could not start; `Display` is the one line shown to the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::configuration::ConfigError),
    #[error("DATABASE_URL: cannot connect to the database: {0}")]
    Database(String),
    #[error("DATABASE_URL: migrations failed: {0}")]
    Migration(String),
    #[error("BIND: cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
}

/// Opens the pool (SQLite or PostgreSQL by URL) and checks it answers.
pub async fn connect_database(settings: &Settings) -> Result<DatabaseConnection, StartupError> {
    let mut options = ConnectOptions::new(settings.database_url.expose_secret().to_owned());
    options
        .max_connections(settings.database_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .map_err(|e| StartupError::Database(without_secrets(&e.to_string())))?;
    db.ping()
        .await
        .map_err(|e| StartupError::Database(without_secrets(&e.to_string())))?;
    Ok(db)
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), StartupError> {
    Migrator::up(db, None)
        .await
        .map_err(|e| StartupError::Migration(e.to_string()))
}

/// Drivers sometimes echo the URL; never let a password through.
fn without_secrets(message: &str) -> String {
    message
        .split_whitespace()
        .map(|w| {
            if w.contains("://") && w.contains('@') {
                "<url>"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The state every part of the service shares, built from settings.
pub async fn build_state(settings: Settings) -> Result<AppState, StartupError> {
    let db = connect_database(&settings).await?;
    if settings.run_migrations {
        migrate(&db).await?;
    }
    let redis = match &settings.redis_url {
        None => None,
        Some(url) => Some(redis::Client::open(url.expose_secret()).map_err(|_| {
            crate::configuration::ConfigError {
                variable: "REDIS_URL",
                message: "cannot be parsed".into(),
            }
        })?),
    };
    let passwords = tokio::task::spawn_blocking(Passwords::new)
        .await
        .map_err(|e| StartupError::Database(format!("start-up task failed: {e}")))?;
    Ok(AppState {
        db,
        redis,
        settings: Arc::new(settings),
        passwords,
    })
}

/// A bound, ready-to-run HTTP service.
pub struct Application {
    port: u16,
    state: AppState,
    server: Server<std::convert::Infallible, poem::listener::BoxAcceptor>,
}

impl Application {
    /// Connects, migrates and binds `BIND` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let bind = settings.bind;
        let state = build_state(settings).await?;
        let acceptor =
            TcpListener::bind(bind)
                .into_acceptor()
                .await
                .map_err(|e| StartupError::Bind {
                    addr: bind,
                    reason: e.to_string(),
                })?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().map(|s| s.port()))
            .unwrap_or(bind.port());
        let server = Server::new_with_acceptor(acceptor.boxed());
        Ok(Self {
            port,
            state,
            server,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (database, settings), for tests and the CLI.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then drains requests for up to 10 s.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let settings = &self.state.settings;
        let introspection = settings.app_env == AppEnv::Development;
        let schema = build_schema(Some(self.state.clone()), &settings.limits, introspection);
        crate::web::health_recorder();
        let routes = web::routes(WebState {
            app: self.state.clone(),
            schema,
        });
        self.server
            .run_with_graceful_shutdown(routes, shutdown, Some(Duration::from_secs(10)))
            .await
    }

    /// Serves until the process gets Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
