//! Accessibility checks in the browser: axe-core (npm, pinned in
//! `conformance/package-lock.json`) injected into the page through WebDriver (which
//! the pages' CSP does not govern), and where the focus is.
use fantoccini::Client;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// The WCAG 2.1 A and AA rules.
const TAGS: &str = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']";

fn conformance_dir() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("conformance")
}

/// axe-core's browser bundle, installed with `npm ci` in `conformance/` if missing.
pub fn source() -> String {
    let dir = conformance_dir();
    let bundle = dir.join("node_modules/axe-core/axe.min.js");
    if !bundle.exists() {
        let npm = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .expect("npm runs (apt-get install npm; ./test installs it)");
        assert!(
            npm.status.success(),
            "npm ci in conformance/ failed:\n{}",
            String::from_utf8_lossy(&npm.stderr)
        );
    }
    std::fs::read_to_string(&bundle).expect("axe.min.js")
}

/// Runs axe on the current page; panics listing every WCAG 2.1 A/AA violation.
pub async fn assert_accessible(browser: &Client, axe: &str, page: &str) {
    browser.execute(axe, vec![]).await.expect("axe loads");
    let run = format!(
        "const done = arguments[arguments.length - 1];
         axe.run(document, {{ runOnly: {{ type: 'tag', values: {TAGS} }} }})
           .then(r => done(r.violations.map(v => ({{
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)
           }}))))
           .catch(e => done('axe failed: ' + e));"
    );
    let violations = browser.execute_async(&run, vec![]).await.expect("axe runs");
    let none = violations.as_array().is_some_and(Vec::is_empty);
    assert!(
        none,
        "{page}: WCAG 2.1 A/AA violations:\n{}",
        serde_json::to_string_pretty(&violations).unwrap_or_default()
    );
}

/// Waits up to 10 s for the element with `id` to hold the focus.
pub async fn assert_focused(browser: &Client, id: &str) {
    let script = "return document.activeElement ? document.activeElement.id : null;";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut focused = Value::Null;
    while tokio::time::Instant::now() < deadline {
        focused = browser
            .execute(script, vec![])
            .await
            .expect("a script runs");
        if focused == id {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the focus is on {focused}, not #{id}");
}
