//! The client's own way in: asking for a password reset (durable, under its own
//! cap, the same answer for every address) and signing in (one password check,
//! whoever the address belongs to).
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{Backend, Queue, error_code, in_both_modes, spawn_mail_app};
use serde_json::json;

in_both_modes!(
    a_password_reset_request_answers_alike_and_spares_the_providers_cap,
    a_sign_in_checks_one_password_whoever_the_address_belongs_to,
    a_reset_request_left_by_a_stopped_process_is_still_sent,
    until_a_provider_set_password_is_changed_nothing_else_can_be_read,
    a_failure_reading_the_signed_in_client_answers_with_a_code_and_an_error_id,
);

async fn a_password_reset_request_answers_alike_and_spares_the_providers_cap(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let (id, invite) = app
        .invited(&provider.token, "Jane", "jane@example.com")
        .await;
    app.complete_link(&invite, CLIENT_PASSWORD).await;

    let request = |email: &str| {
        app.graphql(
            "mutation($e: String!) { requestPasswordReset(email: $e) }",
            json!({ "e": email }),
            None,
        )
    };
    let unknown = request("nobody@example.com").await;
    let known = request("Jane@Example.com").await;
    assert_eq!(unknown, known, "the answer does not tell who is a client");
    assert_eq!(known["data"]["requestPasswordReset"], true);
    let malformed = request("not an address").await;
    assert_eq!(error_code(&malformed), Some("BAD_USER_INPUT"));

    let mail = app.smtp().wait_for("jane@example.com", 2).await;
    assert!(
        mail[1].subject().contains("new password"),
        "{}",
        mail[1].subject()
    );
    let reset = mail[1].token().unwrap();
    assert_eq!(app.link_status(&reset).await["kind"], "PASSWORD_RESET");
    let view = app.client_view(&provider.token, &id).await;
    assert_eq!(
        view["resendQuota"]["remaining"], 5,
        "counted in the self-service cap, not the providers'"
    );
    let done = app.complete_link(&reset, "a brand new passphrase 31").await;
    assert!(
        done["data"]["completeAccountLink"]["token"].is_string(),
        "{done}"
    );
    assert!(app.smtp().messages_to("nobody@example.com").is_empty());
}

async fn a_sign_in_checks_one_password_whoever_the_address_belongs_to(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    // One address, active clients of two practices.
    let practices = [
        ("North", "north harbor lantern 44"),
        ("South", CLIENT_PASSWORD),
    ];
    for (n, (practice, password)) in practices.into_iter().enumerate() {
        let provider = app.signed_in_provider(practice).await;
        app.invite_client(&provider.token, "Jane", "shared@example.com")
            .await;
        let mail = app.smtp().wait_for("shared@example.com", n + 1).await;
        let link = mail[n].token().expect("an invite link");
        let done = app.complete_link(&link, password).await;
        assert!(done["errors"].is_null(), "{done}");
    }
    let checks = || app.state.passwords.verifications();
    for (email, password) in [
        ("shared@example.com", "not the password at all"),
        ("nobody@example.com", "not the password at all"),
        ("shared@example.com", CLIENT_PASSWORD),
    ] {
        let before = checks();
        app.client_sign_in(email, password).await;
        assert_eq!(
            checks() - before,
            1,
            "{email}: one check, whoever has the address"
        );
    }
    // The most recently activated account is the one signed in to.
    let signed = app
        .client_sign_in("shared@example.com", CLIENT_PASSWORD)
        .await;
    assert!(
        signed["data"]["clientSignIn"]["token"].is_string(),
        "{signed}"
    );
}

async fn a_reset_request_left_by_a_stopped_process_is_still_sent(backend: Backend, queue: Queue) {
    use access::clock::Clock;
    use sea_orm::{ActiveModelTrait, EntityTrait};
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let (_, invite) = app
        .invited(&provider.token, "Jane", "jane@example.com")
        .await;
    app.complete_link(&invite, CLIENT_PASSWORD).await;

    // A request recorded and answered, whose process was killed before handling it.
    let asked_at = app.clock.now() - chrono::Duration::seconds(30);
    entity::password_reset_request::ActiveModel {
        id: sea_orm::Set(uuid::Uuid::now_v7()),
        email_normalized: sea_orm::Set("jane@example.com".into()),
        ip: sea_orm::Set(None),
        created_at: sea_orm::Set(asked_at),
        claimed_until: sea_orm::Set(None),
    }
    .insert(&app.state.db)
    .await
    .unwrap();

    let mail = app.smtp().wait_for("jane@example.com", 2).await;
    assert!(
        mail[1].subject().contains("new password"),
        "{}",
        mail[1].subject()
    );
    let left = entity::password_reset_request::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(left.is_empty(), "a handled request is deleted: {left:?}");
}

async fn until_a_provider_set_password_is_changed_nothing_else_can_be_read(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let client_id = app
        .invite_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let sent = app
        .graphql(
            "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }",
            json!({ "i": { "clientId": client_id, "body": "Your results are in." } }),
            Some(&provider.token),
        )
        .await;
    assert!(sent["errors"].is_null(), "{sent}");
    let temporary = "temporary harbor key 5521";
    let set = app
        .graphql(
            "mutation($i: SetClientPasswordInput!) { setClientPassword(input: $i) { client { id } } }",
            json!({ "i": { "clientId": client_id, "password": temporary, "requireChangeOnNextSignIn": true } }),
            Some(&provider.token),
        )
        .await;
    assert!(set["errors"].is_null(), "{set}");

    let reading = "mutation($e: String!, $p: String!) { clientSignIn(input: {email: $e, password: $p}) { token client { messages { body } intakeForms { id answers } } } }";
    let signed = app
        .graphql(
            reading,
            json!({ "e": "jane@example.com", "p": temporary }),
            None,
        )
        .await;
    let refused = |body: &serde_json::Value| {
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        !errors.is_empty()
            && errors.iter().all(|e| {
                e["extensions"]["code"] == "FORBIDDEN"
                    && e["extensions"]["reason"] == "PASSWORD_CHANGE_REQUIRED"
            })
    };
    assert!(refused(&signed), "{signed}");
    assert!(!signed.to_string().contains("results are in"), "{signed}");
    let token =
        app.client_sign_in("jane@example.com", temporary).await["data"]["clientSignIn"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
    let me = "{ me { ... on ClientAccount { messages { body } intakeForms { id answers } } } }";
    let locked = app.graphql(me, json!({}), Some(&token)).await;
    assert!(refused(&locked), "{locked}");

    let changed = app
        .graphql(
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { client { mustChangePassword } } }",
            json!({ "i": { "currentPassword": temporary, "newPassword": "a fresh strong passphrase 8" } }),
            Some(&token),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");
    let open = app.graphql(me, json!({}), Some(&token)).await;
    assert_eq!(
        open["data"]["me"]["messages"][0]["body"], "Your results are in.",
        "{open}"
    );
}

async fn a_failure_reading_the_signed_in_client_answers_with_a_code_and_an_error_id(
    backend: Backend,
    queue: Queue,
) {
    use sea_orm::ConnectionTrait;
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let (_, token) = app
        .signed_in_client(&provider.token, "Jane", "jane@example.com")
        .await;
    // The session still resolves, but the client's row can no longer be read whole:
    // a stand-in for any database failure behind `me`.
    app.state
        .db
        .execute_unprepared("ALTER TABLE client RENAME COLUMN search_text TO search_text_moved")
        .await
        .unwrap();
    let me = app
        .graphql(
            "{ me { ... on ClientAccount { firstName } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(error_code(&me), Some("INTERNAL"), "{me}");
    let error_id = me["errors"][0]["extensions"]["errorId"].as_str();
    assert!(
        error_id.is_some(),
        "an id to find the details in the log: {me}"
    );
    assert!(
        !me.to_string().contains("search_text"),
        "no detail leaked: {me}"
    );
}
