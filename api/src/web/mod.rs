//! HTTP: the GraphQL endpoint, the playground, health and metrics, and the
//! middleware every request passes through.

mod account;
mod graphiql;
mod graphql_endpoint;
mod health;

/// Installs the metrics recorder before the first request records anything.
pub fn health_recorder() {
    let _ = health::prometheus();
}
mod middleware;

use crate::graphql::PortalSchema;
use crate::state::AppState;
use poem::{EndpointExt, IntoEndpoint, Route, get, post};

/// What the handlers share.
#[derive(Clone)]
pub struct WebState {
    pub app: AppState,
    pub schema: PortalSchema,
}

/// All routes with their middleware.
pub fn routes(web: WebState) -> impl IntoEndpoint {
    let mut route = Route::new()
        .at(
            "/graphql",
            post(graphql_endpoint::execute).get(graphql_endpoint::refuse_get),
        )
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/metrics", get(health::metrics_text))
        .nest("/account", account::routes());
    if web.app.settings.graphiql {
        route = route.at("/graphiql", get(graphiql::page));
    }
    let https = web.app.settings.public_url.starts_with("https://");
    route
        .data(web)
        .around(move |next, req| middleware::observe(next, req, https))
        .with(poem::middleware::CatchPanic::new())
}
