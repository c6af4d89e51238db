use crate::domain::text::{MAX_TOKEN_CHARS, bounded};
use crate::error::{AppError, LinkProblem};
use crate::graphql::context::{ip, state};
use crate::graphql::error::IntoGraphql;
use crate::graphql::types::{AccountLinkState, AccountLinkStatus, LinkKind};
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
        token: String,
    ) -> async_graphql::Result<AccountLinkStatus> {
        bounded(&token, "token", MAX_TOKEN_CHARS)
            .map_err(AppError::from)
            .gql()?;
        let state = state(ctx)?;
        let found = links::look_up(state, &token, ip(ctx).as_deref())
            .await
            .gql()?;
        let Some(found) = found else {
            return Ok(AccountLinkStatus {
                state: AccountLinkState::Invalid,
                kind: None,
                first_name: None,
                practice_name: None,
                expires_at: None,
            });
        };
        let link_state = match found.problem {
            None => AccountLinkState::Valid,
            Some(LinkProblem::Expired) => AccountLinkState::Expired,
            Some(LinkProblem::Used) => AccountLinkState::Used,
            Some(LinkProblem::Superseded) => AccountLinkState::Superseded,
            Some(LinkProblem::Invalid) => AccountLinkState::Invalid,
        };
        Ok(AccountLinkStatus {
            state: link_state,
            kind: Some(LinkKind::of(&found.link.kind)),
            first_name: Some(found.client.first_name),
            practice_name: Some(found.practice.name),
            expires_at: found.link.expires_at,
        })
    }
}
