use crate::domain::text::{MAX_TOKEN_CHARS, bounded};
use crate::error::AppError;
use crate::graphql::context::{ip, state};
use crate::graphql::error::IntoGraphql;
use crate::graphql::types::AccountLinkStatus;
use crate::service::links;
use async_graphql::{Context, Object};

#[derive(Default)]
pub struct LinkQuery;

#[Object]
impl LinkQuery {
    /// The state of an emailed link, for the page it opens. Public, read-only: it
    /// never uses the link up, so mail scanners that open links cannot burn them.
    async fn account_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token from the emailed link.")] token: String,
    ) -> async_graphql::Result<AccountLinkStatus> {
        bounded(&token, "token", MAX_TOKEN_CHARS)
            .map_err(AppError::from)
            .gql()?;
        let state = state(ctx)?;
        let found = links::look_up(state, &token, ip(ctx).as_deref())
            .await
            .gql()?;
        let view = links::LinkView::of(found);
        Ok(AccountLinkStatus {
            state: view.state.into(),
            kind: view.kind.map(Into::into),
            first_name: view.first_name,
            practice_name: view.practice,
            expires_at: view.expires_at.map(Into::into),
        })
    }
}
