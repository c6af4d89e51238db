//! The audit trail; the writer lives in `jobs` so the worker records what it does too.
pub use jobs::audit::*;
