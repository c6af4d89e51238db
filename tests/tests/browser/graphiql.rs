//! GraphiQL as an admin meets it, in a browser that reaches nothing but the
//! service: the page loads from the service alone, the documentation explorer
//! lists the schema, and a query with a bearer token in the headers tab answers.
use fantoccini::{Client, Locator, elements::Element, key::Key};
use portal_tests::browser::{headless_offline, start_driver};
use portal_tests::{Backend, spawn_app};
use serde_json::Value;
use std::time::Duration;

/// Waits up to 20 s for `xpath`; on failure shows the page it got.
async fn find(browser: &Client, xpath: &str) -> Element {
    let found = browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(xpath))
        .await;
    match found {
        Ok(element) => element,
        Err(e) => {
            let source = browser.source().await.unwrap_or_default();
            panic!("{xpath} not found ({e}):\n{source}");
        }
    }
}

/// Replaces the text of the CodeMirror editor in `editor` by typing, as a user does.
async fn type_into(browser: &Client, editor: &Element, text: &str) {
    editor.click().await.unwrap();
    let select_all = format!("{}a{}", char::from(Key::Control), char::from(Key::Control));
    let textarea = editor.find(Locator::Css("textarea")).await.unwrap();
    textarea.send_keys(&select_all).await.unwrap();
    textarea
        .send_keys(&char::from(Key::Delete).to_string())
        .await
        .unwrap();
    textarea.send_keys(text).await.unwrap();
    let typed = browser
        .execute(
            "return arguments[0].querySelector('.CodeMirror').CodeMirror.getValue()",
            vec![serde_json::to_value(editor).unwrap()],
        )
        .await
        .unwrap();
    assert_eq!(typed, text, "the editor holds what was typed");
}

/// The JSON the result pane shows, once it shows something (up to 20 s).
async fn result(browser: &Client) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let shown = browser
            .execute(
                "return document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()",
                vec![],
            )
            .await
            .unwrap();
        let shown = shown.as_str().unwrap_or_default();
        if !shown.is_empty() {
            return serde_json::from_str(shown).unwrap_or_else(|e| panic!("{e}: {shown}"));
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the result pane stayed empty"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every URL the page fetched (itself included), from the browser's resource timing.
async fn fetched_urls(browser: &Client) -> Vec<String> {
    let urls = browser
        .execute(
            "return performance.getEntries()\
               .filter(e => e.entryType === 'navigation' || e.entryType === 'resource')\
               .map(e => e.name)",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(urls).unwrap()
}

/// The Content-Security-Policy violations the page reported since it loaded.
async fn csp_violations(browser: &Client) -> Value {
    browser
        .execute(
            "const o = new ReportingObserver(() => {}, { types: ['csp-violation'], buffered: true });\
             o.observe();\
             const seen = o.takeRecords().map(r => r.body.effectiveDirective + ' ' + r.body.blockedURL);\
             o.disconnect();\
             return seen;",
            vec![],
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_works_offline_lists_the_schema_and_runs_a_query_with_a_bearer_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let provider = app.signed_in_provider("GraphiQL Practice").await;

    let profile = tempfile::tempdir().unwrap();
    let (_driver, driver_url) = start_driver().await;
    let browser = headless_offline(&driver_url, profile.path()).await;
    browser
        .goto(&format!("{}/graphiql", app.address))
        .await
        .unwrap();

    find(
        &browser,
        "//button[@aria-label='Show Documentation Explorer']",
    )
    .await
    .click()
    .await
    .unwrap();
    find(
        &browser,
        "//span[@class='graphiql-doc-explorer-root-type' and text()='mutation']/following-sibling::a",
    )
    .await
    .click()
    .await
    .unwrap();
    find(
        &browser,
        "//a[contains(@class, 'graphiql-doc-explorer-field-name') and text()='resendWelcomeEmail']",
    )
    .await;

    find(&browser, "//button[@data-name='headers']")
        .await
        .click()
        .await
        .unwrap();
    let headers = find(
        &browser,
        "//section[contains(@class, 'graphiql-editor-tool')]//div[contains(concat(' ', @class, ' '), ' graphiql-editor ') and not(contains(@class, 'hidden'))]",
    )
    .await;
    let bearer = format!(r#"{{"Authorization": "Bearer {}"}}"#, provider.token);
    type_into(&browser, &headers, &bearer).await;

    let query = find(
        &browser,
        "//section[contains(@class, 'graphiql-query-editor')]//div[contains(concat(' ', @class, ' '), ' graphiql-editor ')]",
    )
    .await;
    // Named like the welcome query: GraphiQL takes the operation name from the
    // editor 100 ms after the last keystroke, and a click before that sends the
    // old name (upstream's debounce in @graphiql/react).
    type_into(
        &browser,
        &query,
        "query Me { me { ... on Provider { email } } }",
    )
    .await;
    find(
        &browser,
        "//button[contains(@class, 'graphiql-execute-button')]",
    )
    .await
    .click()
    .await
    .unwrap();
    let answer = result(&browser).await;
    assert_eq!(
        answer["data"]["me"]["email"],
        provider.email.as_str(),
        "{answer}"
    );

    // A dialog: GraphiQL adds a <style> element, allowed by the page's nonce.
    find(&browser, "//button[@aria-label='Open settings dialog']")
        .await
        .click()
        .await
        .unwrap();
    find(&browser, "//*[@role='dialog']").await;
    let nonced = browser
        .execute(
            "return document.querySelectorAll('style[nonce]').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(nonced, 1, "the dialog's style element carries the nonce");
    assert_eq!(csp_violations(&browser).await, serde_json::json!([]));
    let foreign: Vec<String> = fetched_urls(&browser)
        .await
        .into_iter()
        .filter(|url| !url.starts_with(&format!("{}/", app.address)))
        .collect();
    assert!(foreign.is_empty(), "loaded from elsewhere: {foreign:?}");
    browser.close().await.unwrap();
}
