//! A browser app on another origin: a page served from its own port `fetch`es the
//! API, signs in and runs a query; a page from an origin not on the list is blocked
//! by the browser itself.
use fantoccini::{Client, Locator};
use portal_tests::browser::{headless, start_driver};
use portal_tests::{Backend, PASSWORD, spawn_app_with};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `html` to every request on `listener` (a one-page "frontend").
fn serve_page(listener: TcpListener, html: String) {
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let html = html.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
                    html.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
}

/// A page whose script signs in at `api` and asks `me`, then writes the outcome
/// into `#outcome` (`ok <email>` or `blocked <error>`).
fn page(api: &str, email: &str) -> String {
    format!(
        r#"<!doctype html><html><body><p>frontend</p><script>
const api = {api:?};
async function post(query, variables, token) {{
  const headers = {{ "Content-Type": "application/json" }};
  if (token) headers["Authorization"] = "Bearer " + token;
  const r = await fetch(api, {{ method: "POST", headers, body: JSON.stringify({{ query, variables }}) }});
  return r.json();
}}
function finish(text) {{
  const p = document.createElement("p");
  p.id = "outcome";
  p.textContent = text;
  document.body.appendChild(p);
}}
(async () => {{
  try {{
    const signIn = await post("mutation($e: String!, $p: String!) {{ signIn(input: {{email: $e, password: $p}}) {{ token }} }}", {{ e: {email:?}, p: {PASSWORD:?} }});
    const token = signIn.data.signIn.token;
    const me = await post("{{ me {{ ... on Provider {{ email }} }} }}", {{}}, token);
    finish("ok " + me.data.me.email);
  }} catch (e) {{
    finish("blocked " + e);
  }}
}})();
</script></body></html>"#
    )
}

async fn outcome(browser: &Client, url: &str) -> String {
    browser.goto(url).await.unwrap();
    let found = browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("outcome"))
        .await;
    match found {
        Ok(element) => element.text().await.unwrap(),
        Err(e) => panic!(
            "no outcome ({e}) at {url}:\n{}",
            browser.source().await.unwrap_or_default()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_app_on_an_allowed_origin_signs_in_and_queries_and_others_are_blocked() {
    let allowed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let allowed_origin = format!("http://127.0.0.1:{}", allowed.local_addr().unwrap().port());
    let other_origin = format!("http://127.0.0.1:{}", other.local_addr().unwrap().port());
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("CORS_ALLOWED_ORIGINS", allowed_origin.as_str())],
    )
    .await;
    let email = "dr.cors@practice.test";
    app.create_provider("Cross Origin Practice", email).await;
    let api = format!("{}/graphql", app.address);
    serve_page(allowed, page(&api, email));
    serve_page(other, page(&api, email));

    let profile = tempfile::tempdir().unwrap();
    let (_driver, driver_url) = start_driver().await;
    let browser = headless(&driver_url, profile.path()).await;

    let text = outcome(&browser, &format!("{allowed_origin}/")).await;
    assert_eq!(text, format!("ok {email}"));
    let text = outcome(&browser, &format!("{other_origin}/")).await;
    assert!(text.starts_with("blocked TypeError"), "{text}");
    browser.close().await.unwrap();
}
