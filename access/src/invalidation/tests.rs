use super::{Cause, Invalidated, invalidate, mint_allowed, revoke_live_links};
use crate::outbox::{self, Outgoing};
use crate::testing;
use chrono::{Duration, Utc};
use entity::account_link::{self, RevokedReason};
use entity::email_delivery::{self, DeliveryStatus, EmailKind};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use uuid::Uuid;

async fn link(
    db: &DatabaseConnection,
    client_id: Uuid,
    delivery_id: Option<Uuid>,
) -> account_link::Model {
    testing::live_link(db, client_id, delivery_id).await
}

async fn reload_link(db: &DatabaseConnection, id: Uuid) -> account_link::Model {
    account_link::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

async fn status_of(db: &DatabaseConnection, id: Uuid) -> DeliveryStatus {
    email_delivery::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn a_new_link_revokes_live_links_and_supersedes_queued_link_emails_only() {
    let db = testing::database().await;
    let client = testing::client(&db).await;
    let old = link(&db, client.id, None).await;
    let now = Utc::now();
    let invite = outbox::enqueue(
        &db,
        client.id,
        Outgoing::link_for(&client, "a@x.org"),
        0,
        now,
    )
    .await
    .unwrap();
    let notice = Outgoing::plain(EmailKind::EmailChangedNotice, "a@x.org");
    let notice = outbox::enqueue(&db, client.id, notice, 0, now)
        .await
        .unwrap();

    let done = invalidate(&db, client.id, Cause::NewLink, now)
        .await
        .unwrap();

    assert_eq!(done, Invalidated::Current { generation: 1 });
    let old = reload_link(&db, old.id).await;
    assert!(old.revoked_at.is_some());
    assert_eq!(old.revoked_reason, Some(RevokedReason::Superseded));
    assert_eq!(status_of(&db, invite.id).await, DeliveryStatus::Superseded);
    assert_eq!(status_of(&db, notice.id).await, DeliveryStatus::Queued);
}

#[tokio::test]
async fn the_cause_names_the_revocation() {
    let db = testing::database().await;
    let client = testing::client(&db).await;
    for (cause, reason) in [
        (Cause::EmailChanged, RevokedReason::EmailChanged),
        (Cause::PasswordSet, RevokedReason::PasswordSet),
    ] {
        let l = link(&db, client.id, None).await;
        invalidate(&db, client.id, cause, Utc::now()).await.unwrap();
        assert_eq!(reload_link(&db, l.id).await.revoked_reason, Some(reason));
    }
}

#[tokio::test]
async fn a_link_works_once_and_its_use_ends_every_other_link() {
    let db = testing::database().await;
    let client = testing::client(&db).await;
    let used = link(&db, client.id, None).await;
    let other = link(&db, client.id, None).await;
    let now = Utc::now();

    let first = invalidate(&db, client.id, Cause::LinkUsed(used.id), now).await;
    let second = invalidate(&db, client.id, Cause::LinkUsed(used.id), now).await;

    assert!(matches!(first, Ok(Invalidated::Current { .. })));
    assert_eq!(second.unwrap(), Invalidated::LinkNotLive);
    assert!(reload_link(&db, used.id).await.used_at.is_some());
    let other = reload_link(&db, other.id).await;
    assert_eq!(other.revoked_reason, Some(RevokedReason::PasswordSet));
}

#[tokio::test]
async fn an_expired_link_cannot_be_used() {
    let db = testing::database().await;
    let client = testing::client(&db).await;
    let l = link(&db, client.id, None).await;
    let mut expiring: account_link::ActiveModel = l.clone().into();
    expiring.expires_at = Set(Some(Utc::now() - Duration::seconds(1)));
    expiring.update(&db).await.unwrap();

    let outcome = invalidate(&db, client.id, Cause::LinkUsed(l.id), Utc::now()).await;

    assert_eq!(outcome.unwrap(), Invalidated::LinkNotLive);
}

#[tokio::test]
async fn a_missing_client_changes_nothing() {
    let db = testing::database().await;
    let outcome = invalidate(&db, Uuid::now_v7(), Cause::NewLink, Utc::now()).await;
    assert_eq!(outcome.unwrap(), Invalidated::ClientGone);
}

#[tokio::test]
async fn a_delivery_mints_only_under_the_current_generation() {
    let db = testing::database().await;
    let client = testing::client(&db).await;
    let now = Utc::now();
    let email = Outgoing::link_for(&client, "jane@example.com");
    let stale = outbox::enqueue(&db, client.id, email.clone(), 0, now)
        .await
        .unwrap();
    assert!(
        mint_allowed(&db, &[&stale])
            .await
            .unwrap()
            .contains(&stale.id)
    );

    let Invalidated::Current { generation } = invalidate(&db, client.id, Cause::NewLink, now)
        .await
        .unwrap()
    else {
        panic!("client exists");
    };
    let fresh = outbox::enqueue(&db, client.id, email, generation, now)
        .await
        .unwrap();

    // One batch: only the delivery of the current generation may mint.
    let allowed = mint_allowed(&db, &[&stale, &fresh]).await.unwrap();
    assert_eq!(allowed, [fresh.id].into_iter().collect());
}

#[tokio::test]
async fn giving_up_an_email_takes_back_only_the_links_it_minted() {
    let db = testing::database().await;
    let client = testing::client(&db).await;
    let delivery = Uuid::now_v7();
    let first_attempt = link(&db, client.id, Some(delivery)).await;
    let retry = link(&db, client.id, Some(delivery)).await;
    let unrelated = link(&db, client.id, Some(Uuid::now_v7())).await;

    let revoked = revoke_live_links(
        &db,
        client.id,
        RevokedReason::DeliveryFailed,
        Some(delivery),
        Utc::now(),
    )
    .await
    .unwrap();

    assert_eq!(revoked, 2);
    for id in [first_attempt.id, retry.id] {
        let l = reload_link(&db, id).await;
        assert_eq!(l.revoked_reason, Some(RevokedReason::DeliveryFailed));
    }
    assert!(reload_link(&db, unrelated.id).await.revoked_at.is_none());
}
