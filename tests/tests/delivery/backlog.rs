//! A backlog on Redis (`DeliverEmails`, `DELIVERIES_PER_JOB` rows a job): a worker
//! takes no more of it than it is about to send, and leaves the rest to the others.
use jobs::periodic::FailureLog;
use jobs::queue::{CheckIntakeForms, DELIVERIES_PER_JOB, DeliverEmail, DeliverEmails, Handlers};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// Handlers that hold every backlog job until released, counting them.
struct Holding {
    started: AtomicUsize,
    released: watch::Receiver<bool>,
}

impl Handlers for Holding {
    async fn deliver(&self, _: DeliverEmail) {}

    async fn deliver_backlog(&self, _: DeliverEmails) {
        self.started.fetch_add(1, Ordering::SeqCst);
        let _ = self.released.clone().wait_for(|r| *r).await;
    }

    async fn check_intake(&self, _: CheckIntakeForms) {}
}

/// Waits until `holding` has started `n` backlog jobs.
async fn started(holding: &Holding, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while holding.started.load(Ordering::SeqCst) < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} backlog jobs started",
            holding.started.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_takes_a_backlog_a_job_at_a_time_and_leaves_the_rest_to_the_others() {
    let prefix = format!("test:{}", uuid::Uuid::new_v4().simple());
    let client = redis::Client::open(portal_tests::redis_url()).unwrap();
    let manager = client.get_connection_manager().await.unwrap();
    let (queue, first_backend) = jobs::queue::redis(manager.clone(), &prefix);
    let (_, second_backend) = jobs::queue::redis(manager, &prefix);
    let jobs::queue::JobQueue::Redis { backlog, .. } = &queue else {
        unreachable!()
    };
    let active = backlog.get_config().active_jobs_list();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let waiting = |conn: &mut redis::aio::MultiplexedConnection| {
        let (mut conn, active) = (conn.clone(), active.clone());
        async move {
            redis::cmd("LLEN")
                .arg(active)
                .query_async::<usize>(&mut conn)
                .await
                .unwrap()
        }
    };
    let ids: Vec<uuid::Uuid> = (0..40 * DELIVERIES_PER_JOB)
        .map(|_| uuid::Uuid::new_v4())
        .collect();
    assert_eq!(queue.push_deliveries(ids).await, 40);
    assert_eq!(waiting(&mut conn).await, 40);

    // Two jobs' worth of emails in hand: two backlog jobs at once.
    let (release, released) = watch::channel(false);
    let (stop_tx, stop) = watch::channel(false);
    let worker = |backend| {
        let holding = Arc::new(Holding {
            started: AtomicUsize::new(0),
            released: released.clone(),
        });
        let log = Arc::new(FailureLog::new("promoting due jobs"));
        let run = jobs::queue::consume(
            backend,
            2 * DELIVERIES_PER_JOB,
            holding.clone(),
            stop.clone(),
            log,
        );
        (holding, tokio::spawn(run))
    };
    let (first, first_run) = worker(first_backend);
    started(&first, 2).await;
    // Many polls later it holds what it runs, and at most one job fetched ahead.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(first.started.load(Ordering::SeqCst), 2);
    let taken = 40 - waiting(&mut conn).await;
    assert!(
        (2..=3).contains(&taken),
        "the first worker took {taken} jobs"
    );

    // The rest is there for a second worker.
    let (second, second_run) = worker(second_backend);
    started(&second, 2).await;
    assert!(40 - waiting(&mut conn).await <= 6);

    // Released, both drain the whole backlog between them.
    release.send(true).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while waiting(&mut conn).await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the backlog drains");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_tx.send(true).unwrap();
    for run in [first_run, second_run] {
        tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .expect("the workers stop")
            .unwrap();
    }
    let both = first.started.load(Ordering::SeqCst) + second.started.load(Ordering::SeqCst);
    assert!(both >= 40, "every job ran ({both})");
    portal_tests::delete_redis_keys(&prefix);
}
