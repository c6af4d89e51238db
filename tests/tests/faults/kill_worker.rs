//! `kill -9` of a `portal worker` process with 200 deliveries queued.
use super::support::{WORKER_CONCURRENCY, dead_links, start_worker, tally};
use super::{addresses, invite_all, wait_settled};
use portal_tests::{Backend, Queue, spawn_mail_app_with};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_run_loses_nothing_and_duplicates_at_most_what_it_held() {
    // An API without a worker queues 200 invites in PostgreSQL and Redis.
    let api = spawn_mail_app_with(Backend::Postgres, Queue::Redis, &[], false).await;
    let sink = api.smtp().clone();
    let provider = api.signed_in_provider("Practice").await;
    let to = addresses("killed", 200);
    invite_all(&api, &provider.token, &to).await;
    assert_eq!(sink.count(), 0, "nothing is sent without a worker");

    // A worker process starts sending and is killed part-way.
    let mut first = start_worker(&api, &sink.url());
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.count() < 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill9();
    let at_kill = sink.count();
    assert!(
        (1..200).contains(&at_kill),
        "killed with {at_kill} of 200 sent: {}",
        first.log()
    );

    // A second worker takes over.
    let killed_at = Instant::now();
    let second = start_worker(&api, &sink.url());
    let counts = wait_settled(&api.state.db, Duration::from_secs(90)).await;
    let recovery = killed_at.elapsed();
    assert_eq!(
        counts.get("sent"),
        Some(&200),
        "every row sent: {counts:?}\n{}",
        second.log()
    );
    let result = tally(&sink, &to);
    let dead = dead_links(&api.state.db, &sink).await;
    println!(
        "kill -9: lost {}, duplicated {}, dead links {dead} (killed after {at_kill} of 200 sent; all sent {:.1}s after the kill)",
        result.lost,
        result.duplicated,
        recovery.as_secs_f64()
    );
    assert_eq!(
        dead, 0,
        "a retry never kills a link an earlier attempt sent"
    );
    assert_eq!(result.lost, 0, "every recipient got the email");
    assert!(
        result.duplicated <= WORKER_CONCURRENCY,
        "at most what the killed worker held is sent twice: {result:?}"
    );
}
