//! What background work can fail with.
use crate::queue::QueueError;
use sea_orm::DbErr;

/// A failure of a job or of the worker's own chores; the outbox row or the
/// intake check stays as it was, so the next sweep retries.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The batch the job was handled in failed (the reason is the batch's).
    #[error("delivery batch: {0}")]
    Batch(String),
}
