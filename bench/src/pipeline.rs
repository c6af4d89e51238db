//! The email pipeline: queued deliveries drained by one and by two workers, against
//! the floor of lettre sending the same messages straight to the same SMTP sink;
//! and the latency of one email at idle.
use crate::cpu;
use crate::load::Stats;
use crate::stack::{Process, Stack};
use anyhow::Result;
use jobs::templates::{self, EmailContent, Recipient};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a drain looks whether it is done (one `SCARD`): a drain of ~2 s is
/// timed to within this.
const POLL: Duration = Duration::from_millis(5);

/// Removes queued work left by earlier phases (rows and Redis jobs).
pub async fn reset(stack: &Stack) -> Result<()> {
    stack
        .db
        .execute_unprepared(
            "UPDATE email_delivery SET status = 'superseded' WHERE status IN ('queued', 'sending')",
        )
        .await?;
    vacuum(stack).await?;
    stack.delete_redis_keys().await?;
    Ok(())
}

/// Clears the dead row versions a drain leaves (two per email: its claim and its
/// outcome), as autovacuum would between bursts, so that every drain starts from
/// the same tables instead of sharing PostgreSQL with the last one's cleanup.
pub async fn vacuum(stack: &Stack) -> Result<()> {
    stack
        .db
        .execute_unprepared("VACUUM email_delivery, account_link")
        .await?;
    Ok(())
}

/// Deliveries the sink has accepted so far (smtp-sink keeps no count of its own).
async fn sent(stack: &Stack) -> Result<usize> {
    let row = stack
        .db
        .query_one_raw(Statement::from_string(
            stack.db.get_database_backend(),
            "SELECT count(*) AS n FROM email_delivery WHERE status = 'sent'",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    Ok(row.try_get::<i64>("", "n")? as usize)
}

/// Queues `n` welcome emails (one per client) in the outbox; their ids.
///
/// The ids are UUIDv7, drawn here in the order the rows are written, as the service
/// draws them (`access::outbox`): a backlog queued together then sits together in
/// the primary key, and so does each batch a worker claims. Random ids
/// (`gen_random_uuid()`) would scatter every batch over the whole index.
pub async fn queue(stack: &Stack, n: usize) -> Result<Vec<uuid::Uuid>> {
    let ids: Vec<uuid::Uuid> = (0..n).map(|_| uuid::Uuid::now_v7()).collect();
    let sql = "INSERT INTO email_delivery (id, client_id, kind, to_address, link_kind, link_generation, status, attempts, next_attempt_at, created_at, updated_at) \
         SELECT new.id, c.id, 'welcome', c.email, 'invite', c.link_generation, 'queued', 0, now(), now(), now() \
         FROM unnest($1::uuid[]) WITH ORDINALITY AS new (id, n) \
         JOIN (SELECT id, email, link_generation, row_number() OVER (ORDER BY id) AS n FROM client ORDER BY id LIMIT $2) AS c USING (n) \
         ORDER BY new.n RETURNING email_delivery.id";
    let rows = stack
        .db
        .query_all_raw(Statement::from_sql_and_values(
            stack.db.get_database_backend(),
            sql,
            [ids.into(), (n as i64).into()],
        ))
        .await?;
    // As autovacuum would within a minute: without fresh statistics the planner
    // takes 10,000 new queued rows for a handful and claims through the status index.
    stack
        .db
        .execute_unprepared("ANALYZE email_delivery")
        .await?;
    rows.iter().map(|row| Ok(row.try_get("", "id")?)).collect()
}

/// Pushes the delivery jobs of `ids` as the service pushes a backlog (a job per
/// `DELIVERIES_PER_JOB` rows, `PUSH_CHUNK` jobs per script call); how many jobs.
async fn push(stack: &Stack, ids: Vec<uuid::Uuid>) -> Result<usize> {
    let client = redis::Client::open(crate::stack::redis_url())?;
    let (queue, _) = jobs::queue::redis(client.get_connection_manager().await?, &stack.prefix);
    let emails = ids.len();
    let jobs = queue.push_deliveries(ids).await;
    anyhow::ensure!(jobs > 0 || emails == 0, "the push failed");
    Ok(jobs)
}

/// Waits until `workers` backlog consumers have registered with the queue: started
/// and about to fetch (their database connections open as their first batches need
/// them, as a running worker's do after an idle spell).
async fn registered(stack: &Stack, workers: usize) -> Result<()> {
    let client = redis::Client::open(crate::stack::redis_url())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let key = format!("{}:{BACKLOG}:workers", stack.prefix);
    let started = Instant::now();
    loop {
        let n: usize = redis::cmd("ZCARD").arg(&key).query_async(&mut conn).await?;
        if n >= workers {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "only {n} of {workers} workers registered in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The queue of backlogs (`DeliverEmails`), and that of single emails.
const BACKLOG: &str = "deliver_emails";
const ONE_EMAIL: &str = "deliver_email";

/// Delivery jobs the workers have finished: a queue's done set in Redis, looked at
/// over one connection (one O(1) `SCARD` a look, so polling it every few
/// milliseconds loads nothing). A job is finished once the outcomes of all its
/// deliveries are recorded in the outbox.
struct Finished {
    conn: redis::aio::MultiplexedConnection,
    key: String,
}

impl Finished {
    async fn open(stack: &Stack, queue: &str) -> Result<Self> {
        let client = redis::Client::open(crate::stack::redis_url())?;
        Ok(Self {
            conn: client.get_multiplexed_async_connection().await?,
            key: format!("{}:{queue}:done", stack.prefix),
        })
    }

    async fn count(&mut self) -> Result<usize> {
        Ok(redis::cmd("SCARD")
            .arg(&self.key)
            .query_async(&mut self.conn)
            .await?)
    }

    /// Waits until `n` delivery jobs are finished in all; false after `limit`.
    async fn wait_for(&mut self, n: usize, limit: Duration, poll: Duration) -> Result<bool> {
        let started = Instant::now();
        while self.count().await? < n {
            if started.elapsed() > limit {
                return Ok(false);
            }
            tokio::time::sleep(poll).await;
        }
        Ok(true)
    }
}

/// Drains `n` queued deliveries with `workers` worker processes: emails/s, the
/// workers' peak RSS and the CPU each component spent per email.
pub async fn drain(stack: &Stack, n: usize, workers: usize) -> Result<(f64, f64, Value)> {
    reset(stack).await?;
    let before = sent(stack).await?;
    let ids = queue(stack, n).await?;
    let mut finished = Finished::open(stack, BACKLOG).await?;
    // The workers start first, as a running service's do: the backlog arrives at
    // workers that are up, and the clock runs from its push to its last email.
    // Their start-up (process, connections, registration) is timed apart.
    let spawned = Instant::now();
    let procs: Vec<Process> = (0..workers)
        .map(|_| stack.worker())
        .collect::<Result<_>>()?;
    registered(stack, workers).await?;
    let start_up = spawned.elapsed().as_secs_f64();
    let pids: Vec<u32> = procs.iter().map(|p| p.child.id()).collect();
    let cpu_before = cpu::Sample::now(&pids);
    let started = Instant::now();
    let pushed_at = chrono::Utc::now();
    let jobs = push(stack, ids).await?;
    let limit = Duration::from_secs(300);
    let mut done = finished.wait_for(jobs, limit, POLL).await?;
    // The outbox has the last word: the sweeper pushes again a row that waited in
    // the backlog longer than its grace (10 s), so the done set may count a delivery
    // twice while another is still on its way.
    while done && sent(stack).await? - before < n {
        done = started.elapsed() < limit;
        tokio::time::sleep(POLL).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut cpu = cpu::Sample::now(&pids).per_item_since(&cpu_before, n);
    // The cleanup the drain leaves PostgreSQL, measured apart (see `vacuum`).
    let before_vacuum = cpu::Sample::now(&[]);
    vacuum(stack).await?;
    // Absent when below the half microsecond the sample rounds away.
    let vacuum = cpu::Sample::now(&[]).per_item_since(&before_vacuum, n);
    cpu[cpu::VACUUM_AFTER] = json!(vacuum["postgres"].as_f64().unwrap_or(0.0));
    cpu[cpu::START_UP] = json!((start_up * 1000.0).round() / 1000.0);
    let arrived = sent(stack).await? - before;
    anyhow::ensure!(done && arrived == n, "only {arrived} of {n} emails arrived");
    let rss = procs.iter().map(Process::peak_rss_mib).fold(0.0, f64::max);
    let span = stack
        .db
        .query_one_raw(Statement::from_string(
            stack.db.get_database_backend(),
            format!(
                "SELECT extract(epoch FROM max(sent_at) - min(sent_at))::float8 AS s FROM email_delivery \
                 WHERE status = 'sent' AND sent_at >= '{}'",
                pushed_at.to_rfc3339()
            ),
        ))
        .await?
        .and_then(|r| r.try_get::<f64>("", "s").ok())
        .unwrap_or(f64::NAN);
    println!(
        "   ({workers} worker(s): started in {start_up:.2} s; {seconds:.2} s from the push to the last email, {span:.2} s from the first email to the last)"
    );
    Ok((n as f64 / seconds, rss, cpu))
}

/// The floor: lettre sends `n` rendered welcome emails straight to the sink over
/// `connections` connections at once (a worker holds
/// [`jobs::mailer::SMTP_CONNECTIONS`]; two workers twice as many), on a thread and a
/// single-threaded runtime of its own: lettre is fastest so (77 µs of CPU per email
/// against ~140 on a multi-threaded runtime, 12,400 emails/s against ~10,000), and a
/// floor is the best the hardware allows. It runs with `portal`'s allocator (mimalloc,
/// set in `portal_api`, which this binary links) for the same reason.
pub async fn raw(stack: &Stack, n: usize, connections: usize) -> Result<(f64, Value)> {
    let url = stack.sink.url();
    on_own_thread(n, move || async move {
        send_straight(&url, n, connections).await
    })
    .await
}

/// Runs a floor's `n` emails (the future `floor` makes) on a thread and a
/// single-threaded runtime of its own: emails/s and the CPU per email.
pub async fn on_own_thread<F, Fut>(n: usize, floor: F) -> Result<(f64, Value)>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<()>>,
{
    let cpu_before = cpu::Sample::now(&[]);
    let started = Instant::now();
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(floor())
    })
    .await??;
    let rate = n as f64 / started.elapsed().as_secs_f64();
    Ok((rate, cpu::Sample::now(&[]).per_item_since(&cpu_before, n)))
}

async fn send_straight(url: &str, n: usize, connections: usize) -> Result<()> {
    let pool = lettre::transport::smtp::PoolConfig::new().max_size(connections as u32);
    let transport = Arc::new(
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
            .pool_config(pool)
            .build(),
    );
    let from: Mailbox = "Client Portal <no-reply@portal.localhost>".parse()?;
    let per_task = n.div_ceil(connections);
    let tasks: Vec<_> = (0..connections)
        .map(|t| {
            let (transport, from) = (transport.clone(), from.clone());
            tokio::spawn(async move {
                for i in (t * per_task)..((t + 1) * per_task).min(n) {
                    let token = access::token::LinkToken::generate();
                    let link = format!("http://127.0.0.1/account/setup?token={}", token.expose());
                    let to = Recipient {
                        practice: "Practice",
                        first_name: "Client",
                    };
                    let r = templates::render(to, &EmailContent::Welcome { link: &link })?;
                    let to = format!("c{i}@bench.example");
                    transport.send(message(&from, &to, r)?).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// The message the floors send: `rendered` from `from` to `to` (the worker's has three
/// headers more: its `Message-ID`, `Auto-Submitted` and `Sender`).
pub fn message(from: &Mailbox, to: &str, rendered: templates::Rendered) -> Result<Message> {
    Ok(Message::builder()
        .message_id(None)
        .from(from.clone())
        .to(to.parse()?)
        .subject(rendered.subject)
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))?)
}

/// Enqueue → SMTP accepted for single emails at idle (serve + one worker running).
pub async fn one_email_latency(
    stack: &Stack,
    url: &str,
    token: &str,
    clients: &[uuid::Uuid],
    samples: usize,
) -> Result<Stats> {
    reset(stack).await?;
    let _worker = stack.worker()?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let http = crate::load::http();
    let mut finished = Finished::open(stack, ONE_EMAIL).await?;
    let mut latencies = Vec::with_capacity(samples);
    let query = "mutation($id: ID!) { resendWelcomeEmail(clientId: $id) { resendsRemaining } }";
    for (i, client) in clients.iter().cycle().take(samples).enumerate() {
        let before = finished.count().await?;
        let t = Instant::now();
        let body = json!({ "query": query, "variables": { "id": client } });
        crate::load::graphql(&http, url, Some(token), &body).await;
        anyhow::ensure!(
            finished
                .wait_for(
                    before + 1,
                    Duration::from_secs(10),
                    Duration::from_millis(2)
                )
                .await?,
            "email {i} never arrived"
        );
        latencies.push(t.elapsed());
    }
    Ok(Stats::from_latencies(latencies, 0, 0.0))
}
