//! The resend path over HTTP (load from `wrk`) and its floor (`pgbench` running the
//! same transaction with one connection per concurrent client), plus what one
//! resend costs PostgreSQL, from its statistics views.
use crate::external;
use crate::load::Stats;
use crate::seed::Practice;
use anyhow::Result;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

/// The operation the load sends (bench/floor/resend.lua sends the same).
pub const QUERY: &str =
    "mutation($id: ID!) { resendWelcomeEmail(clientId: $id) { resendsRemaining } }";

/// "token client-id" lines for wrk, interleaving practices so that consecutive
/// requests go to different practices and clients.
pub fn targets_file(practices: &[Practice]) -> Result<tempfile::NamedTempFile> {
    let longest = practices.iter().map(|p| p.clients.len()).max().unwrap_or(0);
    let mut file = tempfile::NamedTempFile::new()?;
    for i in 0..longest {
        for p in practices {
            if let Some(c) = p.clients.get(i) {
                writeln!(file, "{} {c}", p.token)?;
            }
        }
    }
    file.flush()?;
    Ok(file)
}

/// `resendWelcomeEmail` over HTTP from `connections` wrk connections.
pub fn api(
    url: &str,
    targets: &std::path::Path,
    connections: usize,
    duration: Duration,
) -> Result<Stats> {
    external::wrk_resend(url, targets, connections, duration)
}

/// The two floors, each run by pgbench with one connection per client.
#[derive(Debug, Clone, Copy)]
pub enum Floor {
    /// bench/floor/resend.sql: the resend-shaped transaction, statement by statement,
    /// as the performance issue measured it.
    Transaction,
    /// bench/floor/resend_one.sql: the one statement the service sends PostgreSQL.
    OneStatement,
}

impl Floor {
    pub fn run(
        self,
        database_url: &str,
        seeded: (usize, usize),
        connections: usize,
        duration: Duration,
    ) -> Result<Stats> {
        let script = match self {
            Self::Transaction => "resend.sql",
            Self::OneStatement => "resend_one.sql",
        };
        external::pgbench_resend(database_url, script, seeded, connections, duration)
    }
}

/// PostgreSQL's own counters for the bench database.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    transactions: i64,
    table_scans: i64,
    rows_written: i64,
}

/// The one connection [`Counters`] are read on: its own statements are then the
/// same two between any two readings, whatever else ran.
pub struct Reader(DatabaseConnection);

impl Reader {
    pub async fn open(database_url: &str) -> Result<Self> {
        let mut options = sea_orm::ConnectOptions::new(database_url);
        options
            .max_connections(1)
            .min_connections(1)
            .sqlx_logging(false);
        Ok(Self(sea_orm::Database::connect(options).await?))
    }
}

/// Per-request costs between two readings of [`Counters`].
pub struct Costs {
    pub transactions: f64,
    pub table_scans: f64,
    pub rows_written: f64,
}

impl Costs {
    pub fn json(&self) -> Value {
        json!({ "transactions": self.transactions, "table_scans": self.table_scans, "rows_written": self.rows_written })
    }
}

impl Counters {
    /// Reads them once every other session on the bench database has reported.
    ///
    /// A PostgreSQL 15 backend reports its statistics at most once a second while
    /// busy, then within 10 s of going idle, or when it ends. So this ends every
    /// client session that was open when the reading began, each once it has been
    /// idle for a second, and waits until they are gone (10 s at most): pgbench's
    /// have ended with it, and the service pings a connection idle for 500 ms before
    /// using it, so its pool replaces them without a failed statement. Waiting 11 s
    /// per reading instead cost the bench's run ~65 s.
    pub async fn read(reader: &Reader) -> Result<Self> {
        let db = &reader.0;
        db.execute_unprepared(
            "DO $$ BEGIN \
               FOR i IN 1..200 LOOP \
                 PERFORM pg_stat_clear_snapshot(); \
                 PERFORM pg_terminate_backend(pid) FROM pg_stat_activity \
                   WHERE datname = current_database() AND pid <> pg_backend_pid() \
                     AND backend_type = 'client backend' AND backend_start < now() \
                     AND state = 'idle' AND state_change < clock_timestamp() - interval '1 s'; \
                 EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity \
                   WHERE datname = current_database() AND pid <> pg_backend_pid() \
                     AND backend_type = 'client backend' AND backend_start < now()); \
                 PERFORM pg_sleep(0.05); \
               END LOOP; \
               PERFORM pg_stat_force_next_flush(); \
             END $$",
        )
        .await?;
        let sql = "SELECT \
            (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database())::bigint AS transactions, \
            (SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables)::bigint AS table_scans, \
            (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables)::bigint AS rows_written";
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no statistics row"))?;
        Ok(Self {
            transactions: row.try_get("", "transactions")?,
            table_scans: row.try_get("", "table_scans")?,
            rows_written: row.try_get("", "rows_written")?,
        })
    }

    /// What each of `requests` cost between `self` and `later` (the reader's own
    /// two transactions, the previous reading's query and this one's wait, which
    /// reports them, taken off).
    pub fn per_request(&self, later: &Self, requests: usize) -> Costs {
        let n = requests.max(1) as f64;
        Costs {
            transactions: (later.transactions - self.transactions - 2) as f64 / n,
            table_scans: (later.table_scans - self.table_scans) as f64 / n,
            rows_written: (later.rows_written - self.rows_written) as f64 / n,
        }
    }
}
