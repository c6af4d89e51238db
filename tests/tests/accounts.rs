//! R6, R7, R10: changing a client's email, setting their password for them, and
//! catching misspelled addresses before anything is sent.
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{Backend, Queue, error_code, in_both_modes, spawn_mail_app};
use serde_json::{Value, json};

in_both_modes!(
    an_email_change_revokes_the_old_link_and_sends_to_the_new_address,
    a_likely_typo_is_answered_with_a_suggestion_unless_confirmed,
    a_password_set_by_the_provider_ends_links_and_sessions,
    a_slot_taken_for_a_failed_change_is_given_back,
    saving_the_same_address_changes_nothing_and_a_resend_is_named_by_what_it_sent,
);

async fn update_email(app: &portal_tests::TestApp, token: &str, input: Value) -> Value {
    app.graphql(
        "mutation($i: UpdateClientEmailInput!) { updateClientEmail(input: $i) { client { email status } delivery { kind toAddress } notice { kind toAddress } resendsRemaining } }",
        json!({ "i": input }),
        Some(token),
    )
    .await
}

async fn an_email_change_revokes_the_old_link_and_sends_to_the_new_address(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let (id, old_link) = app
        .invited(&provider.token, "Jane", "jane.old@example.org")
        .await;

    let input = json!({ "clientId": id, "email": "jane.new@example.net", "resendInvite": true });
    let body = update_email(&app, &provider.token, input).await;
    let payload = &body["data"]["updateClientEmail"];
    assert_eq!(payload["client"]["email"], "jane.new@example.net", "{body}");
    assert_eq!(payload["delivery"]["toAddress"], "jane.new@example.net");
    assert_eq!(
        payload["notice"],
        Value::Null,
        "an invited client gets no notice"
    );
    assert_eq!(payload["resendsRemaining"], 4);
    assert_eq!(app.link_status(&old_link).await["state"], "SUPERSEDED");

    let new_link = app.smtp().wait_for("jane.new@example.net", 1).await[0]
        .token()
        .unwrap();
    let done = app.complete_link(&new_link, CLIENT_PASSWORD).await;
    assert!(
        done["data"]["completeAccountLink"]["token"].is_string(),
        "{done}"
    );

    // An active client's old address is told, without any link.
    let input = json!({ "clientId": id, "email": "jane@example.com" });
    let body = update_email(&app, &provider.token, input).await;
    assert_eq!(
        body["data"]["updateClientEmail"]["notice"]["kind"],
        "EMAIL_CHANGED_NOTICE"
    );
    assert_eq!(body["data"]["updateClientEmail"]["delivery"], Value::Null);
    let notice = &app.smtp().wait_for("jane.new@example.net", 2).await[1];
    assert!(notice.subject().contains("email address was changed"));
    assert!(notice.token().is_none() && !notice.raw.contains("http"));
    assert!(
        !notice.raw.contains("jane@example.com"),
        "the new address is not disclosed"
    );
    let signed = app
        .client_sign_in("jane@example.com", CLIENT_PASSWORD)
        .await;
    assert!(
        signed["data"]["clientSignIn"]["token"].is_string(),
        "{signed}"
    );

    // Another client of the practice cannot take the address, in any case.
    let other = app
        .create_client(&provider.token, "John", "Roe", None)
        .await;
    let other_id = other["data"]["createClient"]["client"]["id"]
        .as_str()
        .unwrap();
    let input = json!({ "clientId": other_id, "email": "JANE@example.com" });
    let taken = update_email(&app, &provider.token, input).await;
    assert_eq!(error_code(&taken), Some("EMAIL_TAKEN"));

    let actions = app.audit_actions(&id).await;
    assert!(
        actions
            .iter()
            .filter(|a| *a == "client.email_changed")
            .count()
            == 2
    );
}

async fn a_likely_typo_is_answered_with_a_suggestion_unless_confirmed(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let body = app
        .create_client(&provider.token, "Jane", "Doe", Some("jane@gmial.com"))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let ext = &body["errors"][0]["extensions"];
    assert_eq!(ext["field"], "email");
    assert_eq!(ext["suggestion"], "jane@gmail.com");
    let list = app
        .graphql(
            "{ clients { totalCount } }",
            json!({}),
            Some(&provider.token),
        )
        .await;
    assert_eq!(
        list["data"]["clients"]["totalCount"], 0,
        "nothing was created"
    );

    let confirmed = app
        .graphql(
            "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id email } invite { toAddress } } }",
            json!({ "i": { "firstName": "Jane", "lastName": "Doe", "email": "jane@gmial.com", "confirmUnusualDomain": true } }),
            Some(&provider.token),
        )
        .await;
    let id = confirmed["data"]["createClient"]["client"]["id"]
        .as_str()
        .unwrap();
    assert_eq!(
        confirmed["data"]["createClient"]["invite"]["toAddress"],
        "jane@gmial.com"
    );

    let fix = update_email(
        &app,
        &provider.token,
        json!({ "clientId": id, "email": "jane@gmail.con" }),
    )
    .await;
    assert_eq!(
        fix["errors"][0]["extensions"]["suggestion"], "jane@gmail.com",
        "{fix}"
    );
    let fixed = update_email(
        &app,
        &provider.token,
        json!({ "clientId": id, "email": "jane@gmail.com", "resendInvite": true }),
    )
    .await;
    assert_eq!(
        fixed["data"]["updateClientEmail"]["client"]["email"],
        "jane@gmail.com"
    );
    app.smtp().wait_for("jane@gmail.com", 1).await;
}

async fn a_password_set_by_the_provider_ends_links_and_sessions(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let (id, invite) = app
        .invited(&provider.token, "Jane", "jane@example.com")
        .await;
    let done = app.complete_link(&invite, CLIENT_PASSWORD).await;
    let session = done["data"]["completeAccountLink"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.resend(&provider.token, &id).await;
    let reset = app.smtp().wait_for("jane@example.com", 2).await[1]
        .token()
        .unwrap();

    let set = |password: &str| {
        app.graphql(
            "mutation($i: SetClientPasswordInput!) { setClientPassword(input: $i) { client { status mustChangePassword } } }",
            json!({ "i": { "clientId": id, "password": password, "requireChangeOnNextSignIn": true } }),
            Some(&provider.token),
        )
    };
    let weak = set("jane1234").await;
    assert_eq!(error_code(&weak), Some("WEAK_PASSWORD"));
    let temporary = "temporary harbor key 5521";
    let body = set(temporary).await;
    assert_eq!(
        body["data"]["setClientPassword"]["client"]["mustChangePassword"], true,
        "{body}"
    );
    assert!(!body.to_string().contains(temporary), "never echoed");

    assert_eq!(app.link_status(&reset).await["state"], "SUPERSEDED");
    let me = app
        .graphql("{ me { __typename } }", json!({}), Some(&session))
        .await;
    assert_eq!(me["data"]["me"], Value::Null, "the old session ended: {me}");

    let signed = app.client_sign_in("jane@example.com", temporary).await;
    assert_eq!(signed["data"]["clientSignIn"]["mustChangePassword"], true);
    let token = signed["data"]["clientSignIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = |current: &str, new: &str| {
        app.graphql(
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { client { mustChangePassword } } }",
            json!({ "i": { "currentPassword": current, "newPassword": new } }),
            Some(&token),
        )
    };
    let wrong = change("not it at all", "a fresh strong passphrase 8").await;
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"));
    let changed = change(temporary, "a fresh strong passphrase 8").await;
    assert_eq!(
        changed["data"]["changePassword"]["client"]["mustChangePassword"], false,
        "{changed}"
    );
    let again = app
        .client_sign_in("jane@example.com", "a fresh strong passphrase 8")
        .await;
    assert_eq!(again["data"]["clientSignIn"]["mustChangePassword"], false);
    // No email ever carried the password.
    assert!(
        app.smtp()
            .messages()
            .iter()
            .all(|m| !m.raw.contains(temporary))
    );
}

async fn a_slot_taken_for_a_failed_change_is_given_back(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    app.invite_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let other = app
        .invite_client(&provider.token, "John", "john@example.com")
        .await;

    let input = json!({ "clientId": other, "email": "jane@example.com", "resendInvite": true });
    let taken = update_email(&app, &provider.token, input).await;
    assert_eq!(error_code(&taken), Some("EMAIL_TAKEN"));
    let view = app.client_view(&provider.token, &other).await;
    assert_eq!(
        view["resendQuota"]["remaining"], 5,
        "the slot was given back"
    );
    assert_eq!(view["email"], "john@example.com");
}

async fn link_generation(app: &portal_tests::TestApp, id: &str) -> i64 {
    use sea_orm::EntityTrait;
    let id = uuid::Uuid::parse_str(id).unwrap();
    entity::client::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .link_generation
}

async fn saving_the_same_address_changes_nothing_and_a_resend_is_named_by_what_it_sent(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let (id, invite) = app
        .invited(&provider.token, "Jane", "jane@example.com")
        .await;
    let before = (
        link_generation(&app, &id).await,
        app.audit_actions(&id).await,
    );

    // The same address (any case), no resend: a queued invite must keep going, so
    // nothing may start a new link generation.
    let input = json!({ "clientId": id, "email": "Jane@Example.com" });
    let body = update_email(&app, &provider.token, input).await;
    assert_eq!(
        body["data"]["updateClientEmail"]["delivery"],
        Value::Null,
        "{body}"
    );
    let after = (
        link_generation(&app, &id).await,
        app.audit_actions(&id).await,
    );
    assert_eq!(before, after, "saving the same address wrote something");
    assert_eq!(app.link_status(&invite).await["state"], "VALID");

    // An active client's resend through an email change is a password reset, and
    // the trail says so.
    app.complete_link(&invite, CLIENT_PASSWORD).await;
    let input = json!({ "clientId": id, "email": "jane.new@example.net", "resendInvite": true });
    let body = update_email(&app, &provider.token, input).await;
    assert_eq!(
        body["data"]["updateClientEmail"]["delivery"]["kind"], "PASSWORD_RESET",
        "{body}"
    );
    let actions = app.audit_actions(&id).await;
    assert_eq!(
        actions.last().map(String::as_str),
        Some("email.password_reset_sent")
    );
    assert!(
        !actions.iter().any(|a| a == "email.invite_resent"),
        "{actions:?}"
    );
}
