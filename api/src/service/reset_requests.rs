//! `requestPasswordReset`, durable: the request is recorded before it is answered
//! (one insert whatever the address, so the answer tells nobody who is a client),
//! handled right after in this process, and deleted once handled. A request whose
//! process stopped or died first is picked up by any API process's sweeper.
//!
//! Handled in API processes, not the worker: it needs the resend caps, which live
//! with the API.
use super::resend::{CountedSend, Resent};
use crate::error::AppError;
use crate::service::throttle::Action;
use crate::state::AppState;
use access::audit::Actor;
use entity::{client, password_reset_request as request};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// How long a process holds a request it handles before another may take it.
const CLAIM: Duration = Duration::from_secs(30);
/// How old an unhandled request must be before the sweeper takes it (its own
/// process normally handles it within milliseconds).
const SWEEP_AFTER: Duration = Duration::from_secs(5);
/// How often the sweeper looks, and how many it takes per look.
const SWEEP_EVERY: Duration = Duration::from_secs(2);
const SWEEP_BATCH: u64 = 50;
/// Most clients one address may belong to (one per practice) that a reset reaches.
const MAX_CLIENTS_PER_ADDRESS: u64 = 20;

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_default()
}

/// Records a reset for `normalized_email` and starts handling it; answers before
/// the handling is done. Only the abuse limits (the same for every address) are
/// checked first.
pub async fn request(
    state: &AppState,
    normalized_email: String,
    ip: Option<String>,
) -> Result<(), AppError> {
    state
        .throttle
        .check(Action::PasswordReset, ip.as_deref(), &normalized_email)
        .await?;
    let id = Uuid::now_v7();
    request::ActiveModel {
        id: Set(id),
        email_normalized: Set(normalized_email),
        ip: Set(ip),
        created_at: Set(state.clock.now()),
        claimed_until: Set(None),
    }
    .insert(&state.db)
    .await?;
    let (state, running) = (state.clone(), state.background.clone().read_owned().await);
    tokio::spawn(async move {
        if let Err(e) = handle(&state, id).await {
            tracing::warn!(error = %e, "password reset request failed; the sweeper retries");
        }
        drop(running);
    });
    Ok(())
}

/// Handles one recorded request if no other process holds it.
async fn handle(state: &AppState, id: Uuid) -> Result<(), AppError> {
    let now = state.clock.now();
    let free = Condition::any()
        .add(request::Column::ClaimedUntil.is_null())
        .add(request::Column::ClaimedUntil.lt(now));
    let claimed = request::Entity::update_many()
        .col_expr(
            request::Column::ClaimedUntil,
            Expr::value(now + chrono(CLAIM)),
        )
        .filter(request::Column::Id.eq(id))
        .filter(free)
        .exec(&state.db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(());
    }
    let Some(found) = request::Entity::find_by_id(id).one(&state.db).await? else {
        return Ok(());
    };
    send_resets(state, &found.email_normalized, found.ip).await?;
    request::Entity::delete_by_id(id).exec(&state.db).await?;
    Ok(())
}

/// Every client with that address (one per practice) gets a link, within the
/// self-service cap (never the providers').
async fn send_resets(state: &AppState, email: &str, ip: Option<String>) -> Result<(), AppError> {
    let clients = client::Entity::find()
        .filter(client::Column::EmailNormalized.eq(email))
        .limit(MAX_CLIENTS_PER_ADDRESS)
        .all(&state.db)
        .await?;
    let send = CountedSend::self_service(state);
    for client in clients {
        let now = state.clock.now();
        match send
            .resend_link(client, Actor::System, ip.clone(), now)
            .await
        {
            Ok(Resent { delivery, .. }) => state.push_deliveries([delivery.id]).await,
            Err(AppError::RateLimited { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Handles requests left unhandled (their process stopped first) until `stop`.
pub async fn sweep(state: AppState, stop: watch::Receiver<bool>) {
    jobs::periodic::every(SWEEP_EVERY, stop, || async {
        if let Err(e) = sweep_once(&state).await {
            tracing::warn!(error = %e, "password reset sweep failed; will retry");
        }
    })
    .await
}

/// One pass of [`sweep`].
pub async fn sweep_once(state: &AppState) -> Result<usize, AppError> {
    let before = state.clock.now() - chrono(SWEEP_AFTER);
    let stale: Vec<Uuid> = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(request::Column::CreatedAt.lt(before))
        .order_by_asc(request::Column::CreatedAt)
        .limit(SWEEP_BATCH)
        .into_tuple()
        .all(&state.db)
        .await?;
    for id in &stale {
        handle(state, *id).await?;
    }
    Ok(stale.len())
}
