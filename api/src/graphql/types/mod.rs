//! GraphQL object types; they wrap entities and expose only chosen fields.

mod account;
mod audit;
mod auth;
mod client;
mod datetime;
mod delivery;
mod intake;
mod viewer;

pub use account::*;
pub use audit::{AuditEvent, AuditEventConnection};
pub use auth::{SignInInput, SignInPayload};
pub use client::{
    Client, ClientConnection, ClientConnectionExtra, CreateClientInput, CreateClientPayload,
};
pub use delivery::EmailDelivery;
pub use intake::*;
pub use viewer::{Provider, Viewer};
