//! R5 on a Redis that may evict keys (`maxmemory-policy` other than `noeviction`):
//! the resend cap never marks the store as whole there, so a window that went
//! missing is read back from PostgreSQL instead of counting the client from zero.
use super::support::RedisServer;
use portal_tests::{Backend, Queue, error_code, spawn_mail_app};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_that_may_evict_a_lost_window_is_read_back_from_the_record() {
    let redis = RedisServer::start().await;
    let url = redis.url();
    let mut conn = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .query_async(&mut conn)
        .await
        .unwrap();
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[("REDIS_URL", &url)]).await;
    let prefix = format!("{}:resend", app.state.settings.email.redis_key_prefix);
    let provider = app.signed_in_provider("Practice").await;
    let jane = app
        .client_after_resends(&provider.token, "Jane", "jane@example.com", 5)
        .await;

    // On a Redis that never evicts, the first resend's rebuild sets the marker
    // within milliseconds (`a_lost_store_of_windows_is_rebuilt_whole_from_the_record`);
    // here it never may.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let markers: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:complete:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(markers.is_empty(), "{markers:?}");

    // Redis evicts Jane's window (and only it): her sixth is still refused.
    let evicted: u64 = redis::cmd("DEL")
        .arg(format!("{prefix}:{jane}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(evicted, 1);
    let refused = app.resend(&provider.token, &jane).await;
    assert_eq!(error_code(&refused), Some("RATE_LIMITED"), "{refused}");
}
