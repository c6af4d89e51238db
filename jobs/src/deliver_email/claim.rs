//! Taking a batch of outbox rows, and reading who they go to.
use super::Deliverer;
use access::batch::{one_of, padded};
use entity::email_delivery::{self, DeliveryStatus};
use entity::{client, organization};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, DbErr, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QuerySelect, RelationDef,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Who a claimed email goes to: what composing it and recording its outcome need of
/// the client (not the whole row: its password hash and search text stay put).
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct Addressee {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub first_name: String,
    /// The practice's name.
    pub practice: Option<String>,
}

impl Deliverer {
    /// Takes the rows of `ids` that are due and that nobody holds, counting an
    /// attempt on each, in one statement.
    pub(super) async fn claim(&self, ids: &[Uuid]) -> Result<Vec<email_delivery::Model>, DbErr> {
        let now = self.clock.now();
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        let claimable = Condition::any()
            .add(
                Condition::all()
                    .add(email_delivery::Column::Status.eq(DeliveryStatus::Queued))
                    .add(email_delivery::Column::NextAttemptAt.lte(now)),
            )
            .add(
                Condition::all()
                    .add(email_delivery::Column::Status.eq(DeliveryStatus::Sending))
                    .add(email_delivery::Column::ClaimedUntil.lt(now)),
            );
        email_delivery::Entity::update_many()
            .col_expr(
                email_delivery::Column::Status,
                Expr::value(DeliveryStatus::Sending),
            )
            .col_expr(
                email_delivery::Column::Attempts,
                Expr::col(email_delivery::Column::Attempts).add(1),
            )
            .col_expr(
                email_delivery::Column::ClaimedUntil,
                Expr::value(now + lease),
            )
            .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(one_of(email_delivery::Column::Id, ids, self.backend()))
            .filter(claimable)
            .exec_with_returning(&self.db)
            .await
    }

    /// The recipients of `deliveries`, by client id, in one query; a client who
    /// no longer exists is missing.
    pub(super) async fn recipients(
        &self,
        deliveries: &[email_delivery::Model],
    ) -> Result<HashMap<Uuid, Addressee>, DbErr> {
        let practice: RelationDef = client::Entity::belongs_to(organization::Entity)
            .from(client::Column::OrganizationId)
            .to(organization::Column::Id)
            .into();
        let ids: Vec<Uuid> = deliveries.iter().map(|d| d.client_id).collect();
        let found = client::Entity::find()
            .select_only()
            .columns([
                client::Column::Id,
                client::Column::OrganizationId,
                client::Column::FirstName,
            ])
            .column_as(organization::Column::Name, "practice")
            .join(JoinType::LeftJoin, practice)
            .filter(one_of(client::Column::Id, &ids, self.backend()))
            .into_model::<Addressee>()
            .all(&self.db)
            .await?;
        Ok(found.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// Matches each of `rows` by id and by the attempt its claim counted: the rows
/// this worker still holds, if they are also `sending`.
pub(super) fn held_by_us(rows: &[&email_delivery::Model]) -> Condition {
    padded(rows).iter().fold(Condition::any(), |any, d| {
        any.add(
            Condition::all()
                .add(email_delivery::Column::Id.eq(d.id))
                .add(email_delivery::Column::Attempts.eq(d.attempts)),
        )
    })
}
