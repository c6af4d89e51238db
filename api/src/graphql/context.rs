//! What a resolver knows about the request: the app state, the viewer, the caller's IP.
use super::error::IntoGraphql;
use crate::service::sessions::{Caller, ClientActor, ProviderActor, Viewer};
use crate::state::AppState;
use async_graphql::Context;
use std::sync::Arc;

/// Per-request data placed in the GraphQL context by the HTTP layer (one for all the
/// operations of a batch: the caller is looked up once).
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub caller: Arc<Caller>,
    pub ip: Option<String>,
}

/// The shared application state.
pub fn state<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>()
}

fn request<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a RequestContext> {
    ctx.data::<RequestContext>()
}

/// The caller's IP, for the audit trail.
pub fn ip(ctx: &Context<'_>) -> Option<String> {
    request(ctx).ok().and_then(|r| r.ip.clone())
}

/// Who sent the request, not yet looked up.
pub fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    Ok(&request(ctx)?.caller)
}

/// The viewer, whoever it is (its session looked up on first use).
pub async fn viewer<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Viewer> {
    let state = state(ctx)?;
    caller(ctx)?
        .viewer(&state.db, state.clock.now())
        .await
        .gql()
}

/// The signed-in provider, or `UNAUTHENTICATED` (no session, or an expired one) /
/// `FORBIDDEN`.
pub async fn provider(ctx: &Context<'_>) -> async_graphql::Result<ProviderActor> {
    viewer(ctx).await?.provider().gql()
}

/// The signed-in client, or `UNAUTHENTICATED` / `FORBIDDEN`. Unless
/// `password_change` is allowed, a client who must change their password is refused.
pub async fn client(
    ctx: &Context<'_>,
    password_change: bool,
) -> async_graphql::Result<ClientActor> {
    viewer(ctx).await?.client(password_change).gql()
}
