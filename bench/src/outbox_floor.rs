//! A second, informative floor for the pipeline: lettre sending the same messages to
//! the same sink, plus the statements the outbox's design needs per batch, written by
//! hand on connections of its own: the claim, the recipients, the links minted and
//! the outcome. lettre runs as the worker runs it, on a thread of its own beside the
//! statements' (the worker's own [`Mailer`]: 8 connections, the same messages). No
//! queue, no supersede check, no leases renewed, no retries: what the hardware and
//! the real components allow a worker that keeps this design's rows
//! (one claim, one link, one outcome per email), so that the one-worker drain can be
//! read against the design as well as against a bare lettre client. Point 3's ratio
//! stays against the bare one ([`crate::pipeline::raw`]).
use crate::pipeline;
use crate::stack::Stack;
use anyhow::Result;
use futures::future::join_all;
use futures::stream::{self, StreamExt};
use jobs::mailer::Mailer;
use jobs::templates::{self, EmailContent, Recipient};
use lettre::message::Mailbox;
use sea_orm::sqlx::postgres::{PgPool, PgPoolOptions};
use sea_orm::sqlx::{self, Row};
use serde_json::Value;
use uuid::Uuid;

/// As a worker runs them: this many batches at once, each on one database
/// connection at a time.
const BATCHES_IN_FLIGHT: usize = 4;

/// Rows per batch: a worker's share of its default `WORKER_CONCURRENCY` (512 emails
/// in hand) over its batches in flight, the size its batches grow to under a
/// backlog (85 rows on average over a bench drain, by `pg_stat_statements`). Until
/// the seventeenth session this floor ran batches of one backlog job's rows (32 then),
/// smaller than the worker's own, so it allowed less than the design does: 0.38–0.52
/// of bare lettre against 0.47–0.63 in batches of this size (`bench/NOTES.md`,
/// pipeline notes item 23).
pub const BATCH: usize = 128;

const CLAIM: &str = "UPDATE email_delivery SET status = 'sending', attempts = attempts + 1, \
     claimed_until = now() + interval '10 seconds', updated_at = now() \
     WHERE id = ANY($1) AND ((status = 'queued' AND next_attempt_at <= now()) \
     OR (status = 'sending' AND claimed_until < now())) \
     RETURNING id, client_id, to_address";

const RECIPIENTS: &str = "SELECT c.id, c.first_name, o.name AS practice FROM client c \
     JOIN organization o ON o.id = c.organization_id WHERE c.id = ANY($1)";

const MINT: &str = "INSERT INTO account_link (id, client_id, kind, token_hash, sent_to_email, created_at, delivery_id) \
     SELECT l, c, 'invite', h, e, now(), d FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[]) AS t(l, c, h, e, d)";

const SENT: &str = "UPDATE email_delivery SET status = 'sent', account_link_id = t.l, claimed_until = NULL, \
     sent_at = now(), updated_at = now() FROM unnest($1::uuid[], $2::uuid[]) AS t(d, l) \
     WHERE email_delivery.id = t.d";

/// Drains `n` queued welcome emails as described above, over the mailer's
/// [`jobs::mailer::SMTP_CONNECTIONS`] SMTP connections: emails/s and the CPU per email.
pub async fn run(stack: &Stack, n: usize) -> Result<(f64, Value)> {
    pipeline::reset(stack).await?;
    let ids = pipeline::queue(stack, n).await?;
    let (url, sink) = (stack.database_url.clone(), stack.sink.url());
    // The statements on a thread and a single-threaded runtime of their own, as a
    // worker's; lettre on the mailer's.
    let floor = move || async move { drain(&url, &sink, ids).await };
    let (rate, cpu) = pipeline::on_own_thread(n, floor).await?;
    pipeline::vacuum(stack).await?;
    Ok((rate, cpu))
}

async fn drain(url: &str, sink: &str, ids: Vec<Uuid>) -> Result<()> {
    let db = PgPoolOptions::new()
        .max_connections(BATCHES_IN_FLIGHT as u32)
        .connect(url)
        .await?;
    let smtp = Mailer::from_url(sink).map_err(anyhow::Error::msg)?;
    let from: Mailbox = "Client Portal <no-reply@portal.localhost>".parse()?;
    let batches: Vec<&[Uuid]> = ids.chunks(BATCH).collect();
    let (db, smtp, from) = (&db, &smtp, &from);
    let mut done = stream::iter(batches)
        .map(|ids| batch(db, smtp, from, ids))
        .buffer_unordered(BATCHES_IN_FLIGHT);
    let mut sent = 0;
    while let Some(batch) = done.next().await {
        sent += batch?;
    }
    anyhow::ensure!(
        sent == ids.len(),
        "only {sent} of {} emails sent",
        ids.len()
    );
    db.close().await;
    Ok(())
}

/// One batch: claim, recipients, links, the sends at once, the outcome; how many
/// were sent.
async fn batch(db: &PgPool, smtp: &Mailer, from: &Mailbox, ids: &[Uuid]) -> Result<usize> {
    let claimed = sqlx::query(CLAIM).bind(ids).fetch_all(db).await?;
    let deliveries: Vec<(Uuid, Uuid, String)> = claimed
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let clients: Vec<Uuid> = deliveries.iter().map(|d| d.1).collect();
    let recipients: std::collections::HashMap<Uuid, (String, String)> = sqlx::query(RECIPIENTS)
        .bind(&clients)
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
        .collect::<Result<_, sqlx::Error>>()?;
    let tokens: Vec<_> = deliveries
        .iter()
        .map(|_| access::token::LinkToken::generate())
        .collect();
    let links: Vec<Uuid> = deliveries.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query(MINT)
        .bind(&links)
        .bind(&clients)
        .bind(tokens.iter().map(|t| t.hash()).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.2.clone()).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|d| d.0).collect::<Vec<_>>())
        .execute(db)
        .await?;
    let sends = deliveries
        .iter()
        .zip(&tokens)
        .map(|((_, client, to), token)| {
            let (first_name, practice) = &recipients[client];
            async move {
                let link = format!("http://127.0.0.1/account/setup?token={}", token.expose());
                let to_whom = Recipient {
                    practice,
                    first_name,
                };
                let r = templates::render(to_whom, &EmailContent::Welcome { link: &link })?;
                smtp.send(from, to, r).await?;
                anyhow::Ok(())
            }
        });
    for sent in join_all(sends).await {
        sent?;
    }
    let delivered: Vec<Uuid> = deliveries.iter().map(|d| d.0).collect();
    sqlx::query(SENT)
        .bind(&delivered)
        .bind(&links)
        .execute(db)
        .await?;
    Ok(delivered.len())
}
