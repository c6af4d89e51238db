//! Creating, finding and listing a practice's clients; always scoped to the
//! caller's organization, so another practice's client looks like a missing one.
use crate::domain::{ClientCursor, EmailAddress, PersonName};
use crate::error::{AppError, unique_violation_as};
use crate::service::sessions::ProviderActor;
use crate::state::AppState;
use access::audit::{self, Actor, AuditAction, AuditEntry};
use access::outbox::{self, Outgoing};
use entity::{client, email_delivery};
use sea_orm::sea_query::{Condition, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

/// A client to create; every field already validated.
pub struct NewClient {
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub email: Option<EmailAddress>,
    /// Queue the welcome email (R1); ignored without an email.
    pub send_invite: bool,
}

/// A created client and its invite, if one was queued.
pub struct Created {
    pub client: client::Model,
    pub invite: Option<email_delivery::Model>,
}

/// One page of clients.
pub struct ClientPage {
    pub clients: Vec<client::Model>,
    pub has_next_page: bool,
    pub total_count: u64,
}

/// Page size when the caller gives none, and the most one page may hold.
pub const DEFAULT_PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;

/// The cursor of a client in the list order.
pub fn cursor_of(c: &client::Model) -> ClientCursor {
    ClientCursor {
        sort_key: c.sort_key.clone(),
        id: c.id,
    }
}

pub(crate) fn sort_key(first: &str, last: &str) -> String {
    format!("{}\u{1f}{}", last.to_lowercase(), first.to_lowercase())
}

pub(crate) fn search_text(first: &str, last: &str, email: Option<&str>) -> String {
    format!("{first} {last} {}", email.unwrap_or_default()).to_lowercase()
}

/// Creates a client in the actor's organization and records it in the audit trail.
#[tracing::instrument(skip_all, fields(org = %actor.organization_id))]
pub async fn create_client(
    state: &AppState,
    actor: &ProviderActor,
    new: NewClient,
    ip: Option<String>,
) -> Result<Created, AppError> {
    let now = state.clock.now();
    let (first, last) = (new.first_name.into_inner(), new.last_name.into_inner());
    let email = new.email.as_ref().map(|e| e.as_str().to_owned());
    let txn = state.db.begin().await?;
    let created = client::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(actor.organization_id),
        sort_key: Set(sort_key(&first, &last)),
        search_text: Set(search_text(&first, &last, email.as_deref())),
        first_name: Set(first),
        last_name: Set(last),
        email_normalized: Set(new.email.as_ref().map(EmailAddress::normalized)),
        email: Set(email),
        password_hash: Set(None),
        must_change_password: Set(false),
        activated_at: Set(None),
        link_generation: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| unique_violation_as(e, AppError::EmailTaken))?;
    let entry = AuditEntry {
        organization_id: actor.organization_id,
        actor: Actor::Provider(actor.provider_id),
        action: AuditAction::ClientCreated,
        client_id: Some(created.id),
        detail: new
            .email
            .as_ref()
            .map(|e| format!("with email at {}", e.domain())),
        ip: ip.clone(),
    };
    audit::record(&txn, entry).await?;
    let invite = match (&created.email, new.send_invite) {
        (Some(to), true) => {
            let email = Outgoing::link_for(&created, to);
            let delivery = outbox::enqueue(&txn, created.id, email, 0, now).await?;
            let entry = AuditEntry {
                organization_id: actor.organization_id,
                actor: Actor::Provider(actor.provider_id),
                action: AuditAction::InviteSent,
                client_id: Some(created.id),
                detail: Some(format!("to {}", outbox::masked(to))),
                ip,
            };
            audit::record(&txn, entry).await?;
            Some(delivery)
        }
        _ => None,
    };
    txn.commit().await?;
    if let Some(invite) = &invite {
        state.push_deliveries([invite.id]).await;
    }
    Ok(Created {
        client: created,
        invite,
    })
}

/// The client with `id` in the actor's organization, or `None` (missing or foreign).
pub async fn find_client(
    db: &DatabaseConnection,
    actor: &ProviderActor,
    id: Uuid,
) -> Result<Option<client::Model>, AppError> {
    find_owned(db, actor.organization_id, id).await
}

/// `organization_id`'s client with `id`, if it is theirs.
pub async fn find_owned(
    db: &DatabaseConnection,
    organization_id: Uuid,
    id: Uuid,
) -> Result<Option<client::Model>, AppError> {
    Ok(client::Entity::find_by_id(id)
        .filter(client::Column::OrganizationId.eq(organization_id))
        .one(db)
        .await?)
}

/// The client as stored now (after a write), `NOT_FOUND` if it is gone.
pub async fn reload(
    conn: &impl sea_orm::ConnectionTrait,
    id: Uuid,
) -> Result<client::Model, AppError> {
    client::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("Client"))
}

/// Lists the actor's clients by last then first name, `first` after `after`,
/// keeping those whose name or email contains every word of `search`.
pub async fn list_clients(
    db: &DatabaseConnection,
    actor: &ProviderActor,
    first: u64,
    after: Option<ClientCursor>,
    search: Option<&str>,
) -> Result<ClientPage, AppError> {
    let mut filter = Condition::all().add(client::Column::OrganizationId.eq(actor.organization_id));
    for word in search.unwrap_or_default().split_whitespace().take(8) {
        filter = filter.add(client::Column::SearchText.like(contains(word)));
    }
    let total_count = client::Entity::find()
        .filter(filter.clone())
        .count(db)
        .await?;
    if let Some(after) = after {
        filter = filter.add(
            Condition::any()
                .add(client::Column::SortKey.gt(after.sort_key.clone()))
                .add(
                    Condition::all()
                        .add(client::Column::SortKey.eq(after.sort_key))
                        .add(client::Column::Id.gt(after.id)),
                ),
        );
    }
    let mut clients = client::Entity::find()
        .filter(filter)
        .order_by_asc(client::Column::SortKey)
        .order_by_asc(client::Column::Id)
        .limit(first + 1)
        .all(db)
        .await?;
    let has_next_page = clients.len() as u64 > first;
    clients.truncate(first as usize);
    Ok(ClientPage {
        clients,
        has_next_page,
        total_count,
    })
}

/// A LIKE pattern matching `word` anywhere, with LIKE's wildcards taken literally.
fn contains(word: &str) -> LikeExpr {
    let escaped: String = word
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}
