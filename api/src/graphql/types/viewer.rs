//! Who is signed in.
use crate::graphql::context::state;
use crate::graphql::error::IntoGraphql;
use crate::service::providers;
use async_graphql::{Context, ID, Object, Union};
use entity::{organization, provider};

/// A clinician or admin of a practice.
pub struct Provider(pub provider::Model);

#[Object]
impl Provider {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// The practice this provider belongs to.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        let org = providers::organization(&state(ctx)?.db, self.0.organization_id)
            .await
            .gql()?;
        Ok(Organization(org))
    }
}

/// A practice.
pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
}

/// The signed-in party.
#[derive(Union)]
pub enum Viewer {
    Provider(Provider),
    ClientAccount(super::account::ClientAccount),
}
