//! One client's story that makes the service send every kind of email it has,
//! each through the real worker to the SMTP sink.
use entity::email_delivery::EmailKind;
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{Received, TestApp};
use sea_orm::Iterable;
use serde_json::json;

/// A practice name lettre would have base64-encoded in `From` (`&`, `'`).
pub const PRACTICE: &str = "Harbor & Pine Therapy";
pub const SELECTOR: &str = "portal2026";
/// Every email of the story goes here (the email-change notice to the old address).
const CLIENT: &str = "jane.doe@example.com";

/// The mail settings of a practice at `domain`, signing with the key in `key_file`.
pub fn mail_env(domain: &str, key_file: Option<&str>) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "MAIL_FROM".to_owned(),
            format!("\"{PRACTICE}\" <no-reply@{domain}>"),
        ),
        ("INTAKE_REMINDER_DELAY_SECS".to_owned(), "1".to_owned()),
    ];
    if let Some(file) = key_file {
        env.push(("DKIM_DOMAIN".to_owned(), domain.to_owned()));
        env.push(("DKIM_SELECTOR".to_owned(), SELECTOR.to_owned()));
        env.push(("DKIM_PRIVATE_KEY_FILE".to_owned(), file.to_owned()));
    }
    env
}

/// A domain of the test's own, so its log lines can be told apart.
pub fn practice_domain() -> String {
    format!(
        "harbor-pine-{}.example",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Invite, activation with a form pending (reminder), a message, a self-service
/// reset and an email change: one email of each kind, each awaited before the next
/// step so none is superseded. Returns them with their kind.
pub async fn every_email_kind(app: &TestApp) -> Vec<(EmailKind, Received)> {
    let provider = app.signed_in_provider(PRACTICE).await;
    let token = Some(provider.token.as_str());
    let (client_id, link) = app.invited(&provider.token, "Jane", CLIENT).await;
    let form = json!({ "title": "Health history", "questions": ["Anything we should know?"] });
    app.assign_new_form(&provider.token, &client_id, form).await;
    let done = app.complete_link(&link, CLIENT_PASSWORD).await;
    assert!(done["errors"].is_null(), "{done}");
    app.smtp().wait_for(CLIENT, 2).await;
    app.graphql_ok(
        "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }",
        json!({ "i": { "clientId": client_id, "body": "Your appointment notes are ready." } }),
        token,
    )
    .await;
    app.smtp().wait_for(CLIENT, 3).await;
    app.graphql_ok(
        "mutation($e: String!) { requestPasswordReset(email: $e) }",
        json!({ "e": CLIENT }),
        None,
    )
    .await;
    app.smtp().wait_for(CLIENT, 4).await;
    app.graphql_ok(
        "mutation($i: UpdateClientEmailInput!) { updateClientEmail(input: $i) { client { id } } }",
        json!({ "i": { "clientId": client_id, "email": "jane.new@example.net" } }),
        token,
    )
    .await;
    let mail = app.smtp().wait_for(CLIENT, 5).await;
    let sorted: Vec<(EmailKind, Received)> = mail.into_iter().map(|m| (kind_of(&m), m)).collect();
    let kinds: Vec<EmailKind> = sorted.iter().map(|(k, _)| *k).collect();
    for kind in EmailKind::iter() {
        assert_eq!(
            kinds.iter().filter(|k| **k == kind).count(),
            1,
            "one {kind} email in {kinds:?}"
        );
    }
    sorted
}

/// Which email this is, by its subject.
fn kind_of(mail: &Received) -> EmailKind {
    let subject = mail.subject();
    let kinds = [
        ("Set up your", EmailKind::Welcome),
        ("Choose a new password", EmailKind::PasswordReset),
        ("email address was changed", EmailKind::EmailChangedNotice),
        ("New message from", EmailKind::MessageNotification),
        ("forms to complete", EmailKind::IntakeReminder),
    ];
    kinds
        .iter()
        .find(|(words, _)| subject.contains(words))
        .map(|(_, kind)| *kind)
        .unwrap_or_else(|| panic!("an email of no known kind: {subject:?}"))
}
