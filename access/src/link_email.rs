//! A fresh link email for a practice's client as one PostgreSQL statement: R4's
//! invalidation ([`crate::invalidation::invalidate_owned`]: bump the generation,
//! revoke the live links, supersede queued link emails), the outbox row
//! ([`crate::outbox::enqueue`]) and its audit entry ([`crate::audit::record`]), each a
//! `WITH` clause of one `UPDATE … RETURNING`. The same rows as those three in a
//! transaction ([`in_steps`]), which is what SQLite runs (it has no data-modifying
//! `WITH`); a test runs both on PostgreSQL and holds their rows equal.
//!
//! Why: one round trip instead of seven (`BEGIN`, five statements, `COMMIT`), and
//! one statement is atomic by itself. PostgreSQL alone runs it at twice the rate of
//! the seven (pgbench, `bench/floor/resend.sql` against `bench/floor/resend_one.sql`).
//!
//! [`for_provider_session`] is the same statement with the request's session look-up
//! as one more `WITH` clause: `resendWelcomeEmail` authenticates its caller and
//! queues the email in one round trip.
//!
//! Lock order stays R4's: every other clause reads the client's id from the bumped
//! row, so the client row is locked before any link or email row.
use crate::audit::{self, Actor, AuditEntry};
use crate::invalidation::{self, Cause};
use crate::outbox::{self, Outgoing};
use chrono::{DateTime, Utc};
use entity::audit_event::ActorKind;
use entity::email_delivery::Cap;
use entity::{client, email_delivery};
use sea_orm::sea_query::Value;
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    FromQueryResult, QueryResult, Statement, TransactionTrait,
};
use statement::{CLIENT, DELIVERY, FOR_SESSION, KNOWN, MASKED_EMAIL};
use uuid::Uuid;

mod statement;

/// Who asks for the email, for whom, and the cap it counts against.
#[derive(Debug, Clone)]
pub struct LinkEmail {
    pub organization_id: Uuid,
    pub client_id: Uuid,
    pub cap: Cap,
    pub actor: Actor,
    pub ip: Option<String>,
    pub now: DateTime<Utc>,
}

/// Queues the link email: the client as it now stands and the queued delivery, or
/// `None`, having changed nothing, when `organization_id` has no such client or the
/// client has no address. One statement on PostgreSQL, a transaction elsewhere.
pub async fn queue(
    db: &DatabaseConnection,
    email: LinkEmail,
) -> Result<Option<(client::Model, email_delivery::Model)>, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => in_one_statement(db, email).await,
        _ => {
            let txn = db.begin().await?;
            let queued = in_steps(&txn, email).await?;
            match queued {
                Some(_) => txn.commit().await?,
                None => txn.rollback().await?,
            }
            Ok(queued)
        }
    }
}

/// [`queue`] as R4's invalidation, the outbox insert and the audit entry, one after
/// the other in the caller's transaction (roll it back on `None`).
pub async fn in_steps(
    txn: &DatabaseTransaction,
    email: LinkEmail,
) -> Result<Option<(client::Model, email_delivery::Model)>, DbErr> {
    let LinkEmail {
        organization_id,
        client_id,
        cap,
        actor,
        ip,
        now,
    } = email;
    let Some(client) =
        invalidation::invalidate_owned(txn, organization_id, client_id, Cause::NewLink, now)
            .await?
    else {
        return Ok(None);
    };
    let Some(to) = client.email.clone() else {
        return Ok(None);
    };
    let email = Outgoing::link_for(&client, to).counted_in(cap);
    let generation = client.link_generation;
    let delivery = record(txn, &client, email, generation, actor, ip, now).await?;
    Ok(Some((client, delivery)))
}

/// Queues `email` under `generation` (already started) and audits it as a resend of
/// its kind, in the caller's transaction.
pub async fn record(
    txn: &DatabaseTransaction,
    client: &client::Model,
    email: Outgoing,
    generation: i64,
    actor: Actor,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<email_delivery::Model, DbErr> {
    let entry = AuditEntry {
        organization_id: client.organization_id,
        actor,
        action: email.resent_action(),
        client_id: Some(client.id),
        detail: Some(format!("to {}", outbox::masked(&email.to))),
        ip,
    };
    let delivery = outbox::enqueue(txn, client.id, email, generation, now).await?;
    audit::record(txn, entry).await?;
    Ok(delivery)
}

/// [`queue`] on PostgreSQL: one statement, atomic by itself.
pub async fn in_one_statement(
    conn: &impl ConnectionTrait,
    email: LinkEmail,
) -> Result<Option<(client::Model, email_delivery::Model)>, DbErr> {
    let (actor_kind, actor_id) = email.actor.parts();
    let what = ForClient {
        client_id: email.client_id,
        cap: email.cap,
        ip: email.ip,
        now: email.now,
    };
    let mut values = common_values(email.organization_id.into(), what);
    values[ACTOR_KIND] = actor_kind.to_value().into();
    values.push(actor_id.into());
    let Some(row) = run(conn, &KNOWN, values).await? else {
        return Ok(None);
    };
    Ok(Some(answer(&row)?))
}

/// A provider's live session, as the statement of [`for_provider_session`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionProvider {
    pub session_id: Uuid,
    pub provider_id: Uuid,
    pub organization_id: Uuid,
}

/// A link email for a client, asked for by whoever [`for_provider_session`] finds.
#[derive(Debug, Clone)]
pub struct ForClient {
    pub client_id: Uuid,
    pub cap: Cap,
    pub ip: Option<String>,
    pub now: DateTime<Utc>,
}

/// [`queue`] on PostgreSQL for whoever holds the session whose token hashes to
/// `token_hash`, checked by the same statement: the session must be live at
/// `email.now` (not signed out, not expired) and a provider's, and the client that
/// provider's practice's. The request's session look-up and its resend in one
/// round trip. `None`, having changed nothing, when any of that fails or the client
/// has no address.
pub async fn for_provider_session(
    conn: &impl ConnectionTrait,
    token_hash: &str,
    email: ForClient,
) -> Result<Option<(SessionProvider, client::Model, email_delivery::Model)>, DbErr> {
    let mut values = common_values(token_hash.into(), email);
    values[ACTOR_KIND] = ActorKind::Provider.to_value().into();
    let Some(row) = run(conn, &FOR_SESSION, values).await? else {
        return Ok(None);
    };
    let (client, delivery) = answer(&row)?;
    let session = SessionProvider {
        session_id: row.try_get("", "w_session_id")?,
        provider_id: row.try_get("", "w_provider_id")?,
        organization_id: client.organization_id,
    };
    Ok(Some((session, client, delivery)))
}

/// Index of the actor's kind in the values (`$11`).
const ACTOR_KIND: usize = 10;

/// `$1`–`$15` of both statements; `$2` says who asks (the practice's id, or the
/// session's token hash), `$11` is the actor's kind, set by the caller.
fn common_values(who: Value, email: ForClient) -> Vec<Value> {
    // What the client gets: an invite until they have a password, a reset after.
    let invite = Outgoing::link(false, "");
    let reset = Outgoing::link(true, "");
    vec![
        email.client_id.into(),
        who,
        email.now.into(),
        Uuid::now_v7().into(),
        invite.kind.to_value().into(),
        reset.kind.to_value().into(),
        invite.link_kind.map(|k| k.to_value()).into(),
        reset.link_kind.map(|k| k.to_value()).into(),
        email.cap.to_value().into(),
        Uuid::now_v7().into(),
        Value::String(None),
        // The trail is dated by the system clock, as `audit::record` dates it.
        Utc::now().into(),
        invite.resent_action().to_value().into(),
        reset.resent_action().to_value().into(),
        email.ip.into(),
    ]
}

async fn run(
    conn: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>, DbErr> {
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    conn.query_one_raw(statement).await
}

fn answer(row: &QueryResult) -> Result<(client::Model, email_delivery::Model), DbErr> {
    let client = client::Model::from_query_result(row, CLIENT)?;
    let delivery = email_delivery::Model::from_query_result(row, DELIVERY)?;
    Ok((client, delivery))
}

/// [`MASKED_EMAIL`] for one address, for the test that holds it equal to [`crate::outbox::masked`].
#[doc(hidden)]
pub async fn masked_in_sql(conn: &impl ConnectionTrait, email: &str) -> Result<String, DbErr> {
    let sql = format!("SELECT {MASKED_EMAIL} AS masked FROM (SELECT $1::text AS email) c");
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, [email.into()]);
    let row = conn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("masked".into()))?;
    row.try_get("", "masked")
}
