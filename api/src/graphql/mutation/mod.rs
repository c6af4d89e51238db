//! Mutation root, merged from one object per area.

mod account;
mod auth;
mod clients;
mod emails;
mod intake;

use async_graphql::MergedObject;

/// All mutations.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    auth::AuthMutation,
    clients::ClientMutation,
    emails::EmailMutation,
    account::AccountMutation,
    intake::IntakeMutation,
);
