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
    /// Reads them once the backends have reported: PostgreSQL 15 flushes an idle
    /// backend's statistics within 10 s, so call this after the load has stopped.
    pub async fn read(db: &DatabaseConnection) -> Result<Self> {
        tokio::time::sleep(Duration::from_secs(11)).await;
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

    /// What each of `requests` cost between `self` and `later` (the reading itself
    /// adds one transaction, taken off).
    pub fn per_request(&self, later: &Self, requests: usize) -> Costs {
        let n = requests.max(1) as f64;
        Costs {
            transactions: (later.transactions - self.transactions - 1) as f64 / n,
            table_scans: (later.table_scans - self.table_scans) as f64 / n,
            rows_written: (later.rows_written - self.rows_written) as f64 / n,
        }
    }
}
