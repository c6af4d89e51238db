//! Logging and metrics. Logs: pretty for people, one flat JSON object per line for
//! machines; `RUST_LOG` filters (default info). Metrics: see [`metrics`].
use crate::configuration::LogFormat;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

mod json;
pub mod metrics;

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(json::FlatJson),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().with_target(false)).try_init(),
    };
}
