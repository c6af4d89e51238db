//! Keeping a claimed row's lease alive while its email is being sent.
//!
//! The lease is what lets another worker take over a row whose worker died
//! (`kill -9`, OOM, a lost host): it must be short, or mail held by a dead worker
//! waits that long. A send may legitimately take longer than a short lease (the
//! SMTP timeout alone is 15 s), so the worker holding the row extends the lease
//! while it works; only a worker that stopped extending loses the row.
use super::Deliverer;
use entity::email_delivery::{self, status};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Extends the lease until dropped.
pub(super) struct LeaseKeeper(tokio::task::JoinHandle<()>);

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Deliverer {
    /// Renews the lease on `id` every third of its length while the row is still
    /// `sending`; stops by itself once the row moved on.
    pub(super) fn keep_lease(&self, id: Uuid) -> LeaseKeeper {
        let db = self.db.clone();
        let clock = self.clock.clone();
        let lease = self.config.lease;
        LeaseKeeper(tokio::spawn(async move {
            let length = chrono::Duration::from_std(lease).unwrap_or_default();
            loop {
                tokio::time::sleep(lease / 3).await;
                let renewed = email_delivery::Entity::update_many()
                    .col_expr(
                        email_delivery::Column::ClaimedUntil,
                        Expr::value(clock.now() + length),
                    )
                    .filter(email_delivery::Column::Id.eq(id))
                    .filter(email_delivery::Column::Status.eq(status::SENDING))
                    .exec(&db)
                    .await;
                match renewed {
                    Ok(r) if r.rows_affected == 0 => return,
                    Ok(_) => {}
                    // The next renewal may succeed; if none does, another worker takes
                    // the row over and the email may go out twice (at-least-once).
                    Err(e) => tracing::warn!(delivery_id = %id, error = %e, "lease renewal failed"),
                }
            }
        }))
    }
}
