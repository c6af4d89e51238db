//! The client's pages in a real browser (Debian's Chromium, driven through
//! chromedriver over WebDriver): the setup page from a received email, and the
//! whole path from the invite to signing out, with axe-core on every page. GraphiQL,
//! offline, in tests/tests/browser/graphiql.rs.
use fantoccini::Locator;
use portal_tests::axe::{assert_accessible, assert_focused};
use portal_tests::browser::{artifact_path, find, headless, screenshot, start_driver};
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{Backend, Queue, spawn_mail_app};
use serde_json::json;

#[path = "browser/graphiql.rs"]
mod graphiql;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sets_up_their_account_in_a_real_browser() {
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[]).await;
    let provider = app.signed_in_provider("Harbor & Pine Therapy").await;
    let id = app
        .invite_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let form = json!({ "title": "Health history" });
    app.assign_new_form(&provider.token, &id, form).await;

    let mail = app.smtp().wait_for("jane@example.com", 1).await;
    let token = mail[0].token().unwrap();
    let text = mail[0].text();
    let start = text.find("http").unwrap();
    let link: String = text[start..].split_whitespace().next().unwrap().to_owned();

    // A mail scanner opening the link three times leaves it usable.
    for _ in 0..3 {
        assert_eq!(reqwest::get(&link).await.unwrap().status(), 200);
    }
    assert_eq!(app.link_status(&token).await["state"], "VALID");

    let profile = tempfile::tempdir().unwrap();
    let (_driver, driver_url) = start_driver().await;
    let browser = headless(&driver_url, profile.path()).await;

    browser.goto(&link).await.unwrap();
    let greeting = find(&browser, "greeting").await;
    assert_eq!(greeting.text().await.unwrap(), "Hello Jane");
    let page = browser.source().await.unwrap();
    assert!(page.contains("Harbor &amp; Pine Therapy"));

    let submit = async |password: &str| {
        browser
            .find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys(password)
            .await
            .unwrap();
        browser
            .find(Locator::Id("confirm"))
            .await
            .unwrap()
            .send_keys(password)
            .await
            .unwrap();
        browser
            .find(Locator::Id("submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    };
    submit("password123").await;
    let error = find(&browser, "error-summary").await;
    assert!(!error.text().await.unwrap().is_empty());
    let png = browser.screenshot().await.unwrap();
    std::fs::write(artifact_path("account-setup-refused.png"), png).unwrap();
    assert_eq!(
        app.link_status(&token).await["state"],
        "VALID",
        "a refusal uses nothing up"
    );

    submit(CLIENT_PASSWORD).await;
    let success = find(&browser, "success").await;
    assert_eq!(success.text().await.unwrap(), "Your password is set");
    let forms = browser.find(Locator::Id("pending-forms")).await.unwrap();
    assert_eq!(forms.text().await.unwrap(), "Health history");
    let png = browser.screenshot().await.unwrap();
    std::fs::write(artifact_path("account-setup-done.png"), png).unwrap();
    browser.goto(&link).await.unwrap();
    let used = browser
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(used, "This link was already used");
    browser.close().await.unwrap();

    let signed = app
        .client_sign_in("jane@example.com", CLIENT_PASSWORD)
        .await;
    assert!(
        signed["data"]["clientSignIn"]["token"].is_string(),
        "{signed}"
    );
}

/// The first link in an email's text part.
fn first_link(text: &str) -> String {
    let start = text.find("http").expect("a link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn type_into(browser: &fantoccini::Client, id: &str, text: &str) {
    let field = find(browser, id).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn click(browser: &fantoccini::Client, id: &str) {
    find(browser, id).await.click().await.unwrap();
}

/// Waits for the element `id` to hold `text` (after a form post loads a new page).
async fn wait_text(browser: &fantoccini::Client, id: &str, text: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut seen = String::new();
    while tokio::time::Instant::now() < deadline {
        if let Ok(e) = browser.find(Locator::Id(id)).await {
            seen = e.text().await.unwrap_or_default();
            if seen.contains(text) {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("#{id} reads {seen:?}, not {text:?}");
}

/// After a refused form: the summary has the focus and `field` is marked invalid
/// and described by its message.
async fn assert_error_shown(browser: &fantoccini::Client, field: &str) {
    find(browser, "error-summary").await;
    assert_focused(browser, "error-summary").await;
    let input = find(browser, field).await;
    assert_eq!(
        input.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    let described = input
        .attr("aria-describedby")
        .await
        .unwrap()
        .unwrap_or_default();
    let message = format!("{field}-error");
    assert!(described.split(' ').any(|id| id == message), "{described}");
    assert!(
        !find(browser, &message)
            .await
            .text()
            .await
            .unwrap()
            .is_empty()
    );
}

/// The client's whole path in headless Chromium, axe-core checking every page:
/// invite email, setup page, the notification email's link through sign-in to the
/// home page, the intake form, the message, a password change, sign-out; then the
/// must-change gate after a provider sets a password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_goes_from_the_invite_email_to_signing_out_in_a_real_browser() {
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[]).await;
    let provider = app.signed_in_provider("Harbor & Pine Therapy").await;
    let id = app
        .invite_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let form = json!({
        "title": "Health history",
        "description": "Before your first visit.",
        "questions": ["Any allergies?", "Medication you take"],
    });
    app.assign_new_form(&provider.token, &id, form).await;
    let invite = first_link(&app.smtp().wait_for("jane@example.com", 1).await[0].text());

    let axe = portal_tests::axe::source();
    let profile = tempfile::tempdir().unwrap();
    let (_driver, driver_url) = start_driver().await;
    let browser = headless(&driver_url, profile.path()).await;
    let b = &browser;

    // The setup page from the invite, a refusal, then the done page.
    b.goto(&invite).await.unwrap();
    find(b, "greeting").await;
    assert_accessible(b, &axe, "setup").await;
    type_into(b, "password", "password123").await;
    type_into(b, "confirm", "password123").await;
    click(b, "submit").await;
    assert_error_shown(b, "password").await;
    assert_accessible(b, &axe, "setup, refused").await;
    type_into(b, "password", CLIENT_PASSWORD).await;
    type_into(b, "confirm", CLIENT_PASSWORD).await;
    click(b, "submit").await;
    find(b, "success").await;
    assert_accessible(b, &axe, "done").await;
    click(b, "sign-in-link").await;
    find(b, "sign-in").await;
    assert_accessible(b, &axe, "sign-in").await;
    b.goto(&format!("{}/account/forgot", app.address))
        .await
        .unwrap();
    find(b, "email").await;
    assert_accessible(b, &axe, "forgot").await;

    // A message arrives; its email leads through sign-in to the home page.
    let body = "Your results are in. See you Tuesday at 10.";
    app.graphql(
        "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }",
        json!({ "i": { "clientId": id, "body": body } }),
        Some(&provider.token),
    )
    .await;
    let notification = app.smtp().wait_for("jane@example.com", 2).await[1].text();
    assert!(!notification.contains(body), "R9: never the body in email");
    b.goto(&first_link(&notification)).await.unwrap();
    find(b, "sign-in").await;
    screenshot(b, "sign-in-desktop.png", 1280, 800).await;
    screenshot(b, "sign-in-phone.png", 390, 844).await;
    type_into(b, "email", "jane@example.com").await;
    type_into(b, "password", "not my password at all").await;
    click(b, "sign-in").await;
    assert_error_shown(b, "email").await;
    assert_accessible(b, &axe, "sign-in, refused").await;
    type_into(b, "password", CLIENT_PASSWORD).await;
    click(b, "sign-in").await;
    wait_text(b, "greeting", "Hello Jane").await;
    let home = b.source().await.unwrap();
    assert!(home.contains(body), "the message is read here");
    assert_accessible(b, &axe, "account").await;
    screenshot(b, "account-desktop.png", 1280, 1300).await;
    screenshot(b, "account-phone.png", 390, 1340).await;
    b.set_window_size(900, 820).await.unwrap();

    // The intake form.
    let answers = b
        .find_all(Locator::Css("form.intake textarea"))
        .await
        .unwrap();
    assert_eq!(answers.len(), 2);
    answers[0].send_keys("Penicillin").await.unwrap();
    answers[1].send_keys("None").await.unwrap();
    b.find(Locator::Css("form.intake button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(b, "notice", "your form was sent").await;
    find(b, "no-forms").await;
    assert_accessible(b, &axe, "account, form sent").await;
    let stored = app
        .graphql(
            "query($id: ID!) { client(id: $id) { intakeForms { answers completedAt } } }",
            json!({ "id": id }),
            Some(&provider.token),
        )
        .await;
    let answers = &stored["data"]["client"]["intakeForms"][0]["answers"];
    assert_eq!(answers["Any allergies?"], "Penicillin", "{stored}");

    // A password change, then sign-out; the old cookie no longer works.
    let new_password = "harbor lantern quietly 77 pine";
    type_into(b, "current_password", CLIENT_PASSWORD).await;
    type_into(b, "new_password", new_password).await;
    type_into(b, "confirm_password", new_password).await;
    click(b, "change-password").await;
    wait_text(b, "notice", "password was changed").await;
    let cookie = b.get_named_cookie("portal_session").await.unwrap();
    let cookie = format!("portal_session={}", cookie.value());
    click(b, "sign-out").await;
    wait_text(b, "notice", "You are signed out").await;
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/account", app.address))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303, "the signed-out cookie opens nothing");
    assert!(!replay.text().await.unwrap().contains(body));

    // The gate: a provider-set password to change shows only the password form.
    let temporary = "temporary harbor key 5521";
    let set = app
        .graphql(
            "mutation($i: SetClientPasswordInput!) { setClientPassword(input: $i) { client { id } } }",
            json!({ "i": { "clientId": id, "password": temporary, "requireChangeOnNextSignIn": true } }),
            Some(&provider.token),
        )
        .await;
    assert!(set["errors"].is_null(), "{set}");
    type_into(b, "email", "jane@example.com").await;
    type_into(b, "password", temporary).await;
    click(b, "sign-in").await;
    find(b, "password-required").await;
    assert!(!b.source().await.unwrap().contains(body));
    assert_accessible(b, &axe, "change-password-required").await;
    browser.close().await.unwrap();
}
