//! Background work of portal-access: the email outbox (delivery, sweeper), its
//! queue, and housekeeping. It depends on `entity` only, never on `api`.

pub mod audit;
pub mod check_intake_forms;
pub mod clock;
pub mod deliver_email;
pub mod mailer;
pub mod maintenance;
pub mod outbox;
pub mod queue;
pub mod sweeper;
pub mod templates;
pub mod token;
pub mod worker;
