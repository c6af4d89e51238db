//! Wiring the parts together: the shared state (database, limiter, queue, clock)
//! and the email worker, chosen by mode (embedded or Redis).
use super::{StartupError, connect_database, migrate};
use crate::configuration::Settings;
use crate::service::passwords::Passwords;
use crate::service::resend_cap::{
    InProcessLimiter, OutboxHistory, ResendLimiter, SendHistory, Window,
};
use crate::service::resend_cap_redis::RedisLimiter;
use entity::email_delivery::Cap;

use crate::service::throttle::{CounterStore, InProcessCounters, RedisCounters, Throttle};
use crate::state::AppState;
use access::clock::SharedClock;
use jobs::Mailer;
use jobs::Worker;
use jobs::queue::WorkerBackend;
use jobs::{Deliverer, DeliveryConfig};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

/// What `build_state` makes: the shared state and the queue's consumer end.
pub struct Built {
    pub state: AppState,
    pub backend: WorkerBackend,
}

/// The state every part of the service shares, built from settings.
pub async fn build_state(settings: Settings, clock: SharedClock) -> Result<Built, StartupError> {
    // Before anything records: what is recorded with no recorder installed is lost.
    crate::telemetry::metrics::handle();
    let db = connect_database(&settings).await?;
    if settings.run_migrations {
        migrate(&db).await?;
    }
    let passwords = Passwords::new();
    let email = &settings.email;
    let caps = [
        (Cap::Provider, "resend", email.resend_limit),
        (Cap::SelfService, "reset", email.self_reset_limit),
    ]
    .map(|(cap, name, limit)| {
        let window = Window {
            limit,
            length: email.resend_window,
        };
        let history: Arc<dyn SendHistory> = Arc::new(OutboxHistory {
            db: db.clone(),
            cap,
        });
        (name, window, history)
    });
    let (redis, [limiter, reset_limiter], counters, queue, backend): (
        _,
        [Arc<dyn ResendLimiter>; 2],
        Arc<dyn CounterStore>,
        _,
        _,
    ) = match &settings.redis_url {
        None => {
            let (queue, backend) = jobs::queue::memory();
            let limiters = caps.map(|(_, window, history)| {
                Arc::new(InProcessLimiter::new(window, history)) as Arc<dyn ResendLimiter>
            });
            (
                None,
                limiters,
                Arc::new(InProcessCounters::default()),
                queue,
                backend,
            )
        }
        Some(url) => {
            let client = redis::Client::open(url.expose_secret())
                .map_err(|_| config_error("REDIS_URL", "cannot be parsed"))?;
            // Lazy: the API starts (and answers SERVICE_UNAVAILABLE) while Redis is down.
            let conn = redis::aio::ConnectionManager::new_lazy_with_config(
                client.clone(),
                redis_connection_config(),
            )
            .map_err(|e| config_error("REDIS_URL", &e.to_string()))?;
            let prefix = &email.redis_key_prefix;
            let (queue, backend) = jobs::queue::redis(conn.clone(), prefix);
            let limiters = caps.map(|(name, window, history)| {
                let limiter = RedisLimiter::new(conn.clone(), window, prefix, name, history);
                Arc::new(limiter) as Arc<dyn ResendLimiter>
            });
            let counters = RedisCounters::new(conn);
            (Some(client), limiters, Arc::new(counters), queue, backend)
        }
    };
    let throttle = Throttle::new(
        counters,
        clock.clone(),
        &email.redis_key_prefix,
        settings.abuse_limit_scale,
    );
    let state = AppState {
        throttle,
        db,
        redis,
        settings: Arc::new(settings),
        passwords,
        clock,
        limiter,
        reset_limiter,
        queue,
        background: Arc::default(),
    };
    Ok(Built { state, backend })
}

fn config_error(variable: &'static str, message: &str) -> StartupError {
    StartupError::Config(crate::configuration::ConfigError {
        variable,
        message: message.to_owned(),
    })
}

/// Short timeouts and few retries: a request waits at most a couple of seconds for
/// Redis before the answer is SERVICE_UNAVAILABLE.
fn redis_connection_config() -> redis::aio::ConnectionManagerConfig {
    redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500))
}

/// The email worker for `state`, consuming `backend`.
pub fn email_worker(state: &AppState, backend: WorkerBackend) -> Result<Worker, StartupError> {
    let email = &state.settings.email;
    let mailer = Mailer::from_url(email.smtp_url.expose_secret())
        .map_err(|m| config_error("SMTP_URL", &m))?
        .signed_by(email.dkim.clone());
    super::dkim_notice::announce(&state.settings);
    let config = DeliveryConfig {
        public_url: state.settings.public_url.clone(),
        portal_url: state.settings.client_home_url(),
        mail_from: email.mail_from.clone(),
        reset_link_ttl: email.reset_link_ttl,
        max_attempts: email.max_attempts,
        retry_base: email.retry_base,
        lease: jobs::CLAIM_LEASE,
    };
    Ok(Worker {
        deliverer: Arc::new(Deliverer {
            db: state.db.clone(),
            mailer,
            clock: state.clock.clone(),
            config,
        }),
        backend,
        queue: state.queue.clone(),
        sweep_grace: email.sweep_grace,
        concurrency: email.worker_concurrency,
    })
}

/// Choices made by the caller rather than the environment.
pub struct Options {
    /// Run the email worker in this process (`serve` without `--no-worker`).
    pub worker: bool,
    pub clock: SharedClock,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            worker: true,
            clock: access::clock::system(),
        }
    }
}
