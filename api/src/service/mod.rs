//! The rules, independent of GraphQL: resolvers parse input and call one function here.

pub mod audit;
pub mod auth;
pub mod clients;
pub mod passwords;
pub mod providers;
pub mod sessions;
