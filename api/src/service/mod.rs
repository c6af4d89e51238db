//! The rules, independent of GraphQL: resolvers parse input and call one function here.

pub mod audit_trail;
pub mod auth;
pub mod client_accounts;
pub mod client_email;
pub mod clients;
pub mod deliveries;
pub mod intake;
pub mod links;
pub mod messages;
pub mod password_set;
pub mod passwords;
pub mod providers;
pub mod resend;
pub mod resend_cap;
pub mod resend_cap_redis;
pub mod reset_requests;
pub mod sessions;
pub mod throttle;
