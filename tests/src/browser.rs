//! Headless Chromium through chromedriver (Debian's `chromium` and `chromium-driver`).
use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A running chromedriver, killed when dropped.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver and returns it with its URL.
pub async fn start_driver() -> (Driver, String) {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists(),
        "this test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver); ./test installs them"
    );
    // chromedriver cannot take a socket from the test, so a port released here may
    // be taken before it binds: a driver that exits is retried on another port, and
    // one that never answers fails the test instead of being used half-started.
    for _ in 0..5 {
        let port = crate::ports::released_port();
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

/// A headless browser session with its own profile in `profile`.
pub async fn headless(driver_url: &str, profile: &std::path::Path) -> Client {
    session(driver_url, profile, &[]).await
}

/// Like [`headless`], but only loopback is reachable: every other host resolves to
/// nothing and goes to a proxy that hangs up, so a page that needs the internet
/// (a CDN) fails to load.
pub async fn headless_offline(driver_url: &str, profile: &std::path::Path) -> Client {
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port for the proxy");
    let address = proxy.local_addr().expect("the proxy's address");
    tokio::spawn(async move {
        while let Ok((socket, _)) = proxy.accept().await {
            drop(socket);
        }
    });
    // Chromium sends loopback addresses direct, never to the proxy.
    let args = [
        format!("--proxy-server=http://{address}"),
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".to_owned(),
    ];
    session(driver_url, profile, &args).await
}

async fn session(driver_url: &str, profile: &std::path::Path, extra: &[String]) -> Client {
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--no-first-run".to_owned(),
        "--window-size=900,820".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    args.extend_from_slice(extra);
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
    });
    let caps = caps.as_object().cloned().unwrap_or_default();
    // chromedriver speaks plain HTTP on loopback: no TLS connector needed.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(driver_url)
        .await
        .expect("a browser session")
}

/// Waits up to 15 s for the element with `id`; on failure shows the page it got.
pub async fn find(browser: &fantoccini::Client, id: &str) -> fantoccini::elements::Element {
    let found = browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(fantoccini::Locator::Id(id))
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
pub fn artifact_path(name: &str) -> std::path::PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir.join(name)
}

/// Saves a screenshot of the page in a `width`×`height` window as `name` under
/// `target/test-artifacts/` and, when `SCREENSHOTS_DIR` is set, there too (a
/// relative directory is taken from the workspace root: `SCREENSHOTS_DIR=docs/screenshots`).
pub async fn screenshot(browser: &fantoccini::Client, name: &str, width: u32, height: u32) {
    browser
        .set_window_size(width, height)
        .await
        .expect("the window resizes");
    let png = browser.screenshot().await.expect("a screenshot");
    std::fs::write(artifact_path(name), &png).expect("the artifact is written");
    if let Some(dir) = std::env::var_os("SCREENSHOTS_DIR") {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = root.join(dir);
        std::fs::create_dir_all(&dir).expect("SCREENSHOTS_DIR can be created");
        std::fs::write(dir.join(name), &png).expect("the screenshot is written");
    }
}
