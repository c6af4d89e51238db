//! After activation: intake forms and the reminder (R8), content-free message
//! notifications (R9), and the audit trail a practice reads (R12).
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{Backend, Queue, TestApp, error_code, in_both_modes, spawn_mail_app};
use serde_json::{Value, json};
use std::time::Duration;

in_both_modes!(
    pending_forms_are_named_at_activation_and_reminded_once,
    no_reminder_when_every_form_is_done,
    a_message_notification_carries_nothing_of_the_message,
    the_audit_trail_tells_the_whole_story_to_the_same_practice_only,
    the_same_form_assigned_twice_at_once_is_one_assignment,
    a_client_signing_out_is_in_the_trail,
);

async fn form(app: &TestApp, token: &str, title: &str) -> String {
    let body = app
        .graphql(
            "mutation($i: CreateIntakeFormInput!) { createIntakeForm(input: $i) { form { id title questions } } }",
            json!({ "i": { "title": title, "questions": ["How did you hear about us?"] } }),
            Some(token),
        )
        .await;
    body["data"]["createIntakeForm"]["form"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

async fn assign(app: &TestApp, token: &str, client_id: &str, form_id: &str) -> Value {
    app.graphql(
        "mutation($i: AssignIntakeFormInput!) { assignIntakeForm(input: $i) { assignment { id form { title } completedAt } } }",
        json!({ "i": { "clientId": client_id, "formId": form_id } }),
        Some(token),
    )
    .await
}

async fn complete_form(app: &TestApp, token: &str, assignment_id: &str) -> Value {
    app.graphql(
        "mutation($i: CompleteIntakeFormInput!) { completeIntakeForm(input: $i) { assignment { completedAt answers } } }",
        json!({ "i": { "assignmentId": assignment_id, "answers": { "q1": "A friend" } } }),
        Some(token),
    )
    .await
}

/// Creates and invites Jane with `forms` assigned, and activates her.
async fn activated(app: &TestApp, token: &str, forms: &[&str]) -> (String, Value) {
    activated_as(app, token, "jane@example.com", forms).await
}

async fn activated_as(app: &TestApp, token: &str, email: &str, forms: &[&str]) -> (String, Value) {
    let id = app.invite_client(token, "Jane", email).await;
    for title in forms {
        let form_id = form(app, token, title).await;
        let body = assign(app, token, &id, &form_id).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let link = app.smtp().wait_for(email, 1).await[0].token().unwrap();
    let query = "mutation($i: CompleteAccountLinkInput!) { completeAccountLink(input: $i) { token pendingIntakeForms { id form { title } } } }";
    let body = app
        .graphql(
            query,
            json!({ "i": { "token": link, "password": CLIENT_PASSWORD } }),
            None,
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    (id, body["data"]["completeAccountLink"].clone())
}

async fn pending_forms_are_named_at_activation_and_reminded_once(backend: Backend, queue: Queue) {
    let env = [("INTAKE_REMINDER_DELAY_SECS", "1")];
    let app = spawn_mail_app(backend, queue, &env).await;
    let provider = app.signed_in_provider("Practice").await;
    let (id, done) = activated(&app, &provider.token, &["Health history", "Consent"]).await;
    let pending = done["pendingIntakeForms"].as_array().unwrap();
    let titles: Vec<&str> = pending
        .iter()
        .map(|f| f["form"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Health history", "Consent"]);

    // The client completes one; another client's form is not theirs to complete.
    let client_token = done["token"].as_str().unwrap();
    let first = pending[0]["id"].as_str().unwrap();
    let body = complete_form(&app, client_token, first).await;
    assert!(
        body["data"]["completeIntakeForm"]["assignment"]["completedAt"].is_string(),
        "{body}"
    );
    let as_provider = complete_form(&app, &provider.token, first).await;
    assert_eq!(error_code(&as_provider), Some("FORBIDDEN"));
    let (_, other) = activated_as(&app, &provider.token, "john@example.com", &[]).await;
    let second = pending[1]["id"].as_str().unwrap();
    let other_token = other["token"].as_str().unwrap_or_else(|| panic!("{other}"));
    let not_theirs = complete_form(&app, other_token, second).await;
    assert_eq!(error_code(&not_theirs), Some("NOT_FOUND"));

    let reminder = &app.smtp().wait_for("jane@example.com", 2).await[1];
    assert!(
        reminder.subject().contains("forms to complete"),
        "{}",
        reminder.subject()
    );
    assert!(reminder.text().contains("Consent"));
    assert!(
        !reminder.text().contains("Health history"),
        "completed forms are not named"
    );
    assert!(!reminder.raw.contains("A friend"), "never an answer");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        app.smtp().messages_to("jane@example.com").len(),
        2,
        "one reminder per activation"
    );
    let view = app
        .graphql(
            "query($id: ID!) { client(id: $id) { intakeForms { form { title } completedAt answers } } }",
            json!({ "id": id }),
            Some(&provider.token),
        )
        .await;
    let forms = &view["data"]["client"]["intakeForms"];
    assert_eq!(
        forms[0]["answers"]["q1"], "A friend",
        "the practice reads the answers"
    );
    assert_eq!(forms[1]["completedAt"], Value::Null);
}

async fn no_reminder_when_every_form_is_done(backend: Backend, queue: Queue) {
    let env = [("INTAKE_REMINDER_DELAY_SECS", "1")];
    let app = spawn_mail_app(backend, queue, &env).await;
    let provider = app.signed_in_provider("Practice").await;
    let (_, done) = activated(&app, &provider.token, &["Health history"]).await;
    let client_token = done["token"].as_str().unwrap();
    let assignment = done["pendingIntakeForms"][0]["id"].as_str().unwrap();
    complete_form(&app, client_token, assignment).await;

    // Wait for the check to run (due one second after activation).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let checks = loop {
        use sea_orm::{EntityTrait, QuerySelect};
        let checks: Vec<(String, Option<String>)> = entity::intake_check::Entity::find()
            .select_only()
            .column(entity::intake_check::Column::Status)
            .column(entity::intake_check::Column::Outcome)
            .into_tuple()
            .all(&app.state.db)
            .await
            .unwrap();
        if checks.iter().all(|(status, _)| status == "done")
            || tokio::time::Instant::now() > deadline
        {
            break checks;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.smtp().messages_to("jane@example.com").len(),
        1,
        "only the invite"
    );
    assert_eq!(
        checks,
        vec![("done".to_owned(), Some("all_complete".to_owned()))]
    );
}

async fn a_message_notification_carries_nothing_of_the_message(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let (id, done) = activated(&app, &provider.token, &[]).await;
    let marker = format!("MARKER-{}", uuid::Uuid::new_v4().simple());
    let body = format!("Your lab results ({marker}) are ready; the dose stays at 20 mg.");
    let sent = app
        .graphql(
            "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } notification { kind toAddress } } }",
            json!({ "i": { "clientId": id, "body": body } }),
            Some(&provider.token),
        )
        .await;
    assert_eq!(
        sent["data"]["sendMessage"]["notification"]["kind"], "MESSAGE_NOTIFICATION",
        "{sent}"
    );
    let mail = app.smtp().wait_for("jane@example.com", 2).await;
    let notification = &mail[1];
    assert!(
        notification.text().contains("new message"),
        "{}",
        notification.text()
    );
    for needle in [marker.as_str(), "lab results", "20 mg"] {
        assert!(
            !notification.raw.contains(needle),
            "{needle} leaked into the email"
        );
    }
    let client_token = done["token"].as_str().unwrap();
    let read = app
        .graphql(
            "{ me { ... on ClientAccount { messages { body } } } }",
            json!({}),
            Some(client_token),
        )
        .await;
    assert_eq!(read["data"]["me"]["messages"][0]["body"], body.as_str());
    let events = app.audit_actions(&id).await;
    assert!(events.iter().any(|a| a == "message.sent"));
}

async fn the_audit_trail_tells_the_whole_story_to_the_same_practice_only(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let stranger = app.signed_in_provider("Other").await;
    let (id, _) = activated(&app, &provider.token, &[]).await;
    app.resend(&provider.token, &id).await;
    let query = "query($id: ID, $first: Int, $after: String) { auditEvents(clientId: $id, first: $first, after: $after) { edges { cursor node { actorKind action detail ip createdAt } } pageInfo { hasNextPage endCursor } } }";
    let body = app
        .graphql(query, json!({ "id": id }), Some(&provider.token))
        .await;
    let edges = body["data"]["auditEvents"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let actions: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "email.password_reset_sent",
            "link.used",
            "email.invite_sent",
            "client.created"
        ],
        "newest first"
    );
    let sent = &edges[0]["node"];
    assert_eq!(sent["detail"], "to j***@example.com");
    assert_eq!(sent["actorKind"], "provider");
    assert_eq!(sent["ip"], "127.0.0.1");

    let page = app
        .graphql(
            query,
            json!({ "id": id, "first": 2 }),
            Some(&provider.token),
        )
        .await;
    let after = page["data"]["auditEvents"]["pageInfo"]["endCursor"].clone();
    assert_eq!(page["data"]["auditEvents"]["pageInfo"]["hasNextPage"], true);
    let next = app
        .graphql(
            query,
            json!({ "id": id, "first": 2, "after": after }),
            Some(&provider.token),
        )
        .await;
    assert_eq!(
        next["data"]["auditEvents"]["edges"][0]["node"]["action"],
        "email.invite_sent"
    );

    let foreign = app
        .graphql(query, json!({ "id": id }), Some(&stranger.token))
        .await;
    assert_eq!(
        foreign["data"]["auditEvents"]["edges"],
        json!([]),
        "another practice sees nothing"
    );
    let anonymous = app.graphql(query, json!({ "id": id }), None).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
}

async fn the_same_form_assigned_twice_at_once_is_one_assignment(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let client_id = app
        .invite_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let form_id = form(&app, &provider.token, "Consent").await;
    for _ in 0..5 {
        let attempts = (0..4).map(|_| assign(&app, &provider.token, &client_id, &form_id));
        let answers = futures_util::future::join_all(attempts).await;
        let ids: std::collections::BTreeSet<_> = answers
            .iter()
            .map(|a| {
                a["data"]["assignIntakeForm"]["assignment"]["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{a}"))
                    .to_owned()
            })
            .collect();
        assert_eq!(ids.len(), 1, "one assignment, whoever wins: {answers:?}");
    }
}

async fn a_client_signing_out_is_in_the_trail(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let (client_id, session) = app
        .signed_in_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let out = app
        .graphql("mutation { signOut }", json!({}), Some(&session))
        .await;
    assert_eq!(out["data"]["signOut"], true, "{out}");
    let actions = app.audit_actions(&client_id).await;
    assert_eq!(
        actions.last().map(String::as_str),
        Some("client.signed_out"),
        "{actions:?}"
    );
}
