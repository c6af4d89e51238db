//! R6: adding or changing a client's email. Links sent to the old address stop
//! working at once; an active client's old address is told about the change
//! (no link); the invite may be resent to the new address (counted against R5).
use super::clients::search_text;
use super::resend::{CountedSend, queue_link_email};
use super::resend_cap::Quota;
use crate::domain::EmailAddress;
use crate::error::{AppError, unique_violation_as};
use crate::service::sessions::ProviderActor;
use crate::state::AppState;
use access::audit::{self, Actor, AuditAction, AuditEntry};
use access::invalidation::{self, Cause};
use access::outbox::{self, Outgoing};
use chrono::{DateTime, Utc};
use entity::email_delivery::EmailKind;
use entity::{client, email_delivery};
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

/// Sets the client's email; see the module docs for what else happens. Saving the
/// address it already has changes nothing (a queued invite keeps going), unless
/// the invite is to be resent.
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
    if unchanged && !change.resend_invite {
        return Ok(EmailChanged {
            client,
            delivery: None,
            notice: None,
            quota: None,
        });
    }
    let who = Actor::Provider(actor.provider_id);
    let send = CountedSend::by_provider(state);
    let slot = match change.resend_invite {
        true => Some(send.take_slot(&client, who, ip.clone(), now).await?),
        false => None,
    };
    let link_email = send.link_email(&client, change.email.as_str());
    let write = async move |txn: &DatabaseTransaction| {
        let notice = match unchanged {
            true => None,
            false => change_address(txn, &client, &change.email, who, ip.clone(), now).await?,
        };
        let mut delivery = None;
        if change.resend_invite {
            delivery = Some(queue_link_email(txn, &client, link_email, who, ip, now).await?);
        }
        let client = super::clients::reload(txn, client.id).await?;
        Ok::<_, AppError>((client, delivery, notice))
    };
    let (client, delivery, notice, quota) = match slot {
        Some((slot, quota)) => {
            let (c, d, n) = send.with_slot(slot, write).await?;
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

/// R6 in the caller's transaction: links sent to the old address end, the new one
/// is stored, an active client's old address is told (returned: push it).
async fn change_address(
    txn: &DatabaseTransaction,
    client: &client::Model,
    email: &EmailAddress,
    who: Actor,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<email_delivery::Model>, AppError> {
    let generation = invalidation::invalidate(txn, client.id, Cause::EmailChanged, now)
        .await?
        .generation()
        .ok_or(AppError::NotFound("Client"))?;
    store_email(txn, client, email).await?;
    let mut notice = None;
    if let (Some(old), Some(_)) = (&client.email, &client.password_hash) {
        let email = Outgoing::plain(EmailKind::EmailChangedNotice, old.clone());
        notice = Some(outbox::enqueue(txn, client.id, email, generation, now).await?);
    }
    let detail = match &client.email {
        Some(old) => format!(
            "email changed from {} to {}",
            outbox::masked(old),
            outbox::masked(email.as_str())
        ),
        None => format!("email added: {}", outbox::masked(email.as_str())),
    };
    let entry = AuditEntry {
        organization_id: client.organization_id,
        actor: who,
        action: AuditAction::ClientEmailChanged,
        client_id: Some(client.id),
        detail: Some(detail),
        ip,
    };
    audit::record(txn, entry).await?;
    Ok(notice)
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
