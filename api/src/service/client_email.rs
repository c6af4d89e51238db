//! R6: adding or changing a client's email. Links sent to the old address stop
//! working at once; an active client's old address is told about the change
//! (no link); the invite may be resent to the new address (counted against R5).
use super::clients::search_text;
use super::outbox::{self, Outgoing};
use super::resend::{take_slot, with_slot};
use super::resend_cap::Quota;
use crate::domain::EmailAddress;
use crate::error::{AppError, unique_violation_as};
use crate::service::audit::{self, Actor, AuditEntry};
use crate::service::sessions::ProviderActor;
use crate::state::AppState;
use entity::email_delivery::kind;
use entity::{account_link, client, email_delivery};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait};

/// The change to make.
pub struct EmailChange {
    pub email: EmailAddress,
    pub resend_invite: bool,
}

/// What the change did.
pub struct EmailChanged {
    pub client: client::Model,
    /// The link email to the new address, when `resend_invite` was set.
    pub delivery: Option<email_delivery::Model>,
    /// The notice to the old address, for an active client.
    pub notice: Option<email_delivery::Model>,
    pub quota: Option<Quota>,
}

/// Sets the client's email; see the module docs for what else happens.
#[tracing::instrument(skip_all, fields(client_id = %client.id))]
pub async fn update_email(
    state: &AppState,
    actor: &ProviderActor,
    client: client::Model,
    change: EmailChange,
    ip: Option<String>,
) -> Result<EmailChanged, AppError> {
    let now = state.clock.now();
    let unchanged = client.email_normalized.as_deref() == Some(&change.email.normalized());
    let who = Actor::Provider(actor.provider_id);
    let slot = match change.resend_invite {
        true => Some(take_slot(state, &client, who, ip.clone(), now).await?),
        false => None,
    };
    let write = async move |txn: &DatabaseTransaction| {
        let generation = outbox::bump_generation(txn, client.id, now)
            .await?
            .ok_or(AppError::NotFound("Client"))?;
        let mut notice = None;
        if !unchanged {
            store_email(txn, &client, &change.email).await?;
            outbox::retire_links(txn, client.id, account_link::revoked::EMAIL_CHANGED, now).await?;
            if let (Some(old), Some(_)) = (&client.email, &client.password_hash) {
                let email = Outgoing {
                    kind: kind::EMAIL_CHANGED_NOTICE,
                    to: old.clone(),
                    link_kind: None,
                };
                notice = Some(outbox::enqueue(txn, client.id, email, generation, now).await?);
            }
            let detail = match &client.email {
                Some(old) => format!(
                    "email changed from {} to {}",
                    outbox::masked(old),
                    outbox::masked(change.email.as_str())
                ),
                None => format!("email added: {}", outbox::masked(change.email.as_str())),
            };
            record(
                txn,
                &client,
                who,
                "client.email_changed",
                detail,
                ip.clone(),
            )
            .await?;
        }
        let mut delivery = None;
        if change.resend_invite {
            outbox::retire_links(txn, client.id, account_link::revoked::SUPERSEDED, now).await?;
            let email = outbox::link_email(&client, change.email.as_str());
            let detail = format!("to {}", outbox::masked(change.email.as_str()));
            delivery = Some(outbox::enqueue(txn, client.id, email, generation, now).await?);
            record(txn, &client, who, "email.invite_resent", detail, ip).await?;
        }
        let client = client::Entity::find_by_id(client.id)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound("Client"))?;
        Ok::<_, AppError>((client, delivery, notice))
    };
    let (client, delivery, notice, quota) = match slot {
        Some((slot, quota)) => {
            let (c, d, n) = with_slot(state, slot, write).await?;
            (c, d, n, Some(quota))
        }
        None => {
            let txn = state.db.begin().await?;
            let (c, d, n) = write(&txn).await?;
            txn.commit().await?;
            (c, d, n, None)
        }
    };
    let ids = [&delivery, &notice].into_iter().flatten().map(|d| d.id);
    state.push_deliveries(ids.collect::<Vec<_>>()).await;
    Ok(EmailChanged {
        client,
        delivery,
        notice,
        quota,
    })
}

async fn store_email(
    txn: &DatabaseTransaction,
    client: &client::Model,
    email: &EmailAddress,
) -> Result<(), AppError> {
    let text = search_text(&client.first_name, &client.last_name, Some(email.as_str()));
    client::Entity::update_many()
        .col_expr(client::Column::Email, Expr::value(email.as_str()))
        .col_expr(
            client::Column::EmailNormalized,
            Expr::value(email.normalized()),
        )
        .col_expr(client::Column::SearchText, Expr::value(text))
        .filter(client::Column::Id.eq(client.id))
        .exec(txn)
        .await
        .map_err(|e| unique_violation_as(e, AppError::EmailTaken))?;
    Ok(())
}

async fn record(
    txn: &DatabaseTransaction,
    client: &client::Model,
    actor: Actor,
    action: &'static str,
    detail: String,
    ip: Option<String>,
) -> Result<(), AppError> {
    let entry = AuditEntry {
        organization_id: client.organization_id,
        actor,
        action,
        client_id: Some(client.id),
        detail: Some(detail),
        ip,
    };
    audit::record(txn, entry).await?;
    Ok(())
}
