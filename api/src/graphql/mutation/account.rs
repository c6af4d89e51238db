//! What clients do themselves: use a link, sign in, change or reset a password.
use super::auth::check_credentials;
use crate::domain::EmailAddress;
use crate::domain::text::{MAX_TOKEN_CHARS, bounded, bounded_password};
use crate::error::AppError;
use crate::graphql::context::{client, ip, state};
use crate::graphql::error::IntoGraphql;
use crate::graphql::types::{
    ChangePasswordInput, ChangePasswordPayload, ClientAccount, ClientSignInPayload,
    CompleteAccountLinkInput, CompleteAccountLinkPayload, IntakeAssignment, SignInInput,
};
use crate::service::{client_accounts, links, reset_requests};
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Uses an invite or reset link once: sets the password and signs the client in.
    async fn complete_account_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The link's token and the password to set.")]
        input: CompleteAccountLinkInput,
    ) -> async_graphql::Result<CompleteAccountLinkPayload> {
        bounded(&input.token, "token", MAX_TOKEN_CHARS)
            .map_err(AppError::from)
            .gql()?;
        let done = links::complete(state(ctx)?, &input.token, input.password.into(), ip(ctx))
            .await
            .gql()?;
        Ok(CompleteAccountLinkPayload {
            token: done.token,
            expires_at: done.expires_at.into(),
            client: ClientAccount(done.client),
            pending_intake_forms: done
                .pending_forms
                .into_iter()
                .map(IntakeAssignment::from)
                .collect(),
        })
    }

    /// Sends a password link to this address if a client has it. Always true, so the
    /// answer does not tell who is a client.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The address the client signs in with.")] email: String,
    ) -> async_graphql::Result<bool> {
        let email = EmailAddress::parse(&email, "email")
            .map_err(Into::into)
            .gql()?;
        reset_requests::request(state(ctx)?, email.normalized(), ip(ctx))
            .await
            .gql()?;
        Ok(true)
    }

    /// Signs a client in to the portal.
    async fn client_sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client's email address and password.")] input: SignInInput,
    ) -> async_graphql::Result<ClientSignInPayload> {
        check_credentials(&input).map_err(AppError::from).gql()?;
        let state = state(ctx)?;
        let signed = client_accounts::sign_in(state, &input.email, input.password.into(), ip(ctx))
            .await
            .gql()?;
        Ok(ClientSignInPayload {
            token: signed.token,
            expires_at: signed.expires_at.into(),
            must_change_password: signed.client.must_change_password,
            client: ClientAccount(signed.client),
        })
    }

    /// The signed-in client chooses a new password; other sessions are signed out.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current and the new password.")] input: ChangePasswordInput,
    ) -> async_graphql::Result<ChangePasswordPayload> {
        let actor = client(ctx, true).await?;
        bounded_password(&input.current_password, "currentPassword")
            .map_err(AppError::from)
            .gql()?;
        let current = input.current_password.into();
        let new = input.new_password.into();
        let updated = client_accounts::change_password(state(ctx)?, &actor, current, new, ip(ctx))
            .await
            .gql()?;
        Ok(ChangePasswordPayload {
            client: ClientAccount(updated),
        })
    }
}
