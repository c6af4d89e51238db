//! A send slower than the claim's lease: the worker holding the row keeps it, so a
//! short lease (quick take-over from a dead worker) costs no duplicate.
use entity::email_delivery;
use jobs::deliver_email::{Deliverer, DeliveryConfig, Outcome};
use jobs::mailer::Mailer;
use portal_tests::{Backend, Queue, spawn_mail_app_with};
use sea_orm::EntityTrait;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

const LEASE: Duration = Duration::from_millis(600);
const STALL: Duration = Duration::from_secs(2);

/// A proxy in front of the sink that holds each connection `STALL` before the
/// server's greeting gets through: a mail server slow to answer.
async fn slow_proxy(sink_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                tokio::time::sleep(STALL).await;
                if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", sink_port)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_slower_than_the_lease_keeps_its_claim_and_goes_out_once() {
    let api = spawn_mail_app_with(Backend::Postgres, Queue::Redis, &[], false).await;
    let provider = api.signed_in_provider("Practice").await;
    api.invite_client(&provider.token, "Jane", "slow@example.com")
        .await;
    let row = email_delivery::Entity::find()
        .one(&api.state.db)
        .await
        .expect("query")
        .expect("the invite is queued");

    let proxy = slow_proxy(api.smtp().port).await;
    let deliverer = Arc::new(Deliverer {
        db: api.state.db.clone(),
        mailer: Mailer::from_url(&format!("smtp://127.0.0.1:{proxy}")).expect("mailer"),
        clock: api.state.clock.clone(),
        config: DeliveryConfig {
            public_url: api.state.settings.public_url.clone(),
            mail_from: api.state.settings.email.mail_from.clone(),
            reset_link_ttl: Duration::from_secs(3600),
            max_attempts: 3,
            retry_base: Duration::from_millis(200),
            lease: LEASE,
        },
    });
    let first = tokio::spawn({
        let deliverer = deliverer.clone();
        async move { deliverer.deliver(row.id).await }
    });

    // Well past the lease the send is still stalled; the row is not up for grabs.
    tokio::time::sleep(LEASE * 2).await;
    let swept = jobs::sweeper::due_deliveries(&api.state.db, &api.state.clock, Duration::ZERO)
        .await
        .expect("sweep");
    assert!(!swept.contains(&row.id), "the sweeper took a live claim");
    let second = deliverer.deliver(row.id).await.expect("second worker");
    assert_eq!(second, Outcome::Skipped, "another worker took a live claim");

    assert_eq!(
        first.await.expect("task").expect("delivered"),
        Outcome::Sent
    );
    assert_eq!(api.smtp().messages_to("slow@example.com").len(), 1);
}
