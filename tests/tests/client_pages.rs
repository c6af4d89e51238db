//! The client's own pages over plain HTTP: sign-in (the same limits and answers as
//! `clientSignIn`), the home with forms and messages, the session cookie and what
//! ends it, the must-change gate, and where the emails' "sign in" links lead.
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::pages::Visitor;
use portal_tests::{Backend, Queue, TestApp, TestProvider, in_both_modes, spawn_mail_app};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;

#[path = "client_pages/sign_in.rs"]
mod sign_in;

in_both_modes!(
    a_client_signs_in_fills_a_form_reads_messages_and_signs_out,
    a_provider_set_password_locks_the_pages_until_it_is_changed,
    emails_lead_to_the_built_in_pages_or_to_the_practice_portal,
);

const COOKIE: &str = "portal_session";

/// A provider, and an active client with a message and a two-question form.
async fn client_with_work(app: &TestApp) -> (TestProvider, String) {
    let provider = app.signed_in_provider("Harbor & Pine").await;
    let (id, _) = app
        .signed_in_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let form = json!({ "title": "Health history", "questions": ["Allergies?", "Medication?"] });
    app.assign_new_form(&provider.token, &id, form).await;
    send_message(
        app,
        &provider,
        &id,
        "Your results are in.\nSee you Tuesday.",
    )
    .await;
    (provider, id)
}

async fn send_message(app: &TestApp, provider: &TestProvider, client_id: &str, body: &str) {
    let sent = app
        .graphql(
            "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }",
            json!({ "i": { "clientId": client_id, "body": body } }),
            Some(&provider.token),
        )
        .await;
    assert!(sent["errors"].is_null(), "{sent}");
}

/// The id of the first pending form on the home page.
fn pending_assignment(home: &str) -> String {
    let start = home
        .find("name=\"assignment\" value=\"")
        .expect("a pending form")
        + 25;
    home[start..].split('"').next().unwrap().to_owned()
}

async fn a_client_signs_in_fills_a_form_reads_messages_and_signs_out(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    client_with_work(&app).await;
    let visitor = Visitor::new(&app);
    let anonymous = visitor.get("/account").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), Some("/account/sign-in"));

    let signed = visitor.sign_in("jane@example.com", CLIENT_PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert_eq!(signed.location(), Some("/account"));
    let cookie = signed.set_cookie(COOKIE).expect("a session cookie");
    for attribute in ["; Path=/", "; HttpOnly", "; SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http: no Secure ({cookie})"
    );
    let old_session = visitor.cookie(COOKIE).unwrap();

    let home = visitor.get("/account").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    for shown in ["Hello Jane", "Health history", "Allergies?", "Medication?"] {
        assert!(home.body.contains(shown), "{shown}: {}", home.body);
    }
    assert!(home.body.contains("Your results are in.\nSee you Tuesday."));
    let assignment = pending_assignment(&home.body);
    let answers = [
        ("assignment", assignment.as_str()),
        (&format!("q0-{assignment}"), "Penicillin"),
        (&format!("q1-{assignment}"), "None"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let fields: Vec<(&str, &str)> = answers.iter().map(|(k, v)| (&k[..], &v[..])).collect();
    let submitted = visitor.post("/account/intake", &fields).await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let stored = entity::intake_assignment::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let stored: serde_json::Value = serde_json::from_str(&stored.answers.unwrap()).unwrap();
    assert_eq!(
        stored,
        json!({ "Allergies?": "Penicillin", "Medication?": "None" })
    );
    let after = visitor.get(submitted.location().unwrap()).await;
    assert!(after.body.contains("your form was sent"), "{}", after.body);
    assert!(after.body.contains("id=\"no-forms\""), "{}", after.body);
    // Sent again (the back button): the first answers stand.
    let mut again = fields.clone();
    again[1].1 = "Changed my mind";
    let resent = visitor.post("/account/intake", &again).await;
    assert_eq!(resent.location(), Some("/account?done=form"));
    let kept = entity::intake_assignment::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(kept.answers.unwrap().contains("Penicillin"));

    let out = visitor.post("/account/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), Some("/account/sign-in?out=1"));
    assert!(visitor.cookie(COOKIE).is_none(), "the cookie is cleared");
    visitor.set_cookie(COOKIE, &old_session);
    let replayed = visitor.get("/account").await;
    assert_eq!(
        replayed.status,
        StatusCode::SEE_OTHER,
        "the old cookie no longer works"
    );
    assert!(!replayed.body.contains("results are in"));
    assert!(visitor.cookie(COOKIE).is_none(), "a dead cookie is cleared");
}

async fn a_provider_set_password_locks_the_pages_until_it_is_changed(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let (provider, id) = client_with_work(&app).await;
    let temporary = "temporary harbor key 5521";
    set_password(&app, &provider, &id, temporary, true).await;

    let visitor = Visitor::new(&app);
    let signed = visitor.sign_in("jane@example.com", temporary).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let locked = visitor.get("/account").await;
    assert_eq!(locked.status, StatusCode::OK);
    assert!(
        locked.body.contains("id=\"password-required\""),
        "{}",
        locked.body
    );
    for hidden in ["results are in", "Health history", "Allergies?"] {
        assert!(
            !locked.body.contains(hidden),
            "{hidden} shown before the change"
        );
    }
    // Posting a form anyway answers with the password page, not a submission.
    let fields = [("assignment", "00000000-0000-0000-0000-000000000000")];
    let refused = visitor.post("/account/intake", &fields).await;
    assert_eq!(refused.location(), Some("/account"));

    let weak = [
        ("current_password", temporary),
        ("new_password", "password123"),
        ("confirm_password", "password123"),
    ];
    let weak = visitor.post("/account/password", &weak).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.body
            .contains("aria-describedby=\"new_password-error new_password-hint\"")
    );
    assert!(!weak.body.contains("results are in"));

    let new = "a fresh strong passphrase 8";
    let good = [
        ("current_password", temporary),
        ("new_password", new),
        ("confirm_password", new),
    ];
    let changed = visitor.post("/account/password", &good).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let open = visitor.get(changed.location().unwrap()).await;
    assert!(
        open.body.contains("Your password was changed."),
        "{}",
        open.body
    );
    assert!(open.body.contains("results are in"), "{}", open.body);
}

async fn set_password(app: &TestApp, provider: &TestProvider, id: &str, pw: &str, change: bool) {
    let set = app
        .graphql(
            "mutation($i: SetClientPasswordInput!) { setClientPassword(input: $i) { client { id } } }",
            json!({ "i": { "clientId": id, "password": pw, "requireChangeOnNextSignIn": change } }),
            Some(&provider.token),
        )
        .await;
    assert!(set["errors"].is_null(), "{set}");
}

async fn emails_lead_to_the_built_in_pages_or_to_the_practice_portal(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let (_, _) = client_with_work(&app).await;
    let mail = app.smtp().wait_for("jane@example.com", 2).await;
    let home = format!("{}/account", app.address);
    let has_line = |text: &str, line: &str| text.lines().any(|l| l.trim() == line);
    assert!(has_line(&mail[1].text(), &home), "{}", mail[1].text());
    assert!(
        mail[1]
            .html()
            .contains(&format!("href=\"{}/account\"", app.address))
    );

    let portal = [("CLIENT_PORTAL_URL", "https://app.harbor.test/portal/")];
    let app = spawn_mail_app(backend, queue, &portal).await;
    let (_, _) = client_with_work(&app).await;
    let mail = app.smtp().wait_for("jane@example.com", 2).await;
    let notification = mail[1].text();
    assert!(
        has_line(&notification, "https://app.harbor.test/portal"),
        "{notification}"
    );
    assert!(!notification.contains(&app.address), "{notification}");
}
