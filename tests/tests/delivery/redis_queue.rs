//! The Redis queue's housekeeping: finished jobs vacuumed (a chunk per script call),
//! a backlog larger than apalis can promote at once, pushed or found, and a consumer
//! that stops beating its heart.
use portal_tests::{Backend, Queue, spawn_mail_app};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_jobs_are_vacuumed_from_redis() {
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    for i in 0..3 {
        let address = format!("c{i}@example.com");
        app.invite_client(&provider.token, "Jane", &address).await;
        app.smtp().wait_for(&address, 1).await;
    }
    let jobs::queue::JobQueue::Redis {
        deliver: storage, ..
    } = &app.state.queue
    else {
        panic!("production mode uses Redis");
    };
    let data_key = storage.get_config().job_data_hash();
    let mut conn = redis::Client::open(portal_tests::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    // Jobs are marked done just after the email is handed over; wait for all three.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut removed = 0;
    while removed < 3 && tokio::time::Instant::now() < deadline {
        removed += jobs::queue::vacuum(storage, Duration::ZERO).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(removed, 3);
    let left: i64 = redis::cmd("HLEN")
        .arg(&data_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let done_ids: i64 = redis::cmd("SCARD")
        .arg(storage.get_config().done_jobs_set())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(done_ids, 0);
}

/// apalis-redis 1.0 cannot promote more than ~8,000 due jobs at once (a Lua
/// `unpack` limit), which would stall a backlog for good; the worker promotes them
/// in chunks first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_larger_than_apalis_can_unpack_is_promoted_in_chunks() {
    let prefix = format!("test:{}", uuid::Uuid::new_v4().simple());
    let client = redis::Client::open(portal_tests::redis_url()).unwrap();
    let conn = client.get_connection_manager().await.unwrap();
    let (queue, _) = jobs::queue::redis(conn, &prefix);
    for _ in 0..9000 {
        let job = jobs::queue::DeliverEmail {
            delivery_id: uuid::Uuid::new_v4(),
        };
        queue.push(job).await.unwrap();
    }
    let jobs::queue::JobQueue::Redis { deliver, .. } = &queue else {
        unreachable!()
    };
    let config = deliver.get_config().clone();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let due: usize = redis::cmd("ZCARD")
        .arg(config.scheduled_jobs_set())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(due, 9000);
    let moved = jobs::queue::promote_due(deliver).await.unwrap();
    assert_eq!(moved, 9000);
    let active: usize = redis::cmd("LLEN")
        .arg(config.active_jobs_list())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(active, 9000);
    portal_tests::delete_redis_keys(&prefix);
}

/// A backlog pushed at once (the sweeper after an outage) goes in backlog jobs of
/// `DELIVERIES_PER_JOB` rows, a script call per chunk of jobs, and each chunk is
/// promoted as it lands (apalis never finds more due jobs than it can promote in
/// one `unpack`): every delivery is in exactly one job, ready to fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_pushed_at_once_lands_ready_to_fetch() {
    let prefix = format!("test:{}", uuid::Uuid::new_v4().simple());
    let client = redis::Client::open(portal_tests::redis_url()).unwrap();
    let (queue, _) = jobs::queue::redis(client.get_connection_manager().await.unwrap(), &prefix);
    let ids: Vec<uuid::Uuid> = (0..9_001 * jobs::queue::DELIVERIES_PER_JOB)
        .map(|_| uuid::Uuid::new_v4())
        .collect();
    let expected_jobs = ids.len().div_ceil(jobs::queue::DELIVERIES_PER_JOB);
    assert!(
        expected_jobs > 9000,
        "more jobs than apalis can promote at once"
    );
    assert_eq!(queue.push_deliveries(ids.clone()).await, expected_jobs);
    let jobs::queue::JobQueue::Redis { backlog, .. } = &queue else {
        unreachable!()
    };
    let config = backlog.get_config().clone();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let count = |cmd: &'static str, key: String| {
        let mut conn = conn.clone();
        async move {
            redis::cmd(cmd)
                .arg(key)
                .query_async::<usize>(&mut conn)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("ZCARD", config.scheduled_jobs_set()).await, 0);
    assert_eq!(
        count("LLEN", config.active_jobs_list()).await,
        expected_jobs
    );
    // Each delivery is in exactly one job.
    let data: Vec<String> = redis::cmd("HVALS")
        .arg(config.job_data_hash())
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut pushed: Vec<uuid::Uuid> = data
        .iter()
        .flat_map(|d| {
            let job = serde_json::from_str::<jobs::queue::DeliverEmails>(d).unwrap();
            assert!(job.delivery_ids.len() <= jobs::queue::DELIVERIES_PER_JOB);
            job.delivery_ids
        })
        .collect();
    let mut expected = ids;
    pushed.sort();
    expected.sort();
    assert_eq!(pushed, expected);
    portal_tests::delete_redis_keys(&prefix);
}

/// apalis-redis 1.0 can stop polling with no error. A consumer whose heartbeat in
/// Redis has gone stale is ended (the restart loop then starts a fresh one); one that
/// keeps beating is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_stops_beating_its_heart_is_ended_and_one_that_beats_is_not() {
    let prefix = format!("test:{}", uuid::Uuid::new_v4().simple());
    let client = redis::Client::open(portal_tests::redis_url()).unwrap();
    let (queue, _) = jobs::queue::redis(client.get_connection_manager().await.unwrap(), &prefix);
    let jobs::queue::JobQueue::Redis { deliver, .. } = &queue else {
        unreachable!()
    };
    let workers = deliver.get_config().workers_set();
    let conn = client.get_multiplexed_async_connection().await.unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let (beat_conn, beat_workers) = (conn.clone(), workers.clone());
    let beat = move |worker: &'static str, at: u64| {
        let (mut conn, workers) = (beat_conn.clone(), beat_workers.clone());
        async move {
            redis::cmd("ZADD")
                .arg(&workers)
                .arg(at)
                .arg(worker)
                .query_async::<()>(&mut conn)
                .await
                .unwrap();
        }
    };
    // Registered, last seen a minute ago, and never ending by itself.
    beat("stalled", now() - 60).await;
    let stalled = jobs::queue::watched(deliver, "stalled", std::future::pending());
    let ended = tokio::time::timeout(Duration::from_secs(30), stalled).await;
    assert!(matches!(ended, Ok(Err(_))), "a stalled consumer is ended");
    // One that beats every half second runs on past the watch's first looks.
    let beating = tokio::spawn(async move {
        loop {
            beat("beating", now()).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let alive = jobs::queue::watched(deliver, "beating", std::future::pending());
    let kept = tokio::time::timeout(Duration::from_secs(8), alive).await;
    beating.abort();
    assert!(kept.is_err(), "a consumer that beats is not ended");
    portal_tests::delete_redis_keys(&prefix);
}

/// Each Redis call (a script call is one) the vacuum made on `set`, from the slow log.
fn script_calls_on(entries: &[redis::Value], set: &str) -> usize {
    use redis::Value as V;
    entries
        .iter()
        .filter(|entry| {
            let V::Array(fields) = entry else {
                return false;
            };
            let Some(V::Array(args)) = fields.get(3) else {
                return false;
            };
            let text = |v: &V| match v {
                V::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                _ => String::new(),
            };
            let is_script = args.first().is_some_and(|a| text(a).starts_with("EVAL"));
            is_script && args.iter().any(|a| text(a) == set)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vacuum_walks_a_large_set_a_chunk_per_call_so_redis_never_blocks_on_it() {
    let client = redis::Client::open(portal_tests::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    // The slow log holds every command of the tests running alongside too: reading
    // it may take longer than the default half second.
    conn.set_response_timeout(Duration::from_secs(30));
    let prefix = format!("test:{}", uuid::Uuid::new_v4().simple());
    let (queue, _) = jobs::queue::redis(client.get_connection_manager().await.unwrap(), &prefix);
    let jobs::queue::JobQueue::Redis { deliver, .. } = &queue else {
        panic!("a Redis queue");
    };
    // 5,000 finished ids whose data is already gone.
    let done = deliver.get_config().done_jobs_set();
    let ids: Vec<String> = (0..5000).map(|i| format!("gone-{i}")).collect();
    let _: i64 = redis::cmd("SADD")
        .arg(&done)
        .arg(&ids)
        .query_async(&mut conn)
        .await
        .unwrap();

    // Every command goes to the slow log for the length of the vacuum.
    let config = |name: &'static str| redis::cmd("CONFIG").arg("GET").arg(name).clone();
    let (_, threshold): (String, String) = config("slowlog-log-slower-than")
        .query_async(&mut conn)
        .await
        .unwrap();
    let (_, length): (String, String) = config("slowlog-max-len")
        .query_async(&mut conn)
        .await
        .unwrap();
    let set =
        |name: &str, value: &str| redis::cmd("CONFIG").arg("SET").arg(name).arg(value).clone();
    let _: () = set("slowlog-max-len", "100000")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = set("slowlog-log-slower-than", "0")
        .query_async(&mut conn)
        .await
        .unwrap();
    let vacuumed = jobs::queue::vacuum(deliver, Duration::ZERO).await;
    let _: () = set("slowlog-log-slower-than", &threshold)
        .query_async(&mut conn)
        .await
        .unwrap();
    let log: Vec<redis::Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(100_000)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = set("slowlog-max-len", &length)
        .query_async(&mut conn)
        .await
        .unwrap();
    vacuumed.unwrap();

    let left: i64 = redis::cmd("SCARD")
        .arg(&done)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0, "every id without data is forgotten");
    let calls = script_calls_on(&log, &done);
    assert!(
        calls >= 5,
        "5,000 ids in chunks of at most 1,000: {calls} call(s)"
    );
    portal_tests::delete_redis_keys(&prefix);
}
