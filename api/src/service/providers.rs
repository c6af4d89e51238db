//! Organizations and their providers (bootstrap from the CLI).
use crate::domain::{EmailAddress, NewPassword, PersonName};
use crate::error::{AppError, unique_violation_as};
use access::audit::{self, Actor, AuditAction, AuditEntry};
use chrono::Utc;
use entity::{organization, provider};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};
use uuid::Uuid;

/// Which organization a new provider joins.
pub enum OrganizationChoice {
    New { name: String },
    Existing(Uuid),
}

/// A provider to create; every field already validated.
pub struct NewProvider {
    pub organization: OrganizationChoice,
    pub email: EmailAddress,
    pub name: PersonName,
    pub password: NewPassword,
}

/// Creates the provider (and its organization when new) in one transaction.
#[tracing::instrument(skip_all, fields(email_domain = %new.email.domain()))]
pub async fn create_provider(
    db: &DatabaseConnection,
    passwords: &crate::service::passwords::Passwords,
    new: NewProvider,
) -> Result<(organization::Model, provider::Model), AppError> {
    let hash = passwords.hash(new.password.secret().clone()).await?;
    let now = Utc::now();
    let txn = db.begin().await?;
    let org = match new.organization {
        OrganizationChoice::New { name } => {
            organization::ActiveModel {
                id: Set(Uuid::now_v7()),
                name: Set(name),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
        OrganizationChoice::Existing(id) => organization::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound("Organization"))?,
    };
    let provider = provider::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.id),
        email: Set(new.email.normalized()),
        name: Set(new.name.into_inner()),
        password_hash: Set(hash),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| unique_violation_as(e, AppError::ProviderEmailTaken))?;
    let entry = AuditEntry {
        organization_id: org.id,
        actor: Actor::System,
        action: AuditAction::ProviderCreated,
        client_id: None,
        detail: Some(format!("provider {}", provider.id)),
        ip: None,
    };
    audit::record(&txn, entry).await?;
    txn.commit().await?;
    Ok((org, provider))
}

/// Loads an organization by id.
pub async fn organization(
    db: &DatabaseConnection,
    id: Uuid,
) -> Result<organization::Model, AppError> {
    organization::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("Organization"))
}

/// Loads a provider by id.
pub async fn provider(db: &DatabaseConnection, id: Uuid) -> Result<provider::Model, AppError> {
    provider::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("Provider"))
}
