//! Links, client sessions and passwords: the inputs and payloads of those mutations.
use super::client::Client;
use super::datetime::DateTime;
use super::delivery::{EmailDelivery, LinkKind};
use super::intake::{IntakeAssignment, Message};
use crate::graphql::context::state;
use crate::graphql::error::IntoGraphql;
use crate::service::{intake, messages, providers};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::client;

/// A client as they see themselves in the portal.
pub struct ClientAccount(pub client::Model);

impl ClientAccount {
    /// Until a password a provider set is changed, the session may change it and
    /// nothing else: no messages, forms or answers (`FORBIDDEN`, reason
    /// `PASSWORD_CHANGE_REQUIRED`).
    fn unlocked(&self) -> async_graphql::Result<()> {
        match self.0.must_change_password {
            true => Err(crate::error::AppError::PasswordChangeRequired).gql(),
            false => Ok(()),
        }
    }
}

/// The signed-in client's own account in the portal.
#[Object]
impl ClientAccount {
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
    /// Email address on file.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// True when a provider set the password and asked for a change: call
    /// `changePassword` before anything else.
    async fn must_change_password(&self) -> bool {
        self.0.must_change_password
    }
    /// The practice's name.
    async fn practice_name(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let org = providers::organization(&state(ctx)?.db, self.0.organization_id)
            .await
            .gql()?;
        Ok(org.name)
    }
    /// Forms the practice asked for, pending and completed.
    async fn intake_forms(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<IntakeAssignment>> {
        self.unlocked()?;
        let rows = intake::assigned(&state(ctx)?.db, self.0.id, false)
            .await
            .gql()?;
        Ok(rows.into_iter().map(IntakeAssignment::from).collect())
    }
    /// Messages from the practice, newest first.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many messages to return, 1 to 100 (default 20).",
            default = 20,
            validator(minimum = 1, maximum = 100)
        )]
        first: i32,
    ) -> async_graphql::Result<Vec<Message>> {
        self.unlocked()?;
        let rows = messages::for_client(&state(ctx)?.db, self.0.id, first as u64)
            .await
            .gql()?;
        Ok(rows.into_iter().map(Message).collect())
    }
}

/// What a link can do now.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum AccountLinkState {
    /// Works: the client may set a password with it.
    Valid,
    /// A password-reset link older than its lifetime.
    Expired,
    /// Already used once.
    Used,
    /// A newer link was sent, the email changed, or a password was set another way.
    Superseded,
    /// Not a link this service issued.
    Invalid,
}

impl From<crate::service::links::LinkState> for AccountLinkState {
    fn from(state: crate::service::links::LinkState) -> Self {
        use crate::service::links::LinkState;
        match state {
            LinkState::Valid => Self::Valid,
            LinkState::Expired => Self::Expired,
            LinkState::Used => Self::Used,
            LinkState::Superseded => Self::Superseded,
            LinkState::Invalid => Self::Invalid,
        }
    }
}

/// A link's state, for the page the email opens. Reading it never uses it up.
#[derive(SimpleObject)]
pub struct AccountLinkStatus {
    /// What the link can do now.
    pub state: AccountLinkState,
    /// Invite or password reset (null for INVALID).
    pub kind: Option<LinkKind>,
    /// The client's first name (null for INVALID).
    pub first_name: Option<String>,
    /// The practice's name (null for INVALID).
    pub practice_name: Option<String>,
    /// When a password-reset link stops working; null for invites (no time limit) and INVALID.
    pub expires_at: Option<DateTime>,
}

/// Use a link: the token from the email and the new password.
#[derive(InputObject)]
pub struct CompleteAccountLinkInput {
    /// The token from the emailed link.
    pub token: String,
    /// The password to set (at least 10 characters, hard to guess).
    #[graphql(secret)]
    pub password: String,
}

/// The client, signed in.
#[derive(SimpleObject)]
pub struct CompleteAccountLinkPayload {
    /// Bearer token of the client's new session; shown once.
    pub token: String,
    /// When the session ends.
    pub expires_at: DateTime,
    /// The signed-in client.
    pub client: ClientAccount,
    /// R8: intake forms still to complete.
    pub pending_intake_forms: Vec<IntakeAssignment>,
}

/// A client's sign-in result.
#[derive(SimpleObject)]
pub struct ClientSignInPayload {
    /// Bearer token of the client's new session; shown once.
    pub token: String,
    /// When the session ends.
    pub expires_at: DateTime,
    /// The signed-in client.
    pub client: ClientAccount,
    /// When true, only `changePassword` works until the password is changed.
    pub must_change_password: bool,
}

/// The signed-in client's password change.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password in use now.
    #[graphql(secret)]
    pub current_password: String,
    /// The new password (at least 10 characters, hard to guess).
    #[graphql(secret)]
    pub new_password: String,
}

/// The password was changed.
#[derive(SimpleObject)]
pub struct ChangePasswordPayload {
    /// The client, with the new password in place.
    pub client: ClientAccount,
}

/// Resend the welcome email (or a reset link for an active client).
#[derive(SimpleObject)]
pub struct ResendWelcomeEmailPayload {
    /// The client, after the resend.
    pub client: Client,
    /// The queued email.
    pub delivery: EmailDelivery,
    /// Link emails providers may still send this client in the current window.
    pub resends_remaining: u32,
    /// Now while resends remain; otherwise when the next one is allowed.
    pub next_resend_available_at: DateTime,
}

/// Add or change a client's email.
#[derive(InputObject)]
pub struct UpdateClientEmailInput {
    /// The client whose email changes.
    pub client_id: ID,
    /// The new email address.
    pub email: String,
    /// Send a fresh link to the new address (counted against the resend cap).
    #[graphql(default = false)]
    pub resend_invite: bool,
    /// Keep the address as typed even though its domain looks like a typo.
    #[graphql(default = false)]
    pub confirm_unusual_domain: bool,
}

/// The client with the new email address.
#[derive(SimpleObject)]
pub struct UpdateClientEmailPayload {
    /// The client, after the change.
    pub client: Client,
    /// The link email to the new address, when resendInvite was set.
    pub delivery: Option<EmailDelivery>,
    /// The "your email was changed" notice to the old address (active clients).
    pub notice: Option<EmailDelivery>,
    /// Link emails left in the window when resendInvite was set; otherwise null.
    pub resends_remaining: Option<u32>,
}

/// Set a client's password on their behalf.
#[derive(InputObject)]
pub struct SetClientPasswordInput {
    /// The client whose password is set.
    pub client_id: ID,
    /// The password to set (at least 10 characters, hard to guess); never shown back or emailed.
    #[graphql(secret)]
    pub password: String,
    /// Make the client choose their own password at next sign-in.
    #[graphql(default = false)]
    pub require_change_on_next_sign_in: bool,
}

/// The password was set.
#[derive(SimpleObject)]
pub struct SetClientPasswordPayload {
    /// The client, after the change.
    pub client: Client,
}
