//! portal-access: gets a practice's clients into their client portal.
//! The binary `portal` (see `main.rs`) drives everything through [`startup::Application`].

pub mod cli;
pub mod configuration;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod service;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
