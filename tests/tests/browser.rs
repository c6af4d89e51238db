//! The account setup page in a real browser (Debian's Chromium, driven through
//! chromedriver over WebDriver): the link from a received email is opened, a weak
//! password refused, a good one accepted, and the client then signs in.
use fantoccini::{ClientBuilder, Locator};
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{Backend, Queue, spawn_mail_app};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_driver() -> (Driver, String) {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists(),
        "this test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver); .ci/run installs them"
    );
    // chromedriver cannot take a socket from the test, so a port released here may
    // be taken before it binds: a driver that exits is retried on another port, and
    // one that never answers fails the test instead of being used half-started.
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a loopback port")
            .port();
        let mut driver = Driver(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts"),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            if matches!(driver.0.try_wait(), Ok(Some(_))) {
                break;
            }
            let status = reqwest::get(format!("{url}/status")).await;
            if status.is_ok_and(|r| r.status().is_success())
                && matches!(driver.0.try_wait(), Ok(None))
            {
                return (driver, url);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("chromedriver did not start on any of five ports");
}

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
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=900,820",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    // chromedriver speaks plain HTTP on loopback: no TLS connector needed.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let browser = ClientBuilder::new(connector)
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&driver_url)
        .await
        .expect("a browser session");

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
