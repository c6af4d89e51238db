//! The GraphQL schema: thin resolvers over `service`, errors mapped in one place.

mod context;
mod depth;
pub mod error;
mod limits;
mod mutation;
mod nul;
mod operation;
mod parsed;
mod query;
mod syntax;
mod types;

use crate::configuration::GraphqlLimits;
use crate::state::AppState;
use async_graphql::{EmptySubscription, Schema};

pub use context::RequestContext;
pub use mutation::MutationRoot;
pub use operation::OperationName;
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
    // The extension applies each depth limit where it belongs (see `depth`).
    .limit_depth(limits.max_depth.max(depth::INTROSPECTION_MAX_DEPTH))
    .limit_complexity(limits.max_complexity)
    .limit_recursive_depth(limits.max_depth.max(depth::INTROSPECTION_MAX_DEPTH) * 2)
    .limit_directives(8)
    .extension(limits::DocumentLimits::new(limits, introspection))
    .extension(nul::NoNulText)
    .extension(operation::RecordOperationName);
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
    let options = async_graphql::SDLExportOptions::new().include_specified_by();
    build_schema(None, &limits, true).sdl_with_options(options)
}
