//! "Password set" on SQLite without HTTP: what every route's change ends.
use super::{PasswordSet, record};
use crate::error::{AppError, LinkProblem};
use crate::service::sessions::{self, Subject};
use access::audit::{Actor, AuditAction, AuditEntry};
use access::outbox::{self, Outgoing};
use access::testing;
use chrono::Utc;
use entity::account_link::{self, RevokedReason};
use entity::email_delivery::{self, DeliveryStatus};
use entity::{audit_event, client, session};
use sea_orm::{DatabaseConnection, EntityTrait};
use std::time::Duration;
use uuid::Uuid;

async fn live_link(db: &DatabaseConnection, c: &client::Model) -> account_link::Model {
    testing::live_link(db, c.id, None).await
}

fn audit(c: &client::Model, action: AuditAction) -> AuditEntry {
    AuditEntry {
        organization_id: c.organization_id,
        actor: Actor::Client(c.id),
        action,
        client_id: Some(c.id),
        detail: None,
        ip: None,
    }
}

async fn session_revoked(db: &DatabaseConnection, id: Uuid) -> bool {
    session::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some()
}

async fn session_id(db: &DatabaseConnection, c: &client::Model) -> Uuid {
    let (token, _) = sessions::create(
        db,
        Subject::Client(c.id),
        Duration::from_secs(60),
        Utc::now(),
    )
    .await
    .unwrap();
    let found = sessions::resolve(db, token.expose(), Utc::now())
        .await
        .unwrap();
    match found {
        sessions::Viewer::Client(actor) => actor.session_id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_password_set_ends_links_queued_link_emails_and_other_sessions() {
    let db = testing::database().await;
    let c = testing::client(&db).await;
    let link = live_link(&db, &c).await;
    let email = Outgoing::link_for(&c, "jane@example.com");
    let queued = outbox::enqueue(&db, c.id, email, 0, Utc::now())
        .await
        .unwrap();
    let (kept, other) = (session_id(&db, &c).await, session_id(&db, &c).await);

    let set = PasswordSet {
        client: &c,
        hash: "$argon2id$new",
        must_change: true,
        through_link: None,
        keep_session: Some(kept),
        audit: audit(&c, AuditAction::ClientPasswordChanged),
    };
    record(&db, set, Utc::now()).await.unwrap();

    let link = account_link::Entity::find_by_id(link.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.revoked_reason, Some(RevokedReason::PasswordSet));
    let queued = email_delivery::Entity::find_by_id(queued.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(queued.status, DeliveryStatus::Superseded);
    assert!(!session_revoked(&db, kept).await);
    assert!(session_revoked(&db, other).await);
    let stored = client::Entity::find_by_id(c.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.password_hash.as_deref(), Some("$argon2id$new"));
    assert!(stored.must_change_password);
    assert!(stored.activated_at.is_none(), "only a link activates");
    let events = audit_event::Entity::find().all(&db).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, AuditAction::ClientPasswordChanged);
}

#[tokio::test]
async fn a_password_set_through_a_link_uses_it_up_and_activates_the_client() {
    let db = testing::database().await;
    let c = testing::client(&db).await;
    let link = live_link(&db, &c).await;
    let through = |c| PasswordSet {
        client: c,
        hash: "$argon2id$new",
        must_change: false,
        through_link: Some(link.id),
        keep_session: None,
        audit: audit(c, AuditAction::LinkUsed),
    };

    record(&db, through(&c), Utc::now()).await.unwrap();
    let again = record(&db, through(&c), Utc::now()).await;

    assert!(matches!(again, Err(AppError::Link(LinkProblem::Used))));
    let used = account_link::Entity::find_by_id(link.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(used.used_at.is_some());
    assert!(used.revoked_at.is_none(), "used, not revoked");
    let stored = client::Entity::find_by_id(c.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.activated_at.is_some());
}
