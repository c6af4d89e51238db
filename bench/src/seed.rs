//! Seeding: organizations, one signed-in provider each, and their clients,
//! inserted in bulk (the benchmarks measure the resend path, not seeding).
use access::token::SessionToken;
use anyhow::Result;
use chrono::Utc;
use entity::{client, organization, provider, session};
use sea_orm::{DatabaseConnection, EntityTrait, Set};
use uuid::Uuid;

/// The password of every seeded provider.
pub const PASSWORD: &str = "correct horse battery staple tuba";

/// A seeded practice: its provider's email, a session token, and its clients.
pub struct Practice {
    pub provider_email: String,
    pub token: String,
    pub clients: Vec<Uuid>,
}

/// Seeded client `n`'s id, 00000000-0000-7000-8000-<n in 12 hex digits>, so that
/// the pgbench floor (bench/floor/resend.sql) can name clients without a lookup.
pub fn client_id(n: usize) -> Uuid {
    Uuid::from_u128((0x7000 << 64) | (0x8000 << 48) | n as u128)
}

/// Seeded practice `o`'s id, 00000000-0000-7000-9000-<o in 12 hex digits>; client
/// `n` belongs to practice `n % orgs`.
pub fn organization_id(o: usize) -> Uuid {
    Uuid::from_u128((0x7000 << 64) | (0x9000 << 48) | o as u128)
}

/// Seeds `orgs` practices with `clients` clients spread across them.
pub async fn seed(db: &DatabaseConnection, orgs: usize, clients: usize) -> Result<Vec<Practice>> {
    let hash = portal_api::service::passwords::Passwords::new()
        .hash(PASSWORD.to_owned().into())
        .await?;
    let now = Utc::now();
    let mut practices = Vec::with_capacity(orgs);
    let mut client_rows = Vec::with_capacity(clients);
    for o in 0..orgs {
        let org_id = organization_id(o);
        organization::Entity::insert(organization::ActiveModel {
            id: Set(org_id),
            name: Set(format!("Practice {o}")),
            created_at: Set(now),
        })
        .exec(db)
        .await?;
        let provider_id = Uuid::now_v7();
        let provider_email = format!("dr{o}@bench.example");
        provider::Entity::insert(provider::ActiveModel {
            id: Set(provider_id),
            organization_id: Set(org_id),
            email: Set(provider_email.clone()),
            name: Set(format!("Dr {o}")),
            password_hash: Set(hash.clone()),
            created_at: Set(now),
        })
        .exec(db)
        .await?;
        let token = SessionToken::generate();
        session::Entity::insert(session::ActiveModel {
            id: Set(Uuid::now_v7()),
            token_hash: Set(token.hash()),
            provider_id: Set(Some(provider_id)),
            client_id: Set(None),
            created_at: Set(now),
            expires_at: Set(now + chrono::Duration::days(1)),
            revoked_at: Set(None),
        })
        .exec(db)
        .await?;
        let mut ids = Vec::new();
        for c in (o..clients).step_by(orgs) {
            let id = client_id(c);
            ids.push(id);
            let email = format!("c{c}@bench.example");
            client_rows.push(client::ActiveModel {
                id: Set(id),
                organization_id: Set(org_id),
                first_name: Set(format!("Client{c}")),
                last_name: Set("Bench".into()),
                email: Set(Some(email.clone())),
                email_normalized: Set(Some(email.clone())),
                password_hash: Set(None),
                must_change_password: Set(false),
                sort_key: Set(format!("bench\u{1f}client{c}")),
                search_text: Set(format!("client{c} bench {email}")),
                activated_at: Set(None),
                link_generation: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
        practices.push(Practice {
            provider_email,
            token: token.expose().to_owned(),
            clients: ids,
        });
    }
    for chunk in client_rows.chunks(1000) {
        client::Entity::insert_many(chunk.to_vec()).exec(db).await?;
    }
    Ok(practices)
}
