//! The window alone, and its rebuilding from the record.
use super::*;

fn window() -> Window {
    Window {
        limit: 5,
        length: Duration::from_secs(86_400),
    }
}

fn limiter() -> InProcessLimiter {
    InProcessLimiter::new(window(), Arc::new(NoHistory))
}

/// A record holding fixed send times.
struct Recorded(Vec<DateTime<Utc>>);

impl SendHistory for Recorded {
    fn counted_since(
        &self,
        _: Uuid,
        since: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Vec<DateTime<Utc>>, AppError>> {
        let sends = self.0.iter().copied().filter(|at| *at > since).collect();
        Box::pin(async move { Ok(sends) })
    }

    fn all_counted_since(&self, since: DateTime<Utc>) -> Sends<'_> {
        let client = Uuid::nil();
        let sends: Vec<_> = self
            .0
            .iter()
            .filter(|at| **at > since)
            .map(|at| Ok((client, *at)))
            .collect();
        stream::iter(sends).boxed()
    }
}

#[tokio::test]
async fn a_window_lost_from_memory_is_rebuilt_from_the_record() {
    let now = Utc::now();
    let earlier: Vec<_> = (1..=5).map(|h| now - chrono::Duration::hours(h)).collect();
    let mut record = earlier.clone();
    record.push(now - chrono::Duration::days(2));
    let l = InProcessLimiter::new(window(), Arc::new(Recorded(record)));
    let client = Uuid::new_v4();

    assert_eq!(l.quota(client, now).await.unwrap().remaining, 0);
    let Acquired::Refused { quota } = l.acquire(client, now).await.unwrap() else {
        panic!("five sends in the record: the sixth is refused");
    };
    assert_eq!(
        quota.next_available_at,
        earlier[4] + chrono::Duration::days(1)
    );
}

#[tokio::test]
async fn the_sixth_in_a_window_is_refused_until_the_oldest_leaves() {
    let l = limiter();
    let client = Uuid::new_v4();
    let start = Utc::now();
    for i in 0..5 {
        let at = start + chrono::Duration::hours(i);
        assert!(matches!(
            l.acquire(client, at).await.unwrap(),
            Acquired::Granted { .. }
        ));
    }
    let later = start + chrono::Duration::hours(6);
    let Acquired::Refused { quota } = l.acquire(client, later).await.unwrap() else {
        panic!("sixth must be refused");
    };
    assert_eq!(quota.next_available_at, start + chrono::Duration::days(1));
    let next_day = start + chrono::Duration::days(1);
    assert!(matches!(
        l.acquire(client, next_day).await.unwrap(),
        Acquired::Granted { .. }
    ));
}

#[tokio::test]
async fn a_released_slot_can_be_taken_again() {
    let l = limiter();
    let client = Uuid::new_v4();
    let now = Utc::now();
    let mut last = None;
    for _ in 0..5 {
        if let Acquired::Granted { slot, .. } = l.acquire(client, now).await.unwrap() {
            last = Some(slot);
        }
    }
    l.release(last.unwrap()).await.unwrap();
    assert_eq!(l.quota(client, now).await.unwrap().remaining, 1);
}
