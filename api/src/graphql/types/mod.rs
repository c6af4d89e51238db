//! GraphQL object types; they wrap entities and expose only chosen fields.

mod auth;
mod client;
mod viewer;

pub use auth::{SignInInput, SignInPayload};
pub use client::{
    Client, ClientConnection, ClientConnectionExtra, CreateClientInput, CreateClientPayload,
};
pub use viewer::{Provider, Viewer};
