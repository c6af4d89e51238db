//! Sign-in on the page and the session cookie: the same answers and limits as
//! `clientSignIn`, the cookie's attributes, and what ends the session.
use super::{COOKIE, client_with_work, set_password};
use portal_tests::mail::CLIENT_PASSWORD;
use portal_tests::pages::Visitor;
use portal_tests::{Backend, Queue, in_both_modes, spawn_mail_app};
use reqwest::StatusCode;
use serde_json::json;

in_both_modes!(
    the_sign_in_page_answers_an_unknown_address_like_a_wrong_password,
    the_sign_in_page_has_the_abuse_limits_of_client_sign_in,
    a_password_set_elsewhere_ends_the_page_session,
);

/// The sign-in answer with the per-render CSRF token taken out.
fn without_csrf(body: &str) -> String {
    let start = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let end = start + body[start..].find('"').unwrap();
    format!("{}{}", &body[..start], &body[end..])
}

async fn the_sign_in_page_answers_an_unknown_address_like_a_wrong_password(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    app.signed_in_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let visitor = Visitor::new(&app);
    let wrong = visitor
        .sign_in("jane@example.com", "not the password at all")
        .await;
    let unknown = visitor
        .sign_in("nobody@example.com", "not the password at all")
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.status, unknown.status);
    let unknown_body = without_csrf(&unknown.body).replace("nobody@", "jane@");
    assert_eq!(without_csrf(&wrong.body), unknown_body);
    assert!(wrong.set_cookie(COOKIE).is_none());
    // The error summary takes the focus; the field is marked and described.
    assert!(
        wrong
            .body
            .contains("id=\"error-summary\" role=\"alert\" tabindex=\"-1\" autofocus")
    );
    assert!(
        wrong
            .body
            .contains("aria-invalid=\"true\" aria-describedby=\"email-error\"")
    );
    assert!(
        wrong.body.contains("<title>Error: Sign in"),
        "{}",
        wrong.body
    );

    // A form from elsewhere is refused before any password work.
    let forged = Visitor::new(&app);
    let fields = [("email", "jane@example.com"), ("password", CLIENT_PASSWORD)];
    let refused = forged.post("/account/sign-in", &fields).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.set_cookie(COOKIE).is_none());
}

async fn the_sign_in_page_has_the_abuse_limits_of_client_sign_in(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    app.signed_in_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let visitor = Visitor::new(&app);
    for _ in 0..5 {
        let wrong = visitor
            .sign_in("jane@example.com", "wrong password here")
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // The right password too, once the account's attempts are used up.
    let limited = visitor.sign_in("jane@example.com", CLIENT_PASSWORD).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    let retry: i64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0);
    assert!(limited.set_cookie(COOKIE).is_none());
    // The page and clientSignIn count the same attempts.
    let api = app
        .client_sign_in("jane@example.com", CLIENT_PASSWORD)
        .await;
    assert_eq!(
        portal_tests::error_code(&api),
        Some("RATE_LIMITED"),
        "{api}"
    );
}

async fn a_password_set_elsewhere_ends_the_page_session(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    let (provider, id) = client_with_work(&app).await;
    let visitor = Visitor::new(&app);
    visitor.sign_in("jane@example.com", CLIENT_PASSWORD).await;
    assert_eq!(visitor.get("/account").await.status, StatusCode::OK);
    set_password(&app, &provider, &id, "temporary harbor key 5521", false).await;
    let ended = visitor.get("/account").await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(ended.location(), Some("/account/sign-in"));

    // The client's own changePassword from another session (an app) ends it too.
    let temporary = "temporary harbor key 5521";
    visitor.sign_in("jane@example.com", temporary).await;
    assert_eq!(visitor.get("/account").await.status, StatusCode::OK);
    let signed = app.client_sign_in("jane@example.com", temporary).await;
    let token = signed["data"]["clientSignIn"]["token"].as_str().unwrap();
    let changed = app
        .graphql(
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { client { id } } }",
            json!({ "i": { "currentPassword": temporary, "newPassword": "a fresh strong passphrase 8" } }),
            Some(token),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");
    assert_eq!(visitor.get("/account").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_cookie_is_secure_and_host_only() {
    let https = [("PUBLIC_URL", "https://portal.harbor.test")];
    let app = spawn_mail_app(Backend::Sqlite, Queue::Embedded, &https).await;
    let provider = app.signed_in_provider("Practice").await;
    app.signed_in_client(&provider.token, "Jane", "jane@example.com")
        .await;
    let visitor = Visitor::new(&app);
    let signed = visitor.sign_in("jane@example.com", CLIENT_PASSWORD).await;
    let cookie = signed
        .set_cookie("__Host-portal_session")
        .expect("a __Host- cookie");
    for attribute in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert_eq!(visitor.get("/account").await.status, StatusCode::OK);
    // The plain name is not read over https.
    let token = visitor.cookie("__Host-portal_session").unwrap();
    let other = Visitor::new(&app);
    other.set_cookie(COOKIE, &token);
    assert_eq!(other.get("/account").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_larger_than_any_page_sends_is_refused_unread() {
    let app = spawn_mail_app(Backend::Sqlite, Queue::Embedded, &[]).await;
    let visitor = Visitor::new(&app);
    visitor.get("/account/sign-in").await;
    let big = "x".repeat(300 * 1024);
    let fields = [("email", big.as_str()), ("password", "anything at all")];
    let refused = visitor.post("/account/sign-in", &fields).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    let fits = [
        ("email", "jane@example.com"),
        ("password", "anything at all"),
    ];
    let answered = visitor.post("/account/sign-in", &fits).await;
    assert_eq!(answered.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_of_the_home_page_refuses_a_post_from_elsewhere() {
    let app = spawn_mail_app(Backend::Sqlite, Queue::Embedded, &[]).await;
    client_with_work(&app).await;
    let visitor = Visitor::new(&app);
    visitor.sign_in("jane@example.com", CLIENT_PASSWORD).await;
    // Another site's form: the browser sends the Lax session cookie on a top-level
    // POST navigation, but it has neither the CSRF cookie nor the token.
    let forger = Visitor::new(&app);
    forger.set_cookie(COOKIE, &visitor.cookie(COOKIE).unwrap());
    let password = [
        ("current_password", CLIENT_PASSWORD),
        ("new_password", "a forged new passphrase 9"),
        ("confirm_password", "a forged new passphrase 9"),
    ];
    for (path, fields) in [
        ("/account/password", &password[..]),
        ("/account/intake", &[("assignment", "x")][..]),
        ("/account/sign-out", &[][..]),
    ] {
        let refused = forger.post(path, fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        visitor.get("/account").await.status,
        StatusCode::OK,
        "still signed in"
    );
    let old = app
        .client_sign_in("jane@example.com", CLIENT_PASSWORD)
        .await;
    assert!(
        old["data"]["clientSignIn"]["token"].is_string(),
        "password unchanged: {old}"
    );
}
