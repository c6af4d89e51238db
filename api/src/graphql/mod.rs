//! The GraphQL schema: thin resolvers over `service`, errors mapped in one place.

mod context;
pub mod error;
mod limits;
mod mutation;
mod nul;
mod query;
mod types;

use crate::configuration::GraphqlLimits;
use crate::state::AppState;
use async_graphql::{EmptySubscription, Schema};

pub use context::RequestContext;
pub use mutation::MutationRoot;
pub use query::QueryRoot;

/// The served schema.
pub type PortalSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema with its limits; `state` is absent only when printing the SDL.
pub fn build_schema(
    state: Option<AppState>,
    limits: &GraphqlLimits,
    introspection: bool,
) -> PortalSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_recursive_depth(limits.max_depth * 2)
    .limit_directives(8)
    .extension(limits::DocumentLimits::new(
        limits.max_aliases,
        limits.max_complexity,
    ))
    .extension(nul::NoNulText);
    if !introspection {
        builder = builder.disable_introspection();
    }
    if let Some(state) = state {
        builder = builder.data(state);
    }
    builder.finish()
}

/// The schema in SDL, exactly as `schema.graphql` must hold it.
pub fn sdl() -> String {
    let limits = crate::configuration::Settings::from_lookup(|_| None)
        .map(|s| s.limits)
        .expect("default settings are valid");
    build_schema(None, &limits, true).sdl()
}
