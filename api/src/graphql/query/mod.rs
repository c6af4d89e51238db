//! Query root, merged from one object per area.

mod clients;
mod me;

use async_graphql::MergedObject;

/// All queries.
#[derive(MergedObject, Default)]
pub struct QueryRoot(me::MeQuery, clients::ClientQuery);
