//! A client as providers see it.
use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::client;

/// Where a client stands with the portal.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ClientStatus {
    /// No email on file: nothing can be sent.
    NoEmail,
    /// Has an email, has not set a password yet.
    Invited,
    /// Has set a password.
    Active,
}

/// A client (patient) of the practice.
pub struct Client(pub client::Model);

#[Object]
impl Client {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn status(&self) -> ClientStatus {
        match (&self.0.email, self.0.activated_at) {
            (_, Some(_)) => ClientStatus::Active,
            (None, None) => ClientStatus::NoEmail,
            (Some(_), None) => ClientStatus::Invited,
        }
    }
    async fn activated_at(&self) -> Option<DateTime<Utc>> {
        self.0.activated_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Extra fields on the client list.
#[derive(SimpleObject)]
pub struct ClientConnectionExtra {
    /// How many clients match the search, across all pages.
    pub total_count: u64,
}

/// A page of clients.
pub type ClientConnection = Connection<String, Client, ClientConnectionExtra, EmptyFields>;

/// A new client; names are required, email optional.
#[derive(InputObject)]
pub struct CreateClientInput {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
}

/// The created client.
#[derive(SimpleObject)]
pub struct CreateClientPayload {
    pub client: Client,
}
