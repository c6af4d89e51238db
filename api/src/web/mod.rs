//! HTTP: the GraphQL endpoint, the playground, health and metrics, and the
//! middleware every request passes through.

mod account;
mod body_deadline;
pub mod client_address;
pub mod connections;
mod cors;
mod graphiql;
mod graphql_endpoint;
mod graphql_summary;
mod health;

pub use health::Probes;

mod middleware;

use crate::graphql::PortalSchema;
use crate::state::AppState;
use connections::Connections;
use poem::{EndpointExt, IntoEndpoint, Route, get, post};
use std::sync::Arc;

/// What the handlers share.
#[derive(Clone)]
pub struct WebState {
    pub app: AppState,
    pub schema: PortalSchema,
}

/// All routes with their middleware; `connections` learns which of its connections
/// have a request being handled.
pub fn routes(web: WebState, connections: Arc<Connections>) -> impl IntoEndpoint {
    let origins = Arc::new(web.app.settings.cors_allowed_origins.clone());
    let graphql = post(graphql_endpoint::execute)
        .get(graphql_endpoint::refuse_get)
        .around(move |next, req| cors::cors(next, req, origins.clone()));
    let mut route = Route::new()
        .at("/graphql", graphql)
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/metrics", get(health::metrics_text))
        .nest("/account", account::routes());
    if web.app.settings.graphiql {
        route = route
            .at("/graphiql", get(graphiql::page))
            .at(graphiql::ASSET_ROUTE, get(graphiql::asset));
    }
    let https = web.app.settings.public_url.starts_with("https://");
    let body_timeout = web.app.settings.http.body_timeout;
    let trusted = Arc::new(web.app.settings.trusted_proxies.clone());
    let probes = Probes {
        app: web.app.clone(),
        mailer: None,
    };
    route
        .data(web)
        .data(probes)
        .around(move |next, req| body_deadline::limit_body_time(next, req, body_timeout))
        .around(move |next, req| connections::track(next, req, connections.clone()))
        .around(move |next, req| middleware::observe(next, req, https))
        // Outside `observe`, so the request's log span carries the client address.
        .around(move |next, req| client_address::attach(next, req, trusted.clone()))
        .with(poem::middleware::CatchPanic::new())
}

/// What `portal worker` serves on `WORKER_BIND`: health, readiness (with the mail
/// server) and metrics, with the same request ids and access log as the API.
pub fn worker_routes(probes: Probes) -> impl IntoEndpoint {
    Route::new()
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/metrics", get(health::metrics_text))
        .data(probes)
        .around(|next, req| middleware::observe(next, req, false))
        .with(poem::middleware::CatchPanic::new())
}
