//! The resend's one statement on PostgreSQL (`access::link_email`) against the same
//! work done step by step in a transaction (what SQLite runs): the same rows, the
//! same refusals, the same masked address; and how much of the outbox it reads.
use access::audit::Actor;
use access::link_email::{self, ForClient, LinkEmail};
use access::outbox::{self, Outgoing};
use chrono::{DateTime, Utc};
use entity::email_delivery::Cap;
use entity::{account_link, audit_event, client, email_delivery, provider, session};
use migration::MigratorTrait;
use portal_tests::Backend;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

/// How much of the outbox the statement reads in a plan PostgreSQL kept.
#[path = "link_email/kept_plan.rs"]
mod kept_plan;

async fn postgres() -> (portal_tests::database::TestDatabase, DatabaseConnection) {
    let database = portal_tests::database::TestDatabase::create(Backend::Postgres).await;
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    migration::Migrator::up(&db, None).await.unwrap();
    (database, db)
}

/// A client with a live link and a link email queued a minute before `now`, with a
/// password or not.
async fn client_with_a_pending_link(
    db: &DatabaseConnection,
    has_password: bool,
    now: DateTime<Utc>,
) -> client::Model {
    let client = access::testing::client(db).await;
    let client = match has_password {
        false => client,
        true => {
            let mut active = client.into_active_model();
            active.password_hash = Set(Some("$argon2id$stored".into()));
            active.update(db).await.unwrap()
        }
    };
    let email = Outgoing::link_for(&client, "jane@example.com");
    let earlier = now - chrono::Duration::minutes(1);
    let queued = outbox::enqueue(db, client.id, email, 0, earlier)
        .await
        .unwrap();
    access::testing::live_link(db, client.id, Some(queued.id)).await;
    client
}

fn request(client: &client::Model, now: DateTime<Utc>) -> LinkEmail {
    LinkEmail {
        organization_id: client.organization_id,
        client_id: client.id,
        cap: Cap::Provider,
        actor: Actor::Provider(Uuid::nil()),
        ip: Some("127.0.0.1".into()),
        now,
    }
}

fn for_client(client: &client::Model, now: DateTime<Utc>) -> ForClient {
    let LinkEmail {
        client_id,
        cap,
        ip,
        now,
        ..
    } = request(client, now);
    ForClient {
        client_id,
        cap,
        ip,
        now,
    }
}

/// Everything about the client's rows that does not depend on which client it is.
async fn rows_of(db: &DatabaseConnection, client_id: Uuid) -> String {
    let client = client::Entity::find_by_id(client_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let deliveries: Vec<_> = email_delivery::Entity::find()
        .filter(email_delivery::Column::ClientId.eq(client_id))
        .order_by_asc(email_delivery::Column::CreatedAt)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| {
            let kept = (d.kind, d.to_address, d.link_kind, d.link_generation);
            (kept, d.status, d.attempts, d.counted_in, d.next_attempt_at)
        })
        .collect();
    let links: Vec<_> = account_link::Entity::find()
        .filter(account_link::Column::ClientId.eq(client_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.kind, l.revoked_at, l.revoked_reason, l.used_at))
        .collect();
    let audit: Vec<_> = audit_event::Entity::find()
        .filter(audit_event::Column::ClientId.eq(client_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.actor_kind, a.actor_id, a.action, a.detail, a.ip))
        .collect();
    let client = (client.link_generation, client.updated_at, client.email);
    format!("{client:?}\n{deliveries:?}\n{links:?}\n{audit:?}")
}

#[tokio::test]
async fn on_postgresql_the_one_statement_writes_what_the_steps_write() {
    let (_database, db) = postgres().await;
    let now = Utc::now();
    for has_password in [false, true] {
        let one = client_with_a_pending_link(&db, has_password, now).await;
        let steps = client_with_a_pending_link(&db, has_password, now).await;
        let (client, delivery) = link_email::in_one_statement(&db, request(&one, now))
            .await
            .unwrap()
            .expect("queued");
        assert_eq!(client.link_generation, 1);
        assert_eq!(delivery.client_id, one.id);
        let txn = db.begin().await.unwrap();
        link_email::in_steps(&txn, request(&steps, now))
            .await
            .unwrap()
            .expect("queued");
        txn.commit().await.unwrap();
        let (one, steps) = (rows_of(&db, one.id).await, rows_of(&db, steps.id).await);
        assert_eq!(one, steps, "with a password: {has_password}");
        assert!(one.contains("Superseded"), "{one}");
    }
}

#[tokio::test]
async fn on_postgresql_the_one_statement_changes_nothing_for_another_practice_or_no_address() {
    let (_database, db) = postgres().await;
    let now = Utc::now();
    let jane = client_with_a_pending_link(&db, false, now).await;
    let before = rows_of(&db, jane.id).await;
    let foreign = LinkEmail {
        organization_id: Uuid::now_v7(),
        ..request(&jane, now)
    };
    assert!(
        link_email::in_one_statement(&db, foreign)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(rows_of(&db, jane.id).await, before);

    let mut no_address = jane.clone().into_active_model();
    no_address.email = Set(None);
    no_address.email_normalized = Set(None);
    no_address.update(&db).await.unwrap();
    let before = rows_of(&db, jane.id).await;
    let queued = link_email::in_one_statement(&db, request(&jane, now))
        .await
        .unwrap();
    assert!(queued.is_none());
    assert_eq!(rows_of(&db, jane.id).await, before);
}

#[tokio::test]
async fn on_postgresql_the_statement_masks_an_address_as_the_audit_trail_does() {
    let (_database, db) = postgres().await;
    for address in [
        "jane@example.com",
        "é@example.com",
        "@example.com",
        "no-at-sign",
        "a@b@c",
        "Ωmega.long.local.part@mail.example.org",
    ] {
        let in_sql = link_email::masked_in_sql(&db, address).await.unwrap();
        assert_eq!(in_sql, outbox::masked(address), "{address}");
    }
}

/// A session of a new provider of `organization_id` (or of `client_id`, a client's
/// session), expiring at `expires_at`, signed out at `revoked_at`: its token hash and
/// the provider's id.
async fn session(
    db: &DatabaseConnection,
    organization_id: Uuid,
    client_id: Option<Uuid>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
) -> (String, Uuid) {
    let provider = provider::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        email: Set(format!("{}@practice.example", Uuid::new_v4().simple())),
        name: Set("Dr. Who".into()),
        password_hash: Set("$argon2id$stored".into()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .unwrap();
    let hash = Uuid::new_v4().simple().to_string();
    session::ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(hash.clone()),
        provider_id: Set(client_id.is_none().then_some(provider.id)),
        client_id: Set(client_id),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        revoked_at: Set(revoked_at),
    }
    .insert(db)
    .await
    .unwrap();
    (hash, provider.id)
}

#[tokio::test]
async fn on_postgresql_the_statement_for_a_session_writes_what_the_steps_write_for_its_provider() {
    let (_database, db) = postgres().await;
    let now = Utc::now();
    let one = client_with_a_pending_link(&db, false, now).await;
    let steps = client_with_a_pending_link(&db, false, now).await;
    let later = now + chrono::Duration::hours(1);
    let (hash, provider_id) = session(&db, one.organization_id, None, later, None).await;
    let (by, client, delivery) =
        link_email::for_provider_session(&db, &hash, for_client(&one, now))
            .await
            .unwrap()
            .expect("queued");
    assert_eq!(
        (by.provider_id, by.organization_id),
        (provider_id, one.organization_id)
    );
    assert_eq!((client.id, delivery.client_id), (one.id, one.id));
    let txn = db.begin().await.unwrap();
    let as_steps = LinkEmail {
        actor: Actor::Provider(provider_id),
        ..request(&steps, now)
    };
    link_email::in_steps(&txn, as_steps)
        .await
        .unwrap()
        .expect("queued");
    txn.commit().await.unwrap();
    assert_eq!(rows_of(&db, one.id).await, rows_of(&db, steps.id).await);
}

#[tokio::test]
async fn on_postgresql_the_statement_for_a_session_changes_nothing_unless_it_is_a_live_providers_of_the_practice()
 {
    let (_database, db) = postgres().await;
    let now = Utc::now();
    let jane = client_with_a_pending_link(&db, false, now).await;
    let elsewhere = access::testing::client(&db).await.organization_id;
    let (later, earlier) = (
        now + chrono::Duration::hours(1),
        now - chrono::Duration::seconds(1),
    );
    let org = jane.organization_id;
    let refused = [
        ("expired", session(&db, org, None, now, None).await.0),
        (
            "signed out",
            session(&db, org, None, later, Some(earlier)).await.0,
        ),
        (
            "a client's",
            session(&db, org, Some(jane.id), later, None).await.0,
        ),
        (
            "another practice's",
            session(&db, elsewhere, None, later, None).await.0,
        ),
        ("unknown", Uuid::new_v4().simple().to_string()),
    ];
    let before = rows_of(&db, jane.id).await;
    for (which, hash) in refused {
        let queued = link_email::for_provider_session(&db, &hash, for_client(&jane, now))
            .await
            .unwrap();
        assert!(queued.is_none(), "{which} session");
        assert_eq!(rows_of(&db, jane.id).await, before, "{which} session");
    }
}

/// R4 against a link the worker mints while a resend's statement waits for the
/// client: the statement's snapshot predates the link, yet the link must end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_link_minted_while_the_statement_waits_for_the_client_still_ends() {
    let (_database, db) = postgres().await;
    let now = Utc::now();
    let jane = client_with_a_pending_link(&db, false, now).await;
    // The worker's minting transaction: the client held (as `mint_links` holds it),
    // a new link inserted, not yet committed.
    let mint = db.begin().await.unwrap();
    mint.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT id FROM client WHERE id = $1 FOR SHARE",
        [jane.id.into()],
    ))
    .await
    .unwrap();
    let minted = account_link::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(jane.id),
        kind: Set(account_link::LinkKind::Invite),
        token_hash: Set(Uuid::new_v4().simple().to_string()),
        sent_to_email: Set("jane@example.com".into()),
        created_at: Set(now),
        expires_at: Set(None),
        used_at: Set(None),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        delivery_id: Set(None),
    }
    .insert(&mint)
    .await
    .unwrap();
    let resend = {
        let (db, request) = (db.clone(), request(&jane, now));
        tokio::spawn(async move { link_email::in_one_statement(&db, request).await })
    };
    // The statement has started (its snapshot taken) and waits for the client.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!resend.is_finished(), "the statement waits for the mint");
    mint.commit().await.unwrap();
    resend.await.unwrap().unwrap().expect("queued");
    let link = account_link::Entity::find_by_id(minted.id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        link.revoked_at.is_some(),
        "the link minted meanwhile ended: {link:?}"
    );
}
