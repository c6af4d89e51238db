//! R5 on SQLite without HTTP: the cap, what a refusal writes, and a slot given back.
use super::CountedSend;
use crate::error::AppError;
use crate::service::resend_cap::{InProcessLimiter, NoHistory, ResendLimiter, Window};
use access::audit::{Actor, AuditAction};
use access::testing;
use chrono::Utc;
use entity::email_delivery::Cap;
use entity::email_delivery::{self, DeliveryStatus, EmailKind};
use entity::{audit_event, client};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Duration;

fn limiter() -> InProcessLimiter {
    InProcessLimiter::new(
        Window {
            limit: 5,
            length: Duration::from_secs(24 * 3600),
        },
        std::sync::Arc::new(NoHistory),
    )
}

async fn actions(db: &sea_orm::DatabaseConnection, client: &client::Model) -> Vec<AuditAction> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ClientId.eq(client.id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn the_sixth_link_email_in_a_window_is_refused_and_only_the_newest_stays_queued() {
    let db = testing::database().await;
    let client = testing::client(&db).await;
    let limiter = limiter();
    let send = CountedSend {
        db: &db,
        limiter: &limiter,
        cap: Cap::Provider,
    };
    let now = Utc::now();
    for _ in 0..5 {
        send.resend_link(client.clone(), Actor::System, None, now)
            .await
            .unwrap();
    }

    let sixth = send
        .resend_link(client.clone(), Actor::System, None, now)
        .await;

    assert!(matches!(sixth, Err(AppError::RateLimited { .. })));
    let deliveries = email_delivery::Entity::find().all(&db).await.unwrap();
    assert_eq!(deliveries.len(), 5, "the refused one queued nothing");
    let queued: Vec<_> = deliveries
        .iter()
        .filter(|d| d.status == DeliveryStatus::Queued)
        .collect();
    assert_eq!(queued.len(), 1, "R4: earlier link emails are superseded");
    assert_eq!(queued[0].kind, EmailKind::Welcome);
    let actions = actions(&db, &client).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == AuditAction::InviteResent)
            .count(),
        5
    );
    assert_eq!(actions.last(), Some(&AuditAction::RateLimited));
}

#[tokio::test]
async fn a_resend_that_fails_gives_its_slot_back() {
    let db = testing::database().await;
    let mut gone = testing::client(&db).await;
    gone.id = uuid::Uuid::now_v7();
    let limiter = limiter();
    let send = CountedSend {
        db: &db,
        limiter: &limiter,
        cap: Cap::Provider,
    };

    let refused = send
        .resend_link(gone.clone(), Actor::System, None, Utc::now())
        .await;

    assert!(matches!(refused, Err(AppError::NotFound(_))));
    let quota = limiter.quota(gone.id, Utc::now()).await.unwrap();
    assert_eq!(quota.remaining, 5);
}

#[tokio::test]
async fn an_active_client_is_sent_a_password_reset_and_the_trail_says_so() {
    let db = testing::database().await;
    let mut active = testing::client(&db).await;
    active.password_hash = Some("$argon2id$stored".into());
    let limiter = limiter();
    let send = CountedSend {
        db: &db,
        limiter: &limiter,
        cap: Cap::Provider,
    };

    let resent = send
        .resend_link(active.clone(), Actor::System, None, Utc::now())
        .await
        .unwrap();

    assert_eq!(resent.delivery.kind, EmailKind::PasswordReset);
    assert_eq!(
        actions(&db, &active).await,
        [AuditAction::PasswordResetSent]
    );
}
