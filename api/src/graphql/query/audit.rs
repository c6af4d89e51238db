use super::parse_id;
use crate::domain::InvalidInput;
use crate::error::AppError;
use crate::graphql::context::{provider, state};
use crate::graphql::error::IntoGraphql;
use crate::graphql::types::{AuditEvent, AuditEventConnection, IntakeForm};
use crate::service::{audit_trail, intake};
use async_graphql::connection::{Edge, EmptyFields};
use async_graphql::{Context, ID, Object};

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Who did what, newest first: for one client with `clientId`, else for the
    /// whole practice. Providers see only their own practice.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this client's events; all of the practice's without it.")] client_id: Option<ID>,
        #[graphql(desc = "How many events to return, 1 to 200 (default 50).")] first: Option<i32>,
        #[graphql(desc = "The endCursor of the previous page, to continue after it.")]
        after: Option<String>,
    ) -> async_graphql::Result<AuditEventConnection> {
        let actor = provider(ctx).await?;
        let client_id = client_id
            .map(|id| parse_id(&id, "clientId"))
            .transpose()
            .gql()?;
        let first = match first {
            None => 50,
            Some(n @ 1..=200) => n as u64,
            Some(_) => {
                return Err(AppError::from(InvalidInput::new(
                    "first",
                    "first must be between 1 and 200.",
                )))
                .gql();
            }
        };
        let after = after
            .map(|a| {
                uuid::Uuid::parse_str(&a).map_err(|_| {
                    AppError::from(InvalidInput::new(
                        "after",
                        "This is not a cursor this API handed out.",
                    ))
                })
            })
            .transpose()
            .gql()?;
        let page = audit_trail::list(
            &state(ctx)?.db,
            actor.organization_id,
            client_id,
            first,
            after,
        )
        .await
        .gql()?;
        let mut connection = AuditEventConnection::new(after.is_some(), page.has_next_page);
        connection.edges.extend(
            page.events.into_iter().map(|e| {
                Edge::with_additional_fields(e.id.to_string(), AuditEvent(e), EmptyFields)
            }),
        );
        Ok(connection)
    }

    /// The practice's intake forms.
    async fn intake_forms(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<IntakeForm>> {
        let actor = provider(ctx).await?;
        let forms = intake::forms(&state(ctx)?.db, actor.organization_id)
            .await
            .gql()?;
        Ok(forms.into_iter().map(IntakeForm).collect())
    }
}
