//! sea-orm entities of portal-access: plain table models, nothing else.
//! The GraphQL layer has its own types, so no column reaches the schema by accident.

pub mod account_link;
pub mod audit_event;
pub mod client;
pub mod email_delivery;
pub mod intake_assignment;
pub mod intake_check;
pub mod intake_form;
pub mod message;
pub mod organization;
pub mod password_reset_request;
pub mod provider;
pub mod session;
