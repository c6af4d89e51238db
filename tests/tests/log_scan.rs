//! Secrets and health information never reach a log. Every test's app is scanned
//! when it stops (see `portal_tests::logscan`); this one first proves the scan
//! catches a leak, then runs the whole story at debug level in both modes with
//! hostile-looking inputs (wrong passwords, a message and form answers a clinician
//! would write) and reports what was scanned.
//! It is the only test in its binary, so no other test's check runs in between.
use portal_tests::logscan::{self, assert_no_leaks, leaks};
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{Backend, Queue, TestApp, spawn_mail_app};
use serde_json::json;

const MESSAGE: &str = "Biopsy result for Jane: benign, no follow-up needed (marker 7Q2X)";
const ANSWER: &str = "Taking sertraline 50mg daily since March (marker 9K4W)";
const WRONG_PASSWORD: &str = "someone-else's guess 4411";
const NEW_PASSWORD: &str = "meadow copper lantern fjord 77";
const PROVIDER_SET: &str = "harbor quilt saffron piano 19";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_token_message_or_answer_is_ever_logged() {
    // The scan works: a canary logged by the service's crate is caught.
    logscan::install();
    let canary = format!("canary-{}", uuid::Uuid::new_v4().simple());
    logscan::secret(&canary);
    tracing::warn!(target: "portal_api", value = %canary, "a deliberate leak");
    let (found, _) = leaks();
    assert_eq!(found.len(), 1, "the canary must be found: {found:?}");
    assert!(!found[0].contains(&canary), "the report redacts the secret");
    // A password hash is caught by its form, whoever's it was.
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    tracing::warn!(target: "portal_api", client = ?Some(hash), "a deliberate leak");
    let (found, _) = leaks();
    assert_eq!(found.len(), 1, "the hash must be found: {found:?}");

    for (backend, queue) in [
        (Backend::Postgres, Queue::Redis),
        (Backend::Sqlite, Queue::Embedded),
    ] {
        let app = spawn_mail_app(backend, queue, &[("RUST_LOG", "debug")]).await;
        whole_story(&app).await;
        app.stop().await;
    }
    let coverage = assert_no_leaks();
    println!(
        "log scan: {} JSON lines checked against {} secrets, 0 leaks",
        coverage.lines, coverage.secrets
    );
    assert!(
        coverage.lines > 100 && coverage.secrets > 10,
        "{coverage:?}"
    );
}

async fn whole_story(app: &TestApp) {
    logscan::secret(MESSAGE);
    logscan::secret(ANSWER);
    let provider = app.signed_in_provider("Practice").await;
    let wrong = app.sign_in(&provider.email, WRONG_PASSWORD).await;
    assert!(wrong["errors"].is_array());
    let email = format!("jane.{}@example.com", uuid::Uuid::new_v4().simple());
    let (client_id, link) = app.invited(&provider.token, "Jane", &email).await;
    let form = json!({ "title": "Medications", "questions": ["What do you take?"] });
    app.assign_new_form(&provider.token, &client_id, form).await;
    // The setup page is opened (never using the link), then the link is used.
    let page = format!("{}/account/setup?token={link}", app.address);
    assert_eq!(app.http.get(page).send().await.unwrap().status(), 200);
    let done = app.graphql_ok(
        "mutation($i: CompleteAccountLinkInput!) { completeAccountLink(input: $i) { token pendingIntakeForms { id } } }",
        json!({ "i": { "token": link, "password": CLIENT_PASSWORD } }),
        None,
    )
    .await;
    let session = done["completeAccountLink"]["token"].as_str().unwrap();
    let assignment = done["completeAccountLink"]["pendingIntakeForms"][0]["id"]
        .as_str()
        .unwrap();
    let used_again = app.complete_link(&link, CLIENT_PASSWORD).await;
    assert!(used_again["errors"].is_array());
    app.graphql_ok(
        "mutation($i: CompleteIntakeFormInput!) { completeIntakeForm(input: $i) { assignment { id } } }",
        json!({ "i": { "assignmentId": assignment, "answers": { "medications": ANSWER } } }),
        Some(session),
    )
    .await;
    app.graphql_ok(
        "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }",
        json!({ "i": { "clientId": client_id, "body": MESSAGE } }),
        Some(&provider.token),
    )
    .await;
    app.graphql_ok(
        "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { client { id } } }",
        json!({ "i": { "currentPassword": CLIENT_PASSWORD, "newPassword": NEW_PASSWORD } }),
        Some(session),
    )
    .await;
    let wrong = app.client_sign_in(&email, WRONG_PASSWORD).await;
    assert!(wrong["errors"].is_array());
    app.graphql_ok(
        "mutation($e: String!) { requestPasswordReset(email: $e) }",
        json!({ "e": email }),
        None,
    )
    .await;
    let reset = app.smtp().wait_for(&email, 3).await;
    assert!(reset.iter().any(|m| m.token().is_some()));
    app.graphql_ok(
        "mutation($i: SetClientPasswordInput!) { setClientPassword(input: $i) { client { id } } }",
        json!({ "i": { "clientId": client_id, "password": PROVIDER_SET } }),
        Some(&provider.token),
    )
    .await;
    let signed = app.client_sign_in(&email, PROVIDER_SET).await;
    assert!(
        signed["data"]["clientSignIn"]["token"].is_string(),
        "{signed}"
    );
}
