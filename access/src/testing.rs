//! A migrated SQLite database in memory and a client in it, for unit tests of rules.
use chrono::Utc;
use entity::account_link::{self, LinkKind};
use entity::{client, organization};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, ConnectOptions, Database, DatabaseConnection, Set};
use uuid::Uuid;

/// A fresh database with every migration applied. One connection: an in-memory
/// SQLite database lives and dies with its connection.
pub async fn database() -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.expect("in-memory SQLite");
    Migrator::up(&db, None).await.expect("migrations apply");
    db
}

/// A practice with one invited client, `jane@example.com`.
pub async fn client(db: &DatabaseConnection) -> client::Model {
    let now = Utc::now();
    let org = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set("Sunrise Clinic".into()),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .expect("organization");
    client::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.id),
        first_name: Set("Jane".into()),
        last_name: Set("Doe".into()),
        email: Set(Some("jane@example.com".into())),
        email_normalized: Set(Some("jane@example.com".into())),
        password_hash: Set(None),
        must_change_password: Set(false),
        sort_key: Set("doe\u{1f}jane".into()),
        search_text: Set("jane doe jane@example.com".into()),
        activated_at: Set(None),
        link_generation: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("client")
}

/// A live invite link of `client_id`, minted for `delivery_id` when given.
pub async fn live_link(
    db: &DatabaseConnection,
    client_id: Uuid,
    delivery_id: Option<Uuid>,
) -> account_link::Model {
    account_link::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(client_id),
        kind: Set(LinkKind::Invite),
        token_hash: Set(Uuid::new_v4().simple().to_string()),
        sent_to_email: Set("jane@example.com".into()),
        created_at: Set(Utc::now()),
        expires_at: Set(None),
        used_at: Set(None),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        delivery_id: Set(delivery_id),
    }
    .insert(db)
    .await
    .expect("link")
}
