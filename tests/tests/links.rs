//! Account links end to end: the link is taken from the email the SMTP server
//! received and used as a client would.
use chrono::Duration;
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{Backend, PASSWORD, Queue, error_code, in_both_modes, spawn_mail_app};
use serde_json::json;

in_both_modes!(
    an_invited_client_activates_from_the_email_and_signs_in,
    an_older_link_is_superseded_by_a_resend,
    a_reset_link_expires_after_a_day_but_an_invite_lasts,
    two_concurrent_uses_of_one_link_let_exactly_one_through,
);

async fn an_invited_client_activates_from_the_email_and_signs_in(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Harbor & Pine Therapy").await;
    let client_id = app
        .invite_client(&provider.token, "Jane", "jane@example.com")
        .await;

    let mail = app.smtp().wait_for("jane@example.com", 1).await;
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].subject().contains("Harbor & Pine Therapy"),
        "{}",
        mail[0].subject()
    );
    assert!(mail[0].text().contains("Hello Jane"));
    assert!(mail[0].html().contains("Set up my account"));
    let token = mail[0].token().expect("the email carries a link");

    // Opening the link (a mail scanner, the page itself) never uses it up.
    for _ in 0..3 {
        let status = app.link_status(&token).await;
        assert_eq!(status["state"], "VALID");
        assert_eq!(status["kind"], "INVITE");
        assert_eq!(status["firstName"], "Jane");
        assert_eq!(status["practiceName"], "Harbor & Pine Therapy");
        assert_eq!(status["expiresAt"], serde_json::Value::Null);
    }
    let view = app
        .wait_deliveries_settled(&provider.token, &client_id)
        .await;
    assert_eq!(view["status"], "INVITED");
    assert_eq!(view["activeLink"]["kind"], "INVITE");
    let delivery = &view["emailDeliveries"][0];
    assert_eq!(delivery["kind"], "WELCOME");
    assert_eq!(delivery["status"], "SENT");
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["toAddress"], "jane@example.com");

    let weak = app.complete_link(&token, "password1").await;
    assert_eq!(error_code(&weak), Some("WEAK_PASSWORD"));
    assert_eq!(app.link_status(&token).await["state"], "VALID");

    let done = app.complete_link(&token, CLIENT_PASSWORD).await;
    let session = done["data"]["completeAccountLink"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("link completed: {done}"));
    let me = app
        .graphql(
            "{ me { ... on ClientAccount { firstName practiceName } } }",
            json!({}),
            Some(session),
        )
        .await;
    assert_eq!(me["data"]["me"]["firstName"], "Jane");

    // A used link tells nothing about whose it was (issue 11.10).
    let used = app.link_status(&token).await;
    assert_eq!(used["state"], "USED");
    for field in ["kind", "firstName", "practiceName", "expiresAt"] {
        assert_eq!(used[field], serde_json::Value::Null, "{field}: {used}");
    }
    let page = reqwest::get(format!("{}/account/setup?token={token}", app.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Jane") && !page.contains("Harbor"), "{page}");
    let again = app.complete_link(&token, CLIENT_PASSWORD).await;
    assert_eq!(error_code(&again), Some("LINK_USED"));

    let signed = app
        .client_sign_in("JANE@example.com", CLIENT_PASSWORD)
        .await;
    assert!(
        signed["data"]["clientSignIn"]["token"].is_string(),
        "{signed}"
    );
    let wrong = app
        .client_sign_in("jane@example.com", "not the password at all")
        .await;
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"));

    let view = app.client_view(&provider.token, &client_id).await;
    assert_eq!(view["status"], "ACTIVE");
    assert_eq!(view["activeLink"], serde_json::Value::Null);
    let actions = app.audit_actions(&client_id).await;
    for action in [
        "client.created",
        "email.invite_sent",
        "link.used",
        "client.signed_in",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

async fn an_older_link_is_superseded_by_a_resend(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let (client_id, first) = app
        .invited(&provider.token, "Jane", "jane@example.com")
        .await;

    let resent = app.resend(&provider.token, &client_id).await;
    assert_eq!(
        resent["data"]["resendWelcomeEmail"]["resendsRemaining"], 4,
        "{resent}"
    );
    assert_eq!(
        resent["data"]["resendWelcomeEmail"]["delivery"]["kind"],
        "WELCOME"
    );
    // From the moment the resend answers, the old link no longer works.
    assert_eq!(app.link_status(&first).await["state"], "SUPERSEDED");

    let mail = app.smtp().wait_for("jane@example.com", 2).await;
    let second = mail[1].token().unwrap();
    assert_ne!(first, second);
    let old = app.complete_link(&first, CLIENT_PASSWORD).await;
    assert_eq!(error_code(&old), Some("LINK_SUPERSEDED"));
    assert_eq!(app.link_status(&second).await["state"], "VALID");
    let new = app.complete_link(&second, CLIENT_PASSWORD).await;
    assert!(
        new["data"]["completeAccountLink"]["token"].is_string(),
        "{new}"
    );

    let nonsense = app.link_status("lnk_not-a-real-token").await;
    assert_eq!(nonsense["state"], "INVALID");
    assert_eq!(nonsense["firstName"], serde_json::Value::Null);
    let invalid = app.complete_link("garbage", CLIENT_PASSWORD).await;
    assert_eq!(error_code(&invalid), Some("LINK_INVALID"));
}

async fn a_reset_link_expires_after_a_day_but_an_invite_lasts(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let (client_id, invite) = app
        .invited(&provider.token, "Jane", "jane@example.com")
        .await;

    // An invite link 30 days old still works.
    app.clock.advance(Duration::days(30));
    assert_eq!(app.link_status(&invite).await["state"], "VALID");
    let done = app.complete_link(&invite, CLIENT_PASSWORD).await;
    assert!(
        done["data"]["completeAccountLink"]["token"].is_string(),
        "{done}"
    );

    // The provider's own session did not survive the month; sign in again.
    let body = app.sign_in(&provider.email, PASSWORD).await;
    let provider_token = body["data"]["signIn"]["token"].as_str().unwrap().to_owned();
    // For an active client the resend carries a password-reset link that expires.
    let resent = app.resend(&provider_token, &client_id).await;
    assert_eq!(
        resent["data"]["resendWelcomeEmail"]["delivery"]["kind"], "PASSWORD_RESET",
        "{resent}"
    );
    let mail = app.smtp().wait_for("jane@example.com", 2).await;
    assert!(mail[1].text().contains("24 hours"), "{}", mail[1].text());
    let reset = mail[1].token().unwrap();
    let status = app.link_status(&reset).await;
    assert_eq!(status["state"], "VALID");
    assert_eq!(status["kind"], "PASSWORD_RESET");
    assert!(status["expiresAt"].is_string());

    app.clock
        .advance(Duration::hours(24) + Duration::seconds(1));
    assert_eq!(app.link_status(&reset).await["state"], "EXPIRED");
    let late = app
        .complete_link(&reset, "another long passphrase 77")
        .await;
    assert_eq!(error_code(&late), Some("LINK_EXPIRED"));
    let signed = app
        .client_sign_in("jane@example.com", CLIENT_PASSWORD)
        .await;
    assert!(
        signed["data"]["clientSignIn"]["token"].is_string(),
        "old password still works"
    );
}

async fn two_concurrent_uses_of_one_link_let_exactly_one_through(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    app.invite_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let token = app.smtp().wait_for("jane@example.com", 1).await[0]
        .token()
        .unwrap();

    let (a, b) = tokio::join!(
        app.complete_link(&token, CLIENT_PASSWORD),
        app.complete_link(&token, "a different strong passphrase 9")
    );
    let wins = [&a, &b]
        .iter()
        .filter(|r| r["data"]["completeAccountLink"]["token"].is_string())
        .count();
    assert_eq!(wins, 1, "{a}\n{b}");
    let loser = if error_code(&a).is_some() { &a } else { &b };
    assert_eq!(error_code(loser), Some("LINK_USED"), "{loser}");
}

/// The worker's look before minting, on PostgreSQL (a share lock, not a write): a
/// change to the client waits for a mint in progress to commit (and then ends the
/// links it minted), and a mint after a change is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_change_waits_for_a_mint_in_progress_and_a_later_mint_is_refused() {
    use access::invalidation::{Cause, invalidate, mint_allowed};
    use access::outbox::{self, Outgoing};
    use migration::MigratorTrait;
    use sea_orm::TransactionTrait;

    let database = portal_tests::database::TestDatabase::create(Backend::Postgres).await;
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    migration::Migrator::up(&db, None).await.unwrap();
    let now = chrono::Utc::now();
    let jane = access::testing::client(&db).await;
    let email = Outgoing::link_for(&jane, "jane@example.com");
    let delivery = outbox::enqueue(&db, jane.id, email, 0, now).await.unwrap();

    let minting = db.begin().await.unwrap();
    let allowed = mint_allowed(&minting, &[&delivery]).await.unwrap();
    assert!(allowed.contains(&delivery.id));
    let change = tokio::spawn({
        let db = db.clone();
        async move {
            let txn = db.begin().await.unwrap();
            invalidate(&txn, jane.id, Cause::NewLink, now)
                .await
                .unwrap();
            txn.commit().await.unwrap();
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!change.is_finished(), "the change waits for the mint");
    minting.commit().await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), change)
        .await
        .expect("the change goes on once the mint is done")
        .unwrap();

    let allowed = mint_allowed(&db, &[&delivery]).await.unwrap();
    assert!(allowed.is_empty(), "a mint after the change is refused");
}
