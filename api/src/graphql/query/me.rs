use crate::error::AppError;
use crate::graphql::context::{state, viewer};
use crate::graphql::error::IntoGraphql;
use crate::graphql::types::{ClientAccount, Provider, Viewer};
use crate::service::{providers, sessions};
use async_graphql::{Context, Object};
use entity::client;
use sea_orm::EntityTrait;

#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// The signed-in provider or client; null without a valid session.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Viewer>> {
        match viewer(ctx).await? {
            sessions::Viewer::Provider(actor) => {
                let p = providers::provider(&state(ctx)?.db, actor.provider_id)
                    .await
                    .gql()?;
                Ok(Some(Viewer::Provider(Provider(p))))
            }
            sessions::Viewer::Client(actor) => {
                // Through `AppError`, so an outage answers SERVICE_UNAVAILABLE and
                // anything else INTERNAL with an errorId, like every other field.
                let c = client::Entity::find_by_id(actor.client_id)
                    .one(&state(ctx)?.db)
                    .await
                    .map_err(AppError::from)
                    .gql()?;
                Ok(c.map(|c| Viewer::ClientAccount(ClientAccount(c))))
            }
            sessions::Viewer::Anonymous | sessions::Viewer::Expired => Ok(None),
        }
    }
}
