//! A browser's part in the account pages over plain HTTP: cookies kept between
//! requests (set by `Set-Cookie`, removed at `Max-Age=0`), redirects not followed
//! (tests look at them), and each form post carrying the CSRF token of the last
//! page read.
use crate::TestApp;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// One answer from a page.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// Where a redirect leads.
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    /// The `Set-Cookie` header that sets `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

/// A visitor of the account pages with a cookie jar of its own.
pub struct Visitor {
    address: String,
    http: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
    csrf: Mutex<String>,
}

impl Visitor {
    /// A visitor with no cookies yet.
    pub fn new(app: &TestApp) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Self {
            address: app.address.clone(),
            http,
            cookies: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(String::new()),
        }
    }

    /// The cookie `name`, if the jar holds it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    /// Puts a cookie in the jar (an old session's, say).
    pub fn set_cookie(&self, name: &str, value: &str) {
        let mut jar = self.cookies.lock().unwrap();
        jar.insert(name.to_owned(), value.to_owned());
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().unwrap();
        let pairs: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join("; ")
    }

    async fn keep(&self, resp: reqwest::Response) -> Page {
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await.expect("a body");
        {
            let mut jar = self.cookies.lock().unwrap();
            for set in headers.get_all("set-cookie").iter() {
                let set = set.to_str().unwrap_or_default();
                let pair = set.split(';').next().unwrap_or_default();
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                match set.contains("Max-Age=0") {
                    true => jar.remove(name),
                    false => jar.insert(name.to_owned(), value.to_owned()),
                };
            }
        }
        if let Some(start) = body.find("name=\"csrf\" value=\"") {
            let token = body[start + 19..].split('"').next().unwrap_or_default();
            *self.csrf.lock().unwrap() = token.to_owned();
        }
        Page {
            status,
            headers,
            body,
        }
    }

    /// GETs `path` (like `/account`).
    pub async fn get(&self, path: &str) -> Page {
        let resp = self
            .http
            .get(format!("{}{path}", self.address))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("the page answers");
        self.keep(resp).await
    }

    /// POSTs a form to `path` as the page's own form would (same origin, with the
    /// CSRF token of the last page read).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.lock().unwrap().clone();
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &csrf));
        let resp = self
            .http
            .post(format!("{}{path}", self.address))
            .header("cookie", self.cookie_header())
            .header("sec-fetch-site", "same-origin")
            .form(&form)
            .send()
            .await
            .expect("the form answers");
        self.keep(resp).await
    }

    /// Opens the sign-in page and signs in.
    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.get("/account/sign-in").await;
        let fields = [("email", email), ("password", password)];
        self.post("/account/sign-in", &fields).await
    }
}
