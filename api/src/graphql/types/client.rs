//! A client as providers see it.
use super::datetime::DateTime;
use super::delivery::{ActiveLink, EmailDelivery, ResendQuota};
use crate::graphql::context::state;
use crate::graphql::error::IntoGraphql;
use crate::service::deliveries;
use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::client;
use tokio::sync::OnceCell;

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

/// A client (patient) of the practice, and what its view has read of the client's
/// link and emails (once, in one snapshot, for every field that shows them).
pub struct Client(pub client::Model, OnceCell<deliveries::Mail>);

impl From<client::Model> for Client {
    fn from(model: client::Model) -> Self {
        Self(model, OnceCell::new())
    }
}

impl Client {
    /// The client's link and emails as of one moment, read by the first field that
    /// shows either.
    async fn mail(&self, ctx: &Context<'_>) -> async_graphql::Result<&deliveries::Mail> {
        let state = state(ctx)?;
        let now = state.clock.now();
        self.1
            .get_or_try_init(|| deliveries::mail(&state.db, self.0.id, now))
            .await
            .gql()
    }
}

/// A client (patient) of the practice, as its providers see them.
#[Object]
impl Client {
    /// The client's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Given name.
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    /// Family name.
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    /// Email address on file; null when the client has none.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// ACTIVE once the client has a password (set through a link, by a provider or
    /// by themselves).
    async fn status(&self) -> ClientStatus {
        match (&self.0.email, &self.0.password_hash) {
            (_, Some(_)) => ClientStatus::Active,
            (None, None) => ClientStatus::NoEmail,
            (Some(_), None) => ClientStatus::Invited,
        }
    }
    /// Whether the client must change the password a provider set.
    async fn must_change_password(&self) -> bool {
        self.0.must_change_password
    }
    /// R5: link emails left in the sliding window; null when the limiter is unreachable.
    async fn resend_quota(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ResendQuota>> {
        let state = state(ctx)?;
        match state.limiter.quota(self.0.id, state.clock.now()).await {
            Ok(q) => Ok(Some(q.into())),
            Err(e) => {
                tracing::warn!(error = %e, "resend quota unavailable");
                Ok(None)
            }
        }
    }
    /// The link that works right now, if any (never the token).
    async fn active_link(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ActiveLink>> {
        let link = self.mail(ctx).await?.link.clone();
        Ok(link.map(ActiveLink::from))
    }
    /// R8: forms assigned to the client, pending and completed.
    async fn intake_forms(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::IntakeAssignment>> {
        let rows = crate::service::intake::assigned(&state(ctx)?.db, self.0.id, false)
            .await
            .gql()?;
        Ok(rows
            .into_iter()
            .map(super::IntakeAssignment::from)
            .collect())
    }
    /// R11: the client's emails, newest first, with their delivery status.
    async fn email_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many emails to return, 1 to 100 (default 20).",
            default = 20,
            validator(minimum = 1, maximum = 100)
        )]
        first: i32,
    ) -> async_graphql::Result<Vec<EmailDelivery>> {
        let mail = self.mail(ctx).await?;
        let shown = mail.recent.iter().take(first as usize).cloned();
        Ok(shown.map(EmailDelivery).collect())
    }
    /// When the client first set a password; null until then.
    async fn activated_at(&self) -> Option<DateTime> {
        self.0.activated_at.map(DateTime)
    }
    /// When the client was added.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// When the client's record last changed.
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
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
    /// Given name (1 to 100 characters).
    pub first_name: String,
    /// Family name (1 to 100 characters).
    pub last_name: String,
    /// Email address; without one no email can be sent until one is added.
    pub email: Option<String>,
    /// Send the welcome email now (when an email is given). Default true.
    #[graphql(default = true)]
    pub send_invite: bool,
    /// Use the email as typed even though its domain looks like a typo.
    #[graphql(default = false)]
    pub confirm_unusual_domain: bool,
}

/// The created client.
#[derive(SimpleObject)]
pub struct CreateClientPayload {
    /// The created client.
    pub client: Client,
    /// The welcome email, queued; null when no email was given or sendInvite was false.
    pub invite: Option<EmailDelivery>,
}
