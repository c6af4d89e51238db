//! Background work of portal-access: the email outbox (delivery, sweeper), the
//! intake check, housekeeping, and the queue adapter they run on. It depends on
//! `entity` and `access`, never on `api`; the API uses only [`queue::JobQueue`]
//! and the worker's construction ([`Worker`], [`Deliverer`], [`Mailer`]).

pub mod check_intake_forms;
pub mod deliver_email;
pub mod dkim;
pub mod error;
pub mod mailer;
pub mod maintenance;
pub mod metrics;
pub mod periodic;
pub mod queue;
pub mod sweeper;
pub mod templates;
pub mod worker;

pub use deliver_email::{CLAIM_LEASE, Deliverer, DeliveryConfig, Outcome};
pub use error::JobError;
pub use mailer::Mailer;
pub use worker::Worker;
