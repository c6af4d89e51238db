//! sea-orm entities of portal-access: plain table models, nothing else.
//! The GraphQL layer has its own types, so no column reaches the schema by accident.

pub mod account_link;
pub mod audit_event;
pub mod client;
pub mod email_delivery;
pub mod organization;
pub mod provider;
pub mod session;
