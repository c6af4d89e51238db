//! The `DeliverEmail` handler: claims one outbox row, mints its link at send time,
//! renders, sends and records the outcome. Safe to run twice for the same row: the
//! claim is a conditional update, so a row that is `sent` is never sent again, and
//! each claim counts an attempt, which fences off a worker whose lease ran out.

mod lease;
mod link;
mod outcome;

use crate::error::JobError;
use crate::mailer::{Mailer, SendError};
use crate::templates::{self, EmailContent, Recipient};
use access::clock::SharedClock;
use chrono::{DateTime, Utc};
use entity::email_delivery::{DeliveryStatus, EmailKind};
use entity::{client, email_delivery, organization};
use lettre::message::Mailbox;
use link::Minted;
pub use outcome::backoff;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, JoinType, QueryFilter,
    QuerySelect,
};
use std::time::Duration;
use uuid::Uuid;

/// How long a claim lasts without renewal: how long mail held by a dead worker
/// waits before another worker takes it over.
pub const CLAIM_LEASE: Duration = Duration::from_secs(10);

/// How deliveries behave.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Base of the links in emails, e.g. `https://portal.example.com`.
    pub public_url: String,
    /// Where "sign in" links lead (message notification, intake reminder): the
    /// practice's `CLIENT_PORTAL_URL`, else the built-in `PUBLIC_URL/account`.
    pub portal_url: String,
    pub mail_from: Mailbox,
    pub reset_link_ttl: Duration,
    /// Attempts before a transiently failing email is given up as `failed`.
    pub max_attempts: i32,
    /// First retry delay; doubled on each further attempt, capped at ten minutes.
    pub retry_base: Duration,
    /// How long a row stays `sending` after its worker last renewed the claim; past
    /// it, another worker takes over. Renewed every third of it while sending, so it
    /// bounds how long mail held by a dead worker waits, not how long a send may take.
    pub lease: Duration,
}

/// What handling one job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Already sent, failed, superseded, claimed by another worker, or not yet due;
    /// or this worker's claim was taken over before the hand-off.
    Skipped,
    /// A newer link email or a change to the client made this one stale.
    Superseded,
    Retrying {
        at: DateTime<Utc>,
    },
    Failed,
}

/// Everything a delivery needs.
#[derive(Debug, Clone)]
pub struct Deliverer {
    pub db: DatabaseConnection,
    pub mailer: Mailer,
    pub clock: SharedClock,
    pub config: DeliveryConfig,
}

impl Deliverer {
    /// Handles one `DeliverEmail` job.
    #[tracing::instrument(skip(self), fields(delivery_id = %delivery_id))]
    pub async fn deliver(&self, delivery_id: Uuid) -> Result<Outcome, JobError> {
        let Some(delivery) = self.claim(delivery_id).await? else {
            return Ok(Outcome::Skipped);
        };
        let claimed = delivery.clone();
        let outcome = self
            .holding_lease(&claimed, self.send_claimed(delivery))
            .await?;
        crate::metrics::record(claimed.kind, &outcome, claimed.created_at, self.clock.now());
        Ok(outcome)
    }

    /// Everything after the claim: link, rendering, the SMTP hand-off, the outcome.
    async fn send_claimed(&self, delivery: email_delivery::Model) -> Result<Outcome, DbErr> {
        let Some((client, practice)) = self.recipient(delivery.client_id).await? else {
            return self
                .finish(&delivery, DeliveryStatus::Superseded, None)
                .await;
        };
        let token = match delivery.link_kind {
            None => None,
            Some(kind) => match self.mint_link(&delivery, kind).await? {
                Minted::Link(token) => Some(token),
                Minted::Superseded => return Ok(Outcome::Superseded),
                Minted::ClaimLost => return Ok(Self::claim_lost()),
            },
        };
        let link = token.as_ref().map(|t| self.link_url(t));
        let portal = self.config.portal_url.as_str();
        let forms = match delivery.kind {
            EmailKind::IntakeReminder => access::intake_forms::assigned(&self.db, client.id, true)
                .await?
                .into_iter()
                .map(|(_, form)| form.title)
                .collect(),
            _ => Vec::new(),
        };
        if delivery.kind == EmailKind::IntakeReminder && forms.is_empty() {
            // Completed since the reminder was queued: nothing to remind of.
            return self
                .finish(&delivery, DeliveryStatus::Superseded, None)
                .await;
        }
        let content = match (delivery.kind, link.as_deref()) {
            (EmailKind::Welcome, Some(link)) => EmailContent::Welcome { link },
            (EmailKind::PasswordReset, Some(link)) => EmailContent::PasswordReset {
                link,
                expires_in: templates::human_duration(self.config.reset_link_ttl),
            },
            (EmailKind::EmailChangedNotice, None) => EmailContent::EmailChangedNotice,
            (EmailKind::MessageNotification, None) => EmailContent::MessageNotification { portal },
            (EmailKind::IntakeReminder, None) => EmailContent::IntakeReminder { portal, forms },
            (kind, link) => {
                let reason = format!(
                    "a {kind} email {} a link",
                    if link.is_some() { "with" } else { "without" }
                );
                return self.fail(&delivery, &client, reason).await;
            }
        };
        let to = Recipient {
            practice: &practice,
            first_name: &client.first_name,
        };
        let rendered = match templates::render(to, &content) {
            Ok(r) => r,
            Err(e) => {
                return self
                    .fail(&delivery, &client, format!("template: {e}"))
                    .await;
            }
        };
        drop(link);
        // Last look before the hand-off: a worker whose claim was taken over (its
        // lease ran out) must not send a second copy. A link email looked when it
        // minted its link, a moment ago, in the same transaction.
        if token.is_none() && !self.still_holding(&delivery).await? {
            return Ok(Self::claim_lost());
        }
        let sent = self
            .mailer
            .send(&self.config.mail_from, &delivery.to_address, &rendered)
            .await;
        drop(token);
        match sent {
            Ok(()) => {
                tracing::info!(kind = %delivery.kind, "email sent");
                self.finish(&delivery, DeliveryStatus::Sent, None).await
            }
            Err(SendError::Permanent(reason)) => self.fail(&delivery, &client, reason).await,
            Err(SendError::Transient(reason)) => self.retry_later(&delivery, &client, reason).await,
        }
    }

    fn claim_lost() -> Outcome {
        tracing::info!("claim taken over by another worker; not sending");
        Outcome::Skipped
    }

    /// Takes the row if it is due and nobody holds it; counts the attempt.
    async fn claim(&self, id: Uuid) -> Result<Option<email_delivery::Model>, DbErr> {
        let now = self.clock.now();
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or_default();
        let claimable = Condition::any()
            .add(
                Condition::all()
                    .add(email_delivery::Column::Status.eq(DeliveryStatus::Queued))
                    .add(email_delivery::Column::NextAttemptAt.lte(now)),
            )
            .add(
                Condition::all()
                    .add(email_delivery::Column::Status.eq(DeliveryStatus::Sending))
                    .add(email_delivery::Column::ClaimedUntil.lt(now)),
            );
        let mut claimed = email_delivery::Entity::update_many()
            .col_expr(
                email_delivery::Column::Status,
                Expr::value(DeliveryStatus::Sending),
            )
            .col_expr(
                email_delivery::Column::Attempts,
                Expr::col(email_delivery::Column::Attempts).add(1),
            )
            .col_expr(
                email_delivery::Column::ClaimedUntil,
                Expr::value(now + lease),
            )
            .col_expr(email_delivery::Column::UpdatedAt, Expr::value(now))
            .filter(email_delivery::Column::Id.eq(id))
            .filter(claimable)
            .exec_with_returning(&self.db)
            .await?;
        Ok(claimed.pop())
    }

    /// The client and their practice's name, in one query.
    async fn recipient(&self, client_id: Uuid) -> Result<Option<(client::Model, String)>, DbErr> {
        let practice = client::Entity::belongs_to(organization::Entity)
            .from(client::Column::OrganizationId)
            .to(organization::Column::Id)
            .into();
        let found = client::Entity::find_by_id(client_id)
            .select_also(organization::Entity)
            .join(JoinType::LeftJoin, practice)
            .one(&self.db)
            .await?;
        Ok(found.map(|(client, org)| (client, org.map(|o| o.name).unwrap_or_default())))
    }
}
