//! What a resolver knows about the request: the app state, the viewer, the caller's IP.
use super::error::IntoGraphql;
use crate::error::AppError;
use crate::service::sessions::{ClientActor, ProviderActor, Viewer};
use crate::state::AppState;
use async_graphql::Context;

/// Per-request data placed in the GraphQL context by the HTTP layer.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub viewer: Viewer,
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

/// The viewer, whoever it is.
pub fn viewer<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Viewer> {
    Ok(&request(ctx)?.viewer)
}

/// The signed-in provider, or `UNAUTHENTICATED`.
pub fn provider(ctx: &Context<'_>) -> async_graphql::Result<ProviderActor> {
    match viewer(ctx)? {
        Viewer::Provider(actor) => Ok(*actor),
        Viewer::Client(_) => Err(AppError::Forbidden).gql(),
        Viewer::Expired => Err(AppError::SessionExpired).gql(),
        Viewer::Anonymous => Err(AppError::Unauthenticated).gql(),
    }
}

/// The signed-in client, or `UNAUTHENTICATED` / `FORBIDDEN`. Unless
/// `password_change` is allowed, a client who must change their password is refused.
pub fn client(ctx: &Context<'_>, password_change: bool) -> async_graphql::Result<ClientActor> {
    match viewer(ctx)? {
        Viewer::Client(actor) if actor.must_change_password && !password_change => {
            Err(AppError::PasswordChangeRequired).gql()
        }
        Viewer::Client(actor) => Ok(*actor),
        Viewer::Provider(_) => Err(AppError::Forbidden).gql(),
        Viewer::Expired => Err(AppError::SessionExpired).gql(),
        Viewer::Anonymous => Err(AppError::Unauthenticated).gql(),
    }
}
