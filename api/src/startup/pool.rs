//! The database pool: how it checks a connection before handing it out.
//!
//! sqlx's default pings every connection it hands out, a round trip before every
//! statement for nothing under load. Here a connection is pinged only when it sat
//! idle for [`PING_IF_IDLE_FOR`] (a server restart or a firewall may have dropped
//! it), or when some statement lost its connection in the last
//! [`PING_ALL_AFTER_A_LOSS`]: connections die together (a restart, a fail-over,
//! `pg_terminate_backend`), so after the first loss every connection is checked on
//! its way out of the pool and the dead ones are replaced before a request gets them.
use super::{StartupError, without_secrets};
use crate::configuration::Settings;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use secrecy::ExposeSecret;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A connection idle this long is pinged before use (HikariCP's bypass window).
const PING_IF_IDLE_FOR: Duration = Duration::from_millis(500);

/// How long after a lost connection every connection is pinged before use.
const PING_ALL_AFTER_A_LOSS: Duration = Duration::from_secs(10);

/// When a statement last lost its connection, in ms since [`START`] (plus one; 0 is
/// never).
static LOST_AT: AtomicU64 = AtomicU64::new(0);
static START: LazyLock<Instant> = LazyLock::new(Instant::now);

fn since_start() -> u64 {
    START.elapsed().as_millis() as u64 + 1
}

/// Records that a statement lost its connection: the pool checks every connection
/// it hands out for the next [`PING_ALL_AFTER_A_LOSS`].
pub fn mark_connection_lost() {
    LOST_AT.store(since_start(), Ordering::Relaxed);
}

fn lost_lately() -> bool {
    let at = LOST_AT.load(Ordering::Relaxed);
    at != 0 && since_start().saturating_sub(at) < PING_ALL_AFTER_A_LOSS.as_millis() as u64
}

/// Opens the pool (SQLite or PostgreSQL by URL) and checks it answers.
pub async fn connect_database(settings: &Settings) -> Result<DatabaseConnection, StartupError> {
    LazyLock::force(&START);
    let mut options = ConnectOptions::new(settings.database_url.expose_secret().to_owned());
    options
        .max_connections(settings.database_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .map_sqlx_postgres_before_acquire(|conn, _| {
            Box::pin(async move {
                if lost_lately() {
                    sea_orm::sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .map_err(|e| StartupError::Database(without_secrets(&e.to_string())))?;
    db.ping()
        .await
        .map_err(|e| StartupError::Database(without_secrets(&e.to_string())))?;
    Ok(db)
}
