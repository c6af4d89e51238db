//! The account setup page in a real browser (Debian's Chromium, driven through
//! chromedriver over WebDriver): the link from a received email is opened, a weak
//! password refused, a good one accepted, and the client then signs in. GraphiQL,
//! offline, in tests/tests/browser/graphiql.rs.
use fantoccini::Locator;
use portal_tests::browser::{headless, start_driver};
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{Backend, Queue, spawn_mail_app};
use serde_json::json;
use std::time::Duration;

#[path = "browser/graphiql.rs"]
mod graphiql;

/// Waits up to 15 s for the element with `id`; on failure shows the page it got.
async fn find(browser: &fantoccini::Client, id: &str) -> fantoccini::elements::Element {
    let found = browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id(id))
        .await;
    match found {
        Ok(element) => element,
        Err(e) => {
            let url = browser
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let source = browser.source().await.unwrap_or_default();
            panic!("#{id} not found ({e}) at {url}:\n{source}");
        }
    }
}

/// Where the screenshot goes: `target/test-artifacts/` (kept after the run).
fn artifact_path(name: &str) -> std::path::PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir.join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sets_up_their_account_in_a_real_browser() {
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[]).await;
    let provider = app.signed_in_provider("Harbor & Pine Therapy").await;
    let id = app
        .invite_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let form = app
        .graphql(
            "mutation { createIntakeForm(input: {title: \"Health history\"}) { form { id } } }",
            json!({}),
            Some(&provider.token),
        )
        .await;
    let form_id = form["data"]["createIntakeForm"]["form"]["id"]
        .as_str()
        .unwrap();
    app.graphql(
        "mutation($i: AssignIntakeFormInput!) { assignIntakeForm(input: $i) { assignment { id } } }",
        json!({ "i": { "clientId": id, "formId": form_id } }),
        Some(&provider.token),
    )
    .await;

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
    let error = find(&browser, "error").await;
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
