//! The outbox's metrics: what each delivery came to, how long an email took from
//! being queued to being accepted by the mail server, and how many wait. The
//! process that exports them (`portal serve` or `portal worker`) installs the
//! recorder and calls [`describe`] and [`register_zeros`].
use crate::deliver_email::Outcome;
use crate::periodic::every;
use chrono::{DateTime, Utc};
use entity::email_delivery::{self, DeliveryStatus, EmailKind};
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};
use sea_orm::{FromQueryResult, Iterable};
use std::time::Duration;
use tokio::sync::watch;

/// `email_deliveries_total{kind, outcome}`.
pub const DELIVERIES: &str = "email_deliveries_total";
/// `email_delivery_latency_seconds{kind}`: queued → accepted by the SMTP server.
pub const DELIVERY_LATENCY: &str = "email_delivery_latency_seconds";
/// Buckets of [`DELIVERY_LATENCY`]: 50 ms to an hour (retries back off to 10 min).
pub const DELIVERY_LATENCY_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];
/// `email_outbox_emails{status}`: emails waiting, queued or being sent.
pub const OUTBOX: &str = "email_outbox_emails";
/// `email_outbox_oldest_queued_seconds`: age of the oldest queued email.
pub const OUTBOX_OLDEST: &str = "email_outbox_oldest_queued_seconds";

/// How often the outbox gauges are read from the database.
pub const OUTBOX_EVERY: Duration = Duration::from_secs(15);

/// What a delivery attempt came to, as the `outcome` label says it.
const OUTCOMES: [&str; 4] = ["sent", "failed", "retried", "superseded"];
/// The statuses [`OUTBOX`] reports: the ones still moving.
const WAITING: [DeliveryStatus; 2] = [DeliveryStatus::Queued, DeliveryStatus::Sending];

/// HELP text for every family here.
pub fn describe() {
    describe_counter!(
        DELIVERIES,
        "Email delivery attempts by kind and outcome: sent (accepted by the SMTP server), failed (given up), retried (transient error, queued again) or superseded (found stale when its turn came, not sent)."
    );
    describe_histogram!(
        DELIVERY_LATENCY,
        Unit::Seconds,
        "Time from an email being queued to the SMTP server accepting it, by kind (retries included)."
    );
    describe_gauge!(
        OUTBOX,
        "Emails in the outbox not yet done, by status (queued, sending); read from the database every 15 s."
    );
    describe_gauge!(
        OUTBOX_OLDEST,
        Unit::Seconds,
        "Age of the oldest queued email (0 when none); read from the database every 15 s."
    );
}

/// Every kind × outcome at 0, so a rate over failures exists before the first one.
pub fn register_zeros() {
    for kind in EmailKind::iter() {
        for outcome in OUTCOMES {
            metrics::counter!(DELIVERIES, "kind" => kind.as_str(), "outcome" => outcome)
                .absolute(0);
        }
    }
}

/// Counts one handled delivery; `queued_at` is when its email entered the outbox.
pub fn record(kind: EmailKind, outcome: &Outcome, queued_at: DateTime<Utc>, now: DateTime<Utc>) {
    let label = match outcome {
        Outcome::Sent => "sent",
        Outcome::Failed => "failed",
        Outcome::Retrying { .. } => "retried",
        Outcome::Superseded => "superseded",
        Outcome::Skipped => return,
    };
    metrics::counter!(DELIVERIES, "kind" => kind.as_str(), "outcome" => label).increment(1);
    if *outcome == Outcome::Sent {
        let waited = (now - queued_at).to_std().unwrap_or_default();
        metrics::histogram!(DELIVERY_LATENCY, "kind" => kind.as_str()).record(waited.as_secs_f64());
    }
}

#[derive(Debug, FromQueryResult)]
struct StatusCount {
    status: DeliveryStatus,
    count: i64,
}

/// Reads the outbox gauges once: a count per waiting status and the oldest queued
/// email, both over the `(status, next_attempt_at)` index.
pub async fn refresh_outbox(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<(), DbErr> {
    let counts = email_delivery::Entity::find()
        .select_only()
        .column(email_delivery::Column::Status)
        .column_as(Expr::col(email_delivery::Column::Id).count(), "count")
        .filter(email_delivery::Column::Status.is_in(WAITING))
        .group_by(email_delivery::Column::Status)
        .into_model::<StatusCount>()
        .all(db)
        .await?;
    for status in WAITING {
        let n = counts
            .iter()
            .find(|c| c.status == status)
            .map_or(0, |c| c.count);
        metrics::gauge!(OUTBOX, "status" => status_name(status)).set(n as f64);
    }
    let oldest: Option<Option<DateTime<Utc>>> = email_delivery::Entity::find()
        .select_only()
        .column_as(Expr::col(email_delivery::Column::CreatedAt).min(), "oldest")
        .filter(email_delivery::Column::Status.eq(DeliveryStatus::Queued))
        .into_tuple()
        .one(db)
        .await?;
    let age = oldest
        .flatten()
        .and_then(|at| (now - at).to_std().ok())
        .unwrap_or_default();
    metrics::gauge!(OUTBOX_OLDEST).set(age.as_secs_f64());
    Ok(())
}

fn status_name(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Queued => "queued",
        DeliveryStatus::Sending => "sending",
        DeliveryStatus::Sent => "sent",
        DeliveryStatus::Failed => "failed",
        DeliveryStatus::Superseded => "superseded",
    }
}

/// Refreshes the outbox gauges every [`OUTBOX_EVERY`] until `stop` turns true.
pub async fn watch_outbox(
    db: DatabaseConnection,
    clock: access::clock::SharedClock,
    stop: watch::Receiver<bool>,
) {
    every(OUTBOX_EVERY, stop, move || {
        let db = db.clone();
        let clock = clock.clone();
        async move {
            if let Err(e) = refresh_outbox(&db, clock.now()).await {
                tracing::debug!(error = %e, "outbox gauges not refreshed; will retry");
            }
        }
    })
    .await
}
