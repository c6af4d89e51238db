//! The `DeliverEmail` handler: claims outbox rows, mints their links at send time,
//! renders, sends and records the outcomes. Safe to run twice for the same row: the
//! claim is a conditional update, so a row that is `sent` is never sent again, and
//! each claim counts an attempt, which fences off a worker whose lease ran out.
//!
//! Rows are handled in batches ([`Batcher`] gathers the jobs a worker holds at
//! once): one statement claims a batch, one reads its recipients, one transaction
//! mints its links, and sent rows are recorded a statement per group of sends that
//! finished together. A batch of one is the same path.

mod batcher;
mod claim;
mod compose;
mod lease;
mod link;
mod outcome;

use crate::error::JobError;
use crate::mailer::{Mailer, SendError};
use crate::templates::Rendered;
use access::clock::SharedClock;
use access::token::LinkToken;
pub use batcher::Batcher;
use chrono::{DateTime, Utc};
use compose::Composed;
use entity::email_delivery::{self, DeliveryStatus};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lease::ClaimStart;
use link::Minted;
pub use outcome::backoff;
use sea_orm::{DatabaseConnection, DbErr};
use std::collections::HashMap;
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
    pub mail_from: lettre::message::Mailbox,
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

/// A claimed row ready for the SMTP hand-off.
struct Ready {
    delivery: email_delivery::Model,
    client: claim::Addressee,
    rendered: Rendered,
    /// The link's token, kept only until the hand-off, and the link's id.
    token: Option<LinkToken>,
    link: Option<Uuid>,
}

impl Deliverer {
    fn backend(&self) -> sea_orm::DbBackend {
        self.db.get_database_backend()
    }

    /// Handles one `DeliverEmail` job.
    pub async fn deliver(&self, delivery_id: Uuid) -> Result<Outcome, JobError> {
        let mut outcomes = self.deliver_batch(&[delivery_id]).await?;
        Ok(outcomes.remove(&delivery_id).unwrap_or(Outcome::Skipped))
    }

    /// Handles the jobs of `ids` together; every id gets an outcome.
    pub async fn deliver_batch(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Outcome>, JobError> {
        let start = self.claim_start();
        let claimed = self.claim(ids).await?;
        let mut outcomes: HashMap<Uuid, Outcome> =
            ids.iter().map(|id| (*id, Outcome::Skipped)).collect();
        if claimed.is_empty() {
            return Ok(outcomes);
        }
        let handled = self
            .holding_lease(&claimed, self.send_claimed(&claimed, start))
            .await?;
        let now = self.clock.now();
        for delivery in &claimed {
            let outcome = handled
                .get(&delivery.id)
                .cloned()
                .unwrap_or(Outcome::Skipped);
            crate::metrics::record(delivery.kind, &outcome, delivery.created_at, now);
            outcomes.insert(delivery.id, outcome);
        }
        Ok(outcomes)
    }

    /// Everything after the claim (asked for at `start`): links, rendering, the SMTP
    /// hand-off, outcomes.
    async fn send_claimed(
        &self,
        claimed: &[email_delivery::Model],
        start: ClaimStart,
    ) -> Result<HashMap<Uuid, Outcome>, DbErr> {
        let mut outcomes = HashMap::new();
        let recipients = self.recipients(claimed).await?;
        let (found, gone): (Vec<_>, Vec<_>) = claimed
            .iter()
            .partition(|d| recipients.contains_key(&d.client_id));
        let mut superseded: Vec<Uuid> = gone.iter().map(|d| d.id).collect();
        let mut minted = self.mint_links(&found, start).await?;
        let mut ready = Vec::with_capacity(found.len());
        for delivery in found {
            let Some(client) = recipients.get(&delivery.client_id).cloned() else {
                continue;
            };
            let (token, link) = match delivery.link_kind {
                None => (None, None),
                Some(_) => match minted.remove(&delivery.id) {
                    Some(Minted::Link(token, link)) => (Some(token), Some(link)),
                    Some(Minted::Superseded) => {
                        outcomes.insert(delivery.id, Outcome::Superseded);
                        continue;
                    }
                    Some(Minted::ClaimLost) | None => {
                        outcomes.insert(delivery.id, claim_lost(delivery.id));
                        continue;
                    }
                },
            };
            match self.compose(delivery, &client, token.as_ref()).await? {
                Composed::Message(rendered) => ready.push(Ready {
                    delivery: delivery.clone(),
                    client,
                    rendered,
                    token,
                    link,
                }),
                Composed::Stale => superseded.push(delivery.id),
                Composed::Unsendable(reason) => {
                    let failed = self.fail(delivery, &client, reason).await?;
                    outcomes.insert(delivery.id, failed);
                }
            }
        }
        self.set_status_many(&superseded, DeliveryStatus::Superseded, None)
            .await?;
        outcomes.extend(superseded.into_iter().map(|id| (id, Outcome::Superseded)));
        // Last look before the hand-off: a worker whose claim was taken over (its
        // lease ran out) must not send a second copy. Link emails looked when they
        // minted their links, a moment ago, in the same transaction. Within the first
        // half of the lease the claim cannot have been taken over: no look then.
        let unlinked: Vec<&email_delivery::Model> = ready
            .iter()
            .filter(|r| r.token.is_none())
            .map(|r| &r.delivery)
            .collect();
        let held = self.still_holding(&unlinked, start).await?;
        let (ready, lost): (Vec<_>, Vec<_>) = ready
            .into_iter()
            .partition(|r| r.token.is_some() || held.contains(&r.delivery.id));
        outcomes.extend(
            lost.iter()
                .map(|r| (r.delivery.id, claim_lost(r.delivery.id))),
        );
        outcomes.extend(self.hand_over(ready).await?);
        Ok(outcomes)
    }

    /// Sends every message concurrently and records what happened as sends finish:
    /// the sent rows that finished within [`GROUP_WINDOW`] of each other, in one
    /// statement (group commit; a batch to a fast server is one), so a worker that
    /// dies has left unrecorded only what it sent in the last moment, and at most
    /// the emails it held.
    async fn hand_over(&self, ready: Vec<Ready>) -> Result<HashMap<Uuid, Outcome>, DbErr> {
        let (done_tx, mut done) = tokio::sync::mpsc::unbounded_channel();
        let sends = async move {
            let mut sending: FuturesUnordered<_> = ready
                .into_iter()
                .map(|r| async move {
                    let from = &self.config.mail_from;
                    let sent = self
                        .mailer
                        .send(from, &r.delivery.to_address, r.rendered)
                        .await;
                    drop(r.token);
                    (r.delivery, r.client, r.link, sent)
                })
                .collect();
            while let Some(finished) = sending.next().await {
                let _ = done_tx.send(finished);
            }
        };
        let record = async {
            let mut outcomes = HashMap::new();
            let mut finished = Vec::new();
            let mut sent = Vec::new();
            // Sends that finish together are recorded together: once a send has
            // finished, the rest of the batch has `GROUP_WINDOW` to finish too (the
            // channel closes when the last one has), then one statement records them.
            while done.recv_many(&mut finished, usize::MAX).await > 0 {
                let rest = async { while done.recv_many(&mut finished, usize::MAX).await > 0 {} };
                let _ = tokio::time::timeout(GROUP_WINDOW, rest).await;
                for (delivery, client, link, result) in finished.drain(..) {
                    let outcome = match result {
                        Ok(()) => {
                            tracing::info!(delivery_id = %delivery.id, kind = %delivery.kind, "email sent");
                            sent.push((delivery.id, link));
                            continue;
                        }
                        Err(SendError::Permanent(reason)) => {
                            self.fail(&delivery, &client, reason).await?
                        }
                        Err(SendError::Transient(reason)) => {
                            self.retry_later(&delivery, &client, reason).await?
                        }
                    };
                    outcomes.insert(delivery.id, outcome);
                }
                self.record_sent(&mut sent, &mut outcomes).await?;
            }
            Ok(outcomes)
        };
        let ((), recorded) = tokio::join!(sends, record);
        recorded
    }

    /// Records the rows of `sent` as sent. The statement is idempotent and the claim
    /// is still held (its lease is renewed until this returns), so a failure (most
    /// often a connection the database dropped) is tried again a few times: every
    /// row left unrecorded would go out a second time once its lease ran out.
    async fn record_sent(
        &self,
        sent: &mut Vec<(Uuid, Option<Uuid>)>,
        outcomes: &mut HashMap<Uuid, Outcome>,
    ) -> Result<(), DbErr> {
        let now = self.clock.now();
        let mut pause = RECORD_SENT_PAUSE;
        let mut tries = 1;
        while let Err(e) = outcome::set_sent(&self.db, sent, now).await {
            if tries == RECORD_SENT_TRIES {
                return Err(e);
            }
            tracing::warn!(emails = sent.len(), error = %e, "recording sent emails failed; trying again");
            tokio::time::sleep(pause).await;
            pause *= 2;
            tries += 1;
        }
        outcomes.extend(sent.drain(..).map(|(id, _)| (id, Outcome::Sent)));
        Ok(())
    }
}

/// Tries at recording sent rows, the first pause between them, doubled each time:
/// ~3 s in all, well inside the lease.
const RECORD_SENT_TRIES: u32 = 5;
const RECORD_SENT_PAUSE: Duration = Duration::from_millis(200);

/// How long a sent row waits for the rest of its batch to record with it: a worker
/// that dies leaves unrecorded (and later sends again) what it sent in this moment.
/// A batch whose sends all finish sooner is recorded at once, so an email alone
/// never waits.
const GROUP_WINDOW: Duration = Duration::from_millis(20);

fn claim_lost(id: Uuid) -> Outcome {
    tracing::info!(delivery_id = %id, "claim taken over by another worker; not sending");
    Outcome::Skipped
}
