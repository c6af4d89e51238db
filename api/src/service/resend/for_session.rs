//! `resendWelcomeEmail` on PostgreSQL with the caller's session checked by the
//! statement that queues the email ([`access::link_email::for_provider_session`]):
//! the request's session look-up costs no round trip of its own.
use super::{CountedSend, Resent};
use crate::error::AppError;
use crate::service::resend_cap::Acquired;
use crate::service::sessions::{Caller, ProviderActor, Viewer};
use access::audit::Actor;
use access::link_email::{self, ForClient};
use chrono::{DateTime, Utc};
use uuid::Uuid;

impl CountedSend<'_> {
    /// [`Self::resend_owned`] for whoever holds the session `token_hash` names, the
    /// session checked by the statement that queues the email: one Redis call and one
    /// statement per resend, the request's session look-up included. The answers are
    /// those of the look-up followed by [`Self::resend_owned`]: when the statement
    /// writes nothing, or the cap refuses, `caller` is looked up to tell why (an
    /// expired session, a client's, another practice's client, no address), and the
    /// slot, taken first, is given back.
    pub async fn resend_for_session(
        &self,
        caller: &Caller,
        token_hash: &str,
        client_id: Uuid,
        ip: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Resent, AppError> {
        let provider = async || caller.viewer(self.db, now).await?.provider();
        let (slot, quota) = match self.limiter.acquire(client_id, now).await? {
            Acquired::Granted { slot, quota } => (slot, quota),
            Acquired::Refused { quota } => {
                let actor = provider().await?;
                let by = Actor::Provider(actor.provider_id);
                let scope = (actor.organization_id, client_id);
                return Err(self.refuse_owned(scope, quota, by, ip, now).await);
            }
        };
        let email = ForClient {
            client_id,
            cap: self.cap,
            ip,
            now,
        };
        let queued = async {
            match link_email::for_provider_session(self.db, token_hash, email).await? {
                Some((session, client, delivery)) => {
                    caller.settle(Viewer::Provider(ProviderActor {
                        provider_id: session.provider_id,
                        organization_id: session.organization_id,
                        session_id: session.session_id,
                    }));
                    Ok((client, delivery))
                }
                // Nothing was written: tell apart why.
                None => Err(self
                    .not_queued(provider().await?.organization_id, client_id)
                    .await),
            }
        };
        let (client, delivery) = self.holding(slot, queued).await?;
        Ok(Resent {
            client,
            delivery,
            quota,
        })
    }
}
