use crate::domain::text::{MAX_EMAIL_CHARS, bounded, bounded_password};
use crate::error::AppError;
use crate::graphql::context::{client, ip, provider, state};
use crate::graphql::error::IntoGraphql;
use crate::graphql::types::{Provider, SignInInput, SignInPayload};
use crate::service::auth;
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct AuthMutation;

/// Sign-in takes the address as typed (it is only looked up), so its length is
/// bounded here; no stored address or password is longer than these bounds.
pub(super) fn check_credentials(input: &SignInInput) -> Result<(), crate::domain::InvalidInput> {
    bounded(&input.email, "email", MAX_EMAIL_CHARS)?;
    bounded_password(&input.password, "password")?;
    Ok(())
}

#[Object]
impl AuthMutation {
    /// Signs a provider in; send the returned token as `Authorization: Bearer <token>`.
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider's email address and password.")] input: SignInInput,
    ) -> async_graphql::Result<SignInPayload> {
        check_credentials(&input).map_err(AppError::from).gql()?;
        let signed = auth::sign_in(state(ctx)?, &input.email, input.password.into(), ip(ctx))
            .await
            .gql()?;
        Ok(SignInPayload {
            token: signed.token,
            expires_at: signed.expires_at.into(),
            provider: Provider(signed.provider),
        })
    }

    /// Ends the current session (provider or client); its token stops working at once.
    async fn sign_out(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let who = match client(ctx, true).await {
            Ok(actor) => auth::SigningOut::Client(actor),
            Err(_) => auth::SigningOut::Provider(provider(ctx).await?),
        };
        auth::sign_out(state(ctx)?, who, ip(ctx)).await.gql()?;
        Ok(true)
    }
}
