//! `portal worker`: the email worker, and beside it `/healthz`, `/readyz` (database,
//! Redis, mail server) and `/metrics` on `WORKER_BIND`, for the orchestrator and
//! Prometheus.
use super::{StartupError, build_state, email_worker, listen, shutdown_signal};
use crate::configuration::Settings;
use crate::state::AppState;
use crate::web::{self, Probes};
use jobs::{Mailer, Worker};
use poem::Server;
use poem::listener::{AcceptorExt, BoxAcceptor};
use secrecy::ExposeSecret;
use std::time::Duration;

/// A built worker with its health and metrics endpoints bound.
pub struct WorkerProcess {
    port: u16,
    state: AppState,
    worker: Worker,
    server: Server<std::convert::Infallible, BoxAcceptor>,
    probe: Mailer,
}

impl WorkerProcess {
    /// Binds `WORKER_BIND` (port 0 picks a free port), connects and migrates.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let (acceptor, port) = listen("WORKER_BIND", settings.worker_bind).await?;
        let probe =
            Mailer::probe_from_url(settings.email.smtp_url.expose_secret()).map_err(|message| {
                StartupError::Config(crate::configuration::ConfigError {
                    variable: "SMTP_URL",
                    message,
                })
            })?;
        let built = build_state(settings, access::clock::system()).await?;
        let worker = email_worker(&built.state, built.backend)?;
        Ok(Self {
            port,
            state: built.state,
            worker,
            server: Server::new_with_acceptor(acceptor.boxed()),
            probe,
        })
    }

    /// The port of the health and metrics endpoints.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until `shutdown` resolves: jobs in flight finish, then the endpoints stop.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let Self {
            state,
            worker,
            server,
            probe,
            ..
        } = self;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let outbox = tokio::spawn(jobs::metrics::watch_outbox(
            state.db.clone(),
            state.clock.clone(),
            stop_rx.clone(),
        ));
        let probes = Probes {
            app: state,
            mailer: Some(probe),
        };
        let mut stopped = stop_rx.clone();
        let endpoints = tokio::spawn(server.run_with_graceful_shutdown(
            web::worker_routes(probes),
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
            Some(Duration::from_secs(2)),
        ));
        worker.run(shutdown).await;
        let _ = stop_tx.send(true);
        let _ = outbox.await;
        match endpoints.await {
            Ok(served) => served,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// Runs until the process gets Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}
