//! Mutation root, merged from one object per area.

mod auth;
mod clients;

use async_graphql::MergedObject;

/// All mutations.
#[derive(MergedObject, Default)]
pub struct MutationRoot(auth::AuthMutation, clients::ClientMutation);
