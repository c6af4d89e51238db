use crate::domain::{EmailAddress, PersonName, typo_suggestion};
use crate::error::AppError;
use crate::graphql::context::{ip, provider, state};
use crate::graphql::error::IntoGraphql;
use crate::graphql::types::{Client, CreateClientInput, CreateClientPayload, EmailDelivery};
use crate::service::clients::{self, NewClient};
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct ClientMutation;

/// Parses an address and, unless the caller confirmed it, refuses a likely typo
/// with the suggested address (R10).
pub fn checked_email(
    raw: &str,
    field: &'static str,
    confirmed: bool,
) -> Result<EmailAddress, AppError> {
    let email = EmailAddress::parse(raw, field)?;
    match typo_suggestion(&email) {
        Some(suggestion) if !confirmed => Err(AppError::LikelyTypo { field, suggestion }),
        _ => Ok(email),
    }
}

fn parse_new_client(input: &CreateClientInput) -> Result<NewClient, AppError> {
    Ok(NewClient {
        first_name: PersonName::parse(&input.first_name, "firstName")?,
        last_name: PersonName::parse(&input.last_name, "lastName")?,
        email: match input.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) => Some(checked_email(e, "email", input.confirm_unusual_domain)?),
        },
        send_invite: input.send_invite,
    })
}

#[Object]
impl ClientMutation {
    /// Adds a client to the practice. With an email, the welcome email goes out
    /// unless `sendInvite: false`; the email is unique per practice.
    async fn create_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client's names and, optionally, email address.")]
        input: CreateClientInput,
    ) -> async_graphql::Result<CreateClientPayload> {
        let actor = provider(ctx).await?;
        let new = parse_new_client(&input).gql()?;
        let created = clients::create_client(state(ctx)?, &actor, new, ip(ctx))
            .await
            .gql()?;
        Ok(CreateClientPayload {
            client: Client::from(created.client),
            invite: created.invite.map(EmailDelivery),
        })
    }
}
