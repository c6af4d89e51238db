//! Building and running the service: `Application::build(settings)` connects,
//! migrates and binds (port 0 works), `run_until_stopped` serves.
use crate::configuration::{AppEnv, Settings};
use crate::graphql::build_schema;
use crate::state::AppState;
use crate::web::connections::{self, Connections};
use crate::web::{self, WebState};
use jobs::Worker;
use migration::{Migrator, MigratorTrait};
use poem::Server;
use poem::listener::{Acceptor, AcceptorExt, Listener, TcpListener};
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

mod dkim_notice;
mod pool;
mod wiring;
mod worker;

pub use pool::{connect_database, mark_connection_lost};

pub use wiring::{Built, Options, build_state, email_worker};
pub use worker::WorkerProcess;

/// Why the service could not start; `Display` is the one line shown to the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::configuration::ConfigError),
    #[error("DATABASE_URL: cannot connect to the database: {0}")]
    Database(String),
    #[error("DATABASE_URL: migrations failed: {0}")]
    Migration(String),
    #[error("{variable}: cannot listen on {addr}: {reason}")]
    Bind {
        variable: &'static str,
        addr: SocketAddr,
        reason: String,
    },
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

/// Binds `addr` (port 0 picks a free port); returns the acceptor and the port bound.
async fn listen(
    variable: &'static str,
    addr: SocketAddr,
) -> Result<(impl Acceptor + 'static, u16), StartupError> {
    let acceptor =
        TcpListener::bind(addr)
            .into_acceptor()
            .await
            .map_err(|e| StartupError::Bind {
                variable,
                addr,
                reason: e.to_string(),
            })?;
    let port = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().map(|s| s.port()))
        .unwrap_or(addr.port());
    Ok((acceptor, port))
}

/// How long a stopping server waits for work its requests started after answering.
const BACKGROUND_DRAIN: Duration = Duration::from_secs(10);

/// A bound, ready-to-run HTTP service.
pub struct Application {
    port: u16,
    state: AppState,
    worker: Option<Worker>,
    server: Server<std::convert::Infallible, poem::listener::BoxAcceptor>,
    connections: Arc<Connections>,
}

impl Application {
    /// Connects, migrates and binds `BIND` (port 0 picks a free port), with the
    /// email worker in-process.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with(settings, Options::default()).await
    }

    /// Like [`Application::build`], with the caller's choices.
    pub async fn build_with(
        mut settings: Settings,
        options: Options,
    ) -> Result<Self, StartupError> {
        let bind = settings.bind;
        let (acceptor, port) = listen("BIND", bind).await?;
        if settings.public_url_from_bind {
            // Links in emails must point at the port actually bound (BIND=…:0).
            settings.public_url = format!("http://{}:{port}", bind.ip());
        }
        let Built { state, backend } = build_state(settings, options.clock).await?;
        let passwords = state.passwords.clone();
        // Off the runtime; a panic (argon2 cannot run here) is a bug, not a setting.
        if let Err(e) = tokio::task::spawn_blocking(move || passwords.prepare()).await {
            std::panic::resume_unwind(e.into_panic());
        }
        let worker = match options.worker {
            true => Some(email_worker(&state, backend)?),
            false => None,
        };
        let connections = Connections::new(&state.settings.http);
        let acceptor = connections::guard(&connections, acceptor);
        let server = Server::new_with_acceptor(acceptor.boxed());
        Ok(Self {
            port,
            state,
            worker,
            server,
            connections,
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

    /// Serves until `shutdown` resolves, then drains requests for up to 10 s and
    /// stops the worker.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let Self {
            state,
            worker,
            server,
            connections,
            ..
        } = self;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = worker.map(|w| {
            let mut rx = stop_rx.clone();
            tokio::spawn(w.run(async move {
                let _ = rx.wait_for(|s| *s).await;
            }))
        });
        let resets = tokio::spawn(crate::service::reset_requests::sweep(
            state.clone(),
            stop_rx.clone(),
        ));
        let outbox = tokio::spawn(jobs::metrics::watch_outbox(
            state.db.clone(),
            state.clock.clone(),
            stop_rx.clone(),
        ));
        let settings = &state.settings;
        let introspection = settings.app_env == AppEnv::Development;
        let schema = build_schema(Some(state.clone()), &settings.limits, introspection);
        let web = WebState {
            app: state.clone(),
            schema,
        };
        let routes = web::routes(web, connections);
        let served = server
            .run_with_graceful_shutdown(routes, shutdown, Some(Duration::from_secs(10)))
            .await;
        let _ = stop_tx.send(true);
        // Work requests started after answering (password resets) finishes first.
        let background = tokio::time::timeout(BACKGROUND_DRAIN, state.background.write()).await;
        if background.is_err() {
            tracing::warn!("stopped with background work running; it is picked up again");
        }
        let _ = resets.await;
        let _ = outbox.await;
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        served
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
