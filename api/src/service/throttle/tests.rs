//! The limits' behaviour over time, with an in-process store and a moved clock.
use super::store::InProcessCounters;
use super::*;
use access::clock::OffsetClock;
use chrono::{DateTime, Utc};

fn throttle() -> (Throttle, Arc<OffsetClock>) {
    let clock = Arc::new(OffsetClock::default());
    let store = Arc::new(InProcessCounters::default());
    (Throttle::new(store, clock.clone(), "t", 1), clock)
}

async fn fail(t: &Throttle, ip: &str, account: &str) -> Result<(), AppError> {
    let permit = t.check(Action::SignIn, Some(ip), account).await?;
    t.failed(&permit).await
}

#[tokio::test]
async fn a_stranger_slows_only_their_own_guesses_and_not_for_long() {
    let (t, clock) = throttle();
    for _ in 0..5 {
        fail(&t, "10.0.0.9", "ann@example.com").await.unwrap();
    }
    let refused = fail(&t, "10.0.0.9", "ann@example.com").await.unwrap_err();
    let message = refused.to_string();
    assert!(
        message.starts_with("Too many sign-in attempts"),
        "{message}"
    );
    let AppError::RateLimited {
        retry_after_seconds,
        ..
    } = refused
    else {
        panic!("expected RATE_LIMITED, got {refused:?}");
    };
    assert!((1..=300).contains(&retry_after_seconds));
    // The owner, from elsewhere, is not locked out.
    t.check(Action::SignIn, Some("10.0.0.1"), "Ann@Example.com")
        .await
        .unwrap();
    clock.advance(chrono::Duration::seconds(retry_after_seconds));
    fail(&t, "10.0.0.9", "ann@example.com").await.unwrap();
}

/// A store that is always down, as Redis during an outage.
struct Down;

impl CounterStore for Down {
    fn reserve(
        &self,
        _: Vec<Reserve>,
        _: String,
        _: DateTime<Utc>,
    ) -> futures::future::BoxFuture<'_, Result<Vec<Full>, AppError>> {
        Box::pin(async { Err(AppError::ServiceUnavailable("test store")) })
    }
    fn release(
        &self,
        _: Vec<String>,
        _: String,
    ) -> futures::future::BoxFuture<'_, Result<(), AppError>> {
        Box::pin(async { Err(AppError::ServiceUnavailable("test store")) })
    }
    fn clear(&self, _: String) -> futures::future::BoxFuture<'_, Result<(), AppError>> {
        Box::pin(async { Err(AppError::ServiceUnavailable("test store")) })
    }
}

#[tokio::test]
async fn without_its_store_the_limits_hold_in_memory() {
    let clock = Arc::new(OffsetClock::default());
    let t = Throttle::new(Arc::new(Down), clock, "t", 1);
    for _ in 0..5 {
        fail(&t, "10.0.0.3", "dee@example.com").await.unwrap();
    }
    assert!(matches!(
        fail(&t, "10.0.0.3", "dee@example.com").await,
        Err(AppError::RateLimited { .. })
    ));
}

#[tokio::test]
async fn many_strangers_lock_an_account_for_at_most_its_window() {
    let (t, clock) = throttle();
    for i in 0..20 {
        fail(&t, &format!("10.0.1.{i}"), "bob@example.com")
            .await
            .unwrap();
    }
    let refused = t
        .check(Action::SignIn, Some("10.0.0.1"), "bob@example.com")
        .await;
    let Err(AppError::RateLimited {
        retry_after_seconds,
        ..
    }) = refused
    else {
        panic!("expected RATE_LIMITED");
    };
    assert!(retry_after_seconds <= 15 * 60);
    clock.advance(chrono::Duration::seconds(retry_after_seconds));
    t.check(Action::SignIn, Some("10.0.0.1"), "bob@example.com")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_success_forgives_the_pair_and_ips_are_capped() {
    let (t, _) = throttle();
    for _ in 0..4 {
        fail(&t, "10.0.0.2", "cy@example.com").await.unwrap();
    }
    let permit = t
        .check(Action::SignIn, Some("10.0.0.2"), "cy@example.com")
        .await
        .unwrap();
    t.succeeded(&permit).await.unwrap();
    for _ in 0..4 {
        fail(&t, "10.0.0.2", "cy@example.com").await.unwrap();
    }
    // 9 checks so far from this IP; the per-IP cap is 60 per 5 minutes.
    for i in 0..51 {
        t.check(
            Action::SignIn,
            Some("10.0.0.2"),
            &format!("x{i}@example.com"),
        )
        .await
        .unwrap();
    }
    assert!(
        t.check(Action::SignIn, Some("10.0.0.2"), "z@example.com")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_burst_of_guesses_evaluates_at_most_the_limit_and_leaves_the_owner_in() {
    let (t, _) = throttle();
    // Thirty wrong passwords at once from one address: each is checked before any
    // has failed, as concurrent requests are.
    let mut permits = Vec::new();
    let mut refused = 0;
    for _ in 0..30 {
        match t
            .check(Action::SignIn, Some("10.0.0.66"), "eve@example.com")
            .await
        {
            Ok(permit) => permits.push(permit),
            Err(AppError::RateLimited { .. }) => refused += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(permits.len(), 5, "only five guesses are evaluated");
    assert_eq!(refused, 25);
    for permit in &permits {
        t.failed(permit).await.unwrap();
    }
    // The owner, from their own address, still signs in.
    let owner = t
        .check(Action::SignIn, Some("10.0.0.1"), "eve@example.com")
        .await
        .unwrap();
    t.succeeded(&owner).await.unwrap();
}

#[tokio::test]
async fn an_attempt_that_did_not_fail_gives_its_reservation_back() {
    let (t, _) = throttle();
    for _ in 0..10 {
        let permit = t
            .check(Action::SignIn, Some("10.0.0.7"), "fay@example.com")
            .await
            .unwrap();
        t.not_failed(&permit).await.unwrap();
    }
}

fn wait_of(refused: AppError) -> i64 {
    match refused {
        AppError::RateLimited {
            retry_after_seconds,
            ..
        } => retry_after_seconds,
        other => panic!("expected RATE_LIMITED, got {other:?}"),
    }
}

#[tokio::test]
async fn no_moment_lets_more_than_the_limit_through() {
    let (t, clock) = throttle();
    // Five guesses a minute apart, wherever the clock's 5-minute marks fall.
    for _ in 0..5 {
        fail(&t, "10.0.0.8", "gus@example.com").await.unwrap();
        clock.advance(chrono::Duration::seconds(60));
    }
    // Five minutes after the first: it stops counting, the other four still do.
    fail(&t, "10.0.0.8", "gus@example.com").await.unwrap();
    let refused = fail(&t, "10.0.0.8", "gus@example.com").await.unwrap_err();
    assert_eq!(wait_of(refused), 60, "the second guess stops counting next");
    // Every second up to then is refused, and each says how long is left.
    for waited in 1..60 {
        clock.advance(chrono::Duration::seconds(1));
        let refused = fail(&t, "10.0.0.8", "gus@example.com").await.unwrap_err();
        assert_eq!(wait_of(refused), 60 - waited);
    }
    clock.advance(chrono::Duration::seconds(1));
    fail(&t, "10.0.0.8", "gus@example.com").await.unwrap();
}
