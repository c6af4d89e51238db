//! Query root, merged from one object per area.

mod audit;
mod clients;
mod links;
mod me;

pub use clients::parse_id;

use async_graphql::MergedObject;

/// All queries.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    me::MeQuery,
    clients::ClientQuery,
    links::LinkQuery,
    audit::AuditQuery,
);
