//! A provider's actions on a client's access: resend, change email, set password.
use super::clients::checked_email;
use crate::error::AppError;
use crate::graphql::context::{caller, ip, provider, state};
use crate::graphql::error::IntoGraphql;
use crate::graphql::query::parse_id;
use crate::graphql::types::{
    Client, EmailDelivery, ResendWelcomeEmailPayload, SetClientPasswordInput,
    SetClientPasswordPayload, UpdateClientEmailInput, UpdateClientEmailPayload,
};
use crate::service::client_email::{self, EmailChange};
use crate::service::sessions::ProviderActor;
use crate::service::{client_accounts, clients, resend};
use async_graphql::{Context, ID, Object};
use entity::client;

#[derive(Default)]
pub struct EmailMutation;

/// The actor's client with `id`, or NOT_FOUND (also for another practice's client).
pub(super) async fn own_client(
    ctx: &Context<'_>,
    actor: &ProviderActor,
    id: &ID,
    field: &'static str,
) -> async_graphql::Result<client::Model> {
    let id = parse_id(id, field).gql()?;
    clients::find_client(&state(ctx)?.db, actor, id)
        .await
        .gql()?
        .ok_or(AppError::NotFound("Client"))
        .gql()
}

#[Object]
impl EmailMutation {
    /// "Reset password and resend welcome email": a fresh link (an invite, or a
    /// password reset for an active client); every earlier link stops working.
    /// At most RESEND_LIMIT per client per window.
    async fn resend_welcome_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client to send a fresh link to.")] client_id: ID,
    ) -> async_graphql::Result<ResendWelcomeEmailPayload> {
        let client_id = match parse_id(&client_id, "clientId") {
            Ok(id) => id,
            // Who is asking comes first, as for every other provider operation.
            Err(e) => {
                provider(ctx).await?;
                return Err(e).gql();
            }
        };
        let resent = resend::resend_link(state(ctx)?, caller(ctx)?, client_id, ip(ctx))
            .await
            .gql()?;
        Ok(ResendWelcomeEmailPayload {
            client: Client::from(resent.client),
            delivery: EmailDelivery(resent.delivery),
            resends_remaining: resent.quota.remaining,
            next_resend_available_at: resent.quota.next_available_at.into(),
        })
    }

    /// Adds or changes the client's email; links sent to the old address stop working.
    async fn update_client_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client and the new address.")] input: UpdateClientEmailInput,
    ) -> async_graphql::Result<UpdateClientEmailPayload> {
        let actor = provider(ctx).await?;
        let email = checked_email(&input.email, "email", input.confirm_unusual_domain).gql()?;
        let client = own_client(ctx, &actor, &input.client_id, "clientId").await?;
        let change = EmailChange {
            email,
            resend_invite: input.resend_invite,
        };
        let changed = client_email::update_email(state(ctx)?, &actor, client, change, ip(ctx))
            .await
            .gql()?;
        Ok(UpdateClientEmailPayload {
            client: Client::from(changed.client),
            delivery: changed.delivery.map(EmailDelivery),
            notice: changed.notice.map(EmailDelivery),
            resends_remaining: changed.quota.map(|q| q.remaining),
        })
    }

    /// Sets the client's password on their behalf (never shown back, never emailed).
    async fn set_client_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client and the password to set.")] input: SetClientPasswordInput,
    ) -> async_graphql::Result<SetClientPasswordPayload> {
        let actor = provider(ctx).await?;
        let client = own_client(ctx, &actor, &input.client_id, "clientId").await?;
        let updated = client_accounts::set_by_provider(
            state(ctx)?,
            &actor,
            client,
            input.password.into(),
            input.require_change_on_next_sign_in,
            ip(ctx),
        )
        .await
        .gql()?;
        Ok(SetClientPasswordPayload {
            client: Client::from(updated),
        })
    }
}
