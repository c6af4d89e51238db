use crate::domain::{EmailAddress, PersonName};
use crate::error::AppError;
use crate::graphql::context::{ip, provider, state};
use crate::graphql::error::IntoGraphql;
use crate::graphql::types::{Client, CreateClientInput, CreateClientPayload};
use crate::service::clients::{self, NewClient};
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct ClientMutation;

fn parse_new_client(input: &CreateClientInput) -> Result<NewClient, AppError> {
    Ok(NewClient {
        first_name: PersonName::parse(&input.first_name, "firstName")?,
        last_name: PersonName::parse(&input.last_name, "lastName")?,
        email: match input.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) => Some(EmailAddress::parse(e, "email")?),
        },
    })
}

#[Object]
impl ClientMutation {
    /// Adds a client to the practice; the email is optional and unique per practice.
    async fn create_client(
        &self,
        ctx: &Context<'_>,
        input: CreateClientInput,
    ) -> async_graphql::Result<CreateClientPayload> {
        let actor = provider(ctx)?;
        let new = parse_new_client(&input).gql()?;
        let created = clients::create_client(state(ctx)?, &actor, new, ip(ctx))
            .await
            .gql()?;
        Ok(CreateClientPayload {
            client: Client(created),
        })
    }
}
