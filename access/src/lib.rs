//! The rules of portal-access that both the API and the worker apply, in one place:
//! secret tokens, the clock, the audit writer, the outbox insert and R4's link
//! invalidation. It depends on `entity` only; `jobs` and `api` depend on it.

pub mod audit;
pub mod batch;
pub mod clock;
pub mod intake_check;
pub mod intake_forms;
pub mod invalidation;
pub mod link_email;
pub mod outbox;
pub mod token;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
