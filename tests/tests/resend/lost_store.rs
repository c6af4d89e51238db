//! R5 when Redis loses the cap's windows: they are rebuilt from the record in
//! PostgreSQL before deciding, and the whole store is rebuilt behind it.
use crate::counted;
use entity::email_delivery;
use portal_tests::{Backend, Queue, TestApp, TestProvider, error_code, spawn_mail_app};

/// A practice (PostgreSQL and Redis) whose client Jane has had her five resends.
async fn jane_after_five_resends() -> (TestApp, TestProvider, String) {
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let jane = app
        .client_after_resends(&provider.token, "Jane", "jane@example.com", 5)
        .await;
    (app, provider, jane)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_redis_lost_is_rebuilt_from_the_record_before_deciding() {
    let (app, provider, client_id) = jane_after_five_resends().await;

    // Redis restarts empty: the client's window is gone, with the marker that said
    // Redis held every window.
    let mut redis = resend_keys(&app).await;
    let removed = redis.delete_all().await;
    assert!(
        removed.contains(&format!("{}:{client_id}", redis.prefix)),
        "{removed:?}"
    );

    let view = app.client_view(&provider.token, &client_id).await;
    assert_eq!(view["resendQuota"]["remaining"], 0, "{view}");
    let refused = app.resend(&provider.token, &client_id).await;
    assert_eq!(error_code(&refused), Some("RATE_LIMITED"), "{refused}");
    assert_eq!(
        counted(&app, &client_id, email_delivery::Cap::Provider).await,
        5
    );
}

/// The resend cap's keys of one app in Redis.
struct ResendKeys {
    conn: redis::aio::MultiplexedConnection,
    /// `{REDIS_KEY_PREFIX}:resend`.
    prefix: String,
}

async fn resend_keys(app: &TestApp) -> ResendKeys {
    let redis = redis::Client::open(portal_tests::redis_url()).unwrap();
    ResendKeys {
        conn: redis.get_multiplexed_async_connection().await.unwrap(),
        prefix: format!("{}:resend", app.state.settings.email.redis_key_prefix),
    }
}

impl ResendKeys {
    /// As a Redis restarting empty would: deletes every key, returns their names.
    async fn delete_all(&mut self) -> Vec<String> {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut self.conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            let () = redis::cmd("DEL")
                .arg(&keys)
                .query_async(&mut self.conn)
                .await
                .unwrap();
        }
        keys
    }

    /// Waits (up to 10 s) for the marker that Redis holds every window of the day,
    /// and checks it lapses within that day, as the windows themselves do.
    async fn wait_for_marker(&mut self) {
        let marker = format!("{}:complete:86400000", self.prefix);
        for _ in 0..200 {
            let ttl_ms: i64 = redis::cmd("PTTL")
                .arg(&marker)
                .query_async(&mut self.conn)
                .await
                .unwrap();
            // -2: no such key yet; -1 would be a marker kept forever.
            if ttl_ms != -2 {
                assert!(
                    (1..=86_400_000).contains(&ttl_ms),
                    "the marker should lapse within the window, its PTTL is {ttl_ms}"
                );
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no {marker} after 10 s");
    }

    async fn members(&mut self, client_id: &str) -> u64 {
        redis::cmd("ZCARD")
            .arg(format!("{}:{client_id}", self.prefix))
            .query_async(&mut self.conn)
            .await
            .unwrap()
    }
}

/// Most resends are a client's first in a day: once Redis holds every window, a
/// missing one is read as empty without asking PostgreSQL. When Redis loses them,
/// the first resend rebuilds all of them from the record, and a client refused
/// before is refused again without having been asked about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_store_of_windows_is_rebuilt_whole_from_the_record() {
    let (app, provider, jane) = jane_after_five_resends().await;
    let john = app
        .invite_client(&provider.token, "John", "john@example.com")
        .await;
    let mut redis = resend_keys(&app).await;
    redis.wait_for_marker().await;

    redis.delete_all().await;
    let body = app.resend(&provider.token, &john).await;
    assert!(body["errors"].is_null(), "{body}");
    redis.wait_for_marker().await;
    assert_eq!(
        redis.members(&jane).await,
        5,
        "Jane's window, from the record"
    );
    assert_eq!(redis.members(&john).await, 1);

    let refused = app.resend(&provider.token, &jane).await;
    assert_eq!(error_code(&refused), Some("RATE_LIMITED"), "{refused}");
    let view = app.client_view(&provider.token, &john).await;
    assert_eq!(view["resendQuota"]["remaining"], 4, "{view}");
}
