//! Who is signed in.
use crate::graphql::context::state;
use crate::graphql::error::IntoGraphql;
use crate::service::providers;
use async_graphql::{Context, ID, Object, Union};
use entity::{organization, provider};

/// A clinician or admin of a practice.
pub struct Provider(pub provider::Model);

/// A clinician or admin of a practice.
#[Object]
impl Provider {
    /// The provider's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The provider's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The provider's email address (used to sign in).
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

/// A practice.
#[Object]
impl Organization {
    /// The practice's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The practice's name.
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
