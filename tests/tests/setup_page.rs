//! The account setup page over plain HTTP: reading never uses a link, the form is
//! CSRF-protected, weak passwords are refused, success names the pending forms.
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::{Backend, Queue, TestApp, in_both_modes, spawn_mail_app};
use reqwest::StatusCode;

in_both_modes!(
    the_setup_page_shows_the_link_and_sets_the_password_once,
    the_forgot_password_page_sends_a_link_without_saying_who_exists,
);

/// GETs the page; returns status, body and the CSRF cookie and form token.
async fn open(app: &TestApp, token: &str) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let resp = app
        .http
        .get(format!("{}/account/setup", app.address))
        .query(&[("token", token)])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, resp.text().await.unwrap(), headers)
}

fn csrf_pair(headers: &reqwest::header::HeaderMap, body: &str) -> (String, String) {
    let cookie = headers["set-cookie"].to_str().unwrap();
    let value = cookie.split(';').next().unwrap().to_owned();
    let start = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let field = body[start..].split('"').next().unwrap().to_owned();
    (value, field)
}

fn fields(token: &str, password: &str, confirm: &str, csrf: &str) -> Vec<(String, String)> {
    [
        ("token", token),
        ("password", password),
        ("confirm", confirm),
        ("csrf", csrf),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

async fn post(app: &TestApp, cookie: &str, fields: &[(String, String)]) -> (StatusCode, String) {
    let resp = app
        .http
        .post(format!("{}/account/setup", app.address))
        .header("cookie", cookie)
        .form(fields)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

async fn the_setup_page_shows_the_link_and_sets_the_password_once(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Harbor & Pine").await;
    app.invite_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let mail = app.smtp().wait_for("jane@example.com", 1).await;
    let link_text = mail[0].text();
    assert!(
        link_text.contains(&format!("{}/account/setup?token=", app.address)),
        "{link_text}"
    );
    let token = mail[0].token().unwrap();

    let (status, body, headers) = open(&app, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Hello Jane") && body.contains("Harbor &amp; Pine"),
        "{body}"
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    for _ in 0..2 {
        open(&app, &token).await;
    }
    assert_eq!(
        app.link_status(&token).await["state"],
        "VALID",
        "GETs never use the link"
    );

    let (cookie, csrf) = csrf_pair(&headers, &body);
    let good = fields(&token, CLIENT_PASSWORD, CLIENT_PASSWORD, &csrf);
    // A cross-site post (a forged token, or no cookie) is refused and changes nothing.
    let forged = fields(&token, CLIENT_PASSWORD, CLIENT_PASSWORD, "forged");
    assert_eq!(post(&app, &cookie, &forged).await.0, StatusCode::FORBIDDEN);
    assert_eq!(post(&app, "", &good).await.0, StatusCode::FORBIDDEN);
    let cross_site = app
        .http
        .post(format!("{}/account/setup", app.address))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let differ = fields(&token, CLIENT_PASSWORD, "something else entirely", &csrf);
    let (status, body) = post(&app, &cookie, &differ).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("The two passwords differ"));
    let weak = fields(&token, "password123", "password123", &csrf);
    let (status, body) = post(&app, &cookie, &weak).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The error summary takes the focus without script; the field points at its message.
    assert!(
        body.contains("id=\"error-summary\" role=\"alert\" tabindex=\"-1\" autofocus"),
        "{body}"
    );
    assert!(
        body.contains("aria-invalid=\"true\" aria-describedby=\"password-error password-hint\""),
        "{body}"
    );
    assert!(body.contains("id=\"password-error\""), "{body}");
    assert_eq!(app.link_status(&token).await["state"], "VALID");

    let (status, body) = post(&app, &cookie, &good).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Your password is set"));
    let sign_in = format!("href=\"{}/account/sign-in\"", app.address);
    assert!(
        body.contains(&sign_in),
        "the done page links to sign-in: {body}"
    );
    assert_eq!(app.link_status(&token).await["state"], "USED");
    let (status, body, _) = open(&app, &token).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("already used"));
    let signed = app
        .client_sign_in("jane@example.com", CLIENT_PASSWORD)
        .await;
    assert!(
        signed["data"]["clientSignIn"]["token"].is_string(),
        "{signed}"
    );
    let (status, body, _) = open(&app, "lnk_nonsense").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("not valid"));
}

async fn the_forgot_password_page_sends_a_link_without_saying_who_exists(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    app.invite_client(&provider.token, "Jane", "jane@example.com")
        .await;
    app.smtp().wait_for("jane@example.com", 1).await;
    let page = app
        .http
        .get(format!("{}/account/forgot", app.address))
        .send()
        .await
        .unwrap();
    let headers = page.headers().clone();
    let body = page.text().await.unwrap();
    let (cookie, csrf) = csrf_pair(&headers, &body);
    let mut answers = Vec::new();
    for email in ["nobody@example.com", "jane@example.com"] {
        let resp = app
            .http
            .post(format!("{}/account/forgot", app.address))
            .header("cookie", &cookie)
            .form(&[("email", email), ("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        answers.push((resp.status(), resp.text().await.unwrap()));
    }
    assert_eq!(
        answers[0], answers[1],
        "the same answer for unknown and known addresses"
    );
    assert!(answers[0].1.contains("Check your email"));
    let mail = app.smtp().wait_for("jane@example.com", 2).await;
    assert!(mail[1].token().is_some());
}
