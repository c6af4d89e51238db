//! A send slower than the claim's lease: the worker holding the row keeps it, so a
//! short lease (quick take-over from a dead worker) costs no duplicate.
use entity::email_delivery::{self, DeliveryStatus};
use jobs::deliver_email::Outcome;
use portal_tests::{Backend, Queue, spawn_mail_app_with};
use sea_orm::{DatabaseConnection, EntityTrait};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

const LEASE: Duration = Duration::from_millis(600);
const PATIENCE: Duration = Duration::from_secs(20);

/// A mail server slow to answer: a proxy in front of the sink that reports each
/// connection as it arrives and holds it, greeting unsent, until `release` says go.
async fn stalling_proxy(sink_port: u16) -> (u16, mpsc::UnboundedReceiver<()>, watch::Sender<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (arrived_tx, arrived) = mpsc::unbounded_channel();
    let (release, released) = watch::channel(false);
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let _ = arrived_tx.send(());
            let mut released = released.clone();
            tokio::spawn(async move {
                if released.wait_for(|go| *go).await.is_err() {
                    return;
                }
                if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", sink_port)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (port, arrived, release)
}

async fn row(db: &DatabaseConnection, id: Uuid) -> email_delivery::Model {
    email_delivery::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("query")
        .expect("the row exists")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_slower_than_the_lease_keeps_its_claim_and_goes_out_once() {
    let api = spawn_mail_app_with(Backend::Postgres, Queue::Redis, &[], false).await;
    let db = &api.state.db;
    let provider = api.signed_in_provider("Practice").await;
    api.invite_client(&provider.token, "Jane", "slow@example.com")
        .await;
    let queued = email_delivery::Entity::find()
        .one(db)
        .await
        .expect("query")
        .expect("the invite is queued");

    let (proxy, mut arrived, release) = stalling_proxy(api.smtp().port).await;
    let smtp = format!("smtp://127.0.0.1:{proxy}");
    let deliverer = crate::support::deliverer(&api, &smtp, LEASE);
    let first = tokio::spawn({
        let deliverer = deliverer.clone();
        async move { deliverer.deliver(queued.id).await }
    });

    // The first worker has claimed the row and is stuck talking to the mail server.
    tokio::time::timeout(PATIENCE, arrived.recv())
        .await
        .expect("the first worker reached the mail server");
    let claimed = row(db, queued.id).await;
    assert_eq!(claimed.status, DeliveryStatus::Sending);
    let first_lease_ends = claimed.claimed_until.expect("a claimed row has a lease");

    // Wait until that first lease has run out while the row is still claimed:
    // only renewals can explain it.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let now = api.state.clock.now();
        let current = row(db, queued.id).await;
        let renewed = current.claimed_until.is_some_and(|until| until > now);
        if now > first_lease_ends && renewed && current.status == DeliveryStatus::Sending {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lease was not renewed past its first end: {current:?}"
        );
        tokio::time::sleep(LEASE / 10).await;
    }

    // The send is still held by the proxy: the row is not up for grabs.
    let swept = jobs::sweeper::due_deliveries(db, &api.state.clock, Duration::ZERO)
        .await
        .expect("sweep");
    assert!(!swept.contains(&queued.id), "the sweeper took a live claim");
    let second = deliverer.deliver(queued.id).await.expect("second worker");
    assert_eq!(second, Outcome::Skipped, "another worker took a live claim");
    assert!(
        arrived.try_recv().is_err(),
        "a second send reached the server"
    );

    release.send(true).expect("the proxy is running");
    let outcome = tokio::time::timeout(PATIENCE, first)
        .await
        .expect("the first send finished once released");
    assert_eq!(outcome.expect("task").expect("delivered"), Outcome::Sent);
    assert_eq!(api.smtp().messages_to("slow@example.com").len(), 1);
}
