use crate::domain::{ClientCursor, InvalidInput, SearchTerm};
use crate::error::AppError;
use crate::graphql::context::{provider, state};
use crate::graphql::error::IntoGraphql;
use crate::graphql::types::{Client, ClientConnection, ClientConnectionExtra};
use crate::service::clients::{self, DEFAULT_PAGE, MAX_PAGE};
use async_graphql::connection::Edge;
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct ClientQuery;

/// Parses an ID argument as a UUID; anything else is `BAD_USER_INPUT`.
pub fn parse_id(id: &ID, field: &'static str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id.as_str())
        .map_err(|_| InvalidInput::new(field, "This is not an ID this API handed out.").into())
}

fn page_size(first: Option<i32>) -> Result<u64, AppError> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (0..=MAX_PAGE as i32).contains(&n) => Ok(n as u64),
        Some(_) => Err(InvalidInput::new(
            "first",
            format!("first must be between 0 and {MAX_PAGE}."),
        )
        .into()),
    }
}

#[Object]
impl ClientQuery {
    /// A client of the signed-in provider's practice; null when missing or another practice's.
    async fn client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client's ID.")] id: ID,
    ) -> async_graphql::Result<Option<Client>> {
        let actor = provider(ctx).await?;
        let id = parse_id(&id, "id").gql()?;
        let found = clients::find_client(&state(ctx)?.db, &actor, id)
            .await
            .gql()?;
        Ok(found.map(Client::from))
    }

    /// The practice's clients by last then first name; `search` matches names and email.
    #[graphql(
        complexity = "first.map_or(DEFAULT_PAGE, |n| n.clamp(0, MAX_PAGE as i32) as u64) as usize * child_complexity + 1"
    )]
    async fn clients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many clients to return, 0 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The endCursor of the previous page, to continue after it.")]
        after: Option<String>,
        #[graphql(
            desc = "Words matched against first name, last name and email (at most 254 characters)."
        )]
        search: Option<String>,
    ) -> async_graphql::Result<ClientConnection> {
        let actor = provider(ctx).await?;
        let first = page_size(first).gql()?;
        let search = SearchTerm::parse(search.as_deref())
            .map_err(AppError::from)
            .gql()?;
        let after = after
            .as_deref()
            .map(ClientCursor::decode)
            .transpose()
            .map_err(AppError::from)
            .gql()?;
        let page = clients::list_clients(
            &state(ctx)?.db,
            &actor,
            first,
            after.clone(),
            search.as_ref().map(SearchTerm::as_str),
        )
        .await
        .gql()?;
        let extra = ClientConnectionExtra {
            total_count: page.total_count,
        };
        let mut connection =
            ClientConnection::with_additional_fields(after.is_some(), page.has_next_page, extra);
        connection.edges = page
            .clients
            .into_iter()
            .map(|c| Edge::new(clients::cursor_of(&c).encode(), Client::from(c)))
            .collect();
        Ok(connection)
    }
}
