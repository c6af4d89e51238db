//! Abuse limits on the public operations: per IP and per account, `RATE_LIMITED` with
//! an honest retry time, the same for known and unknown accounts, shared by every
//! instance through Redis, and never a long lockout of the owner.
use access::clock::Clock;
use portal_tests::{Backend, PASSWORD, Queue, TestApp, error_code, in_both_modes, spawn_mail_app};
use serde_json::{Value, json};
use std::net::IpAddr;

in_both_modes!(
    a_burst_of_wrong_passwords_is_evaluated_at_most_five_times,
    wrong_passwords_slow_the_stranger_and_not_the_owner,
    many_strangers_lock_an_account_for_at_most_fifteen_minutes,
    links_and_password_resets_are_capped,
);

const WRONG: &str = "not the password at all 9";

/// Moves the app's clock just past a 15-minute boundary, so no limit window (5 or 15
/// minutes, aligned to the epoch) ends in the middle of a test.
fn align(app: &TestApp) {
    let quarter = 15 * 60 * 1000;
    let ms = app.clock.now().timestamp_millis();
    let to_boundary = quarter - ms.rem_euclid(quarter) + 1000;
    app.clock
        .advance(chrono::Duration::milliseconds(to_boundary));
}

/// An HTTP client whose requests come from `source` (any 127.0.0.0/8 address).
fn from(source: &str) -> reqwest::Client {
    let ip: IpAddr = source.parse().unwrap();
    reqwest::Client::builder()
        .local_address(ip)
        .build()
        .unwrap()
}

async fn post(app: &TestApp, http: &reqwest::Client, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables });
    let url = format!("{}/graphql", app.address);
    let resp = http.post(url).json(&body).send().await.expect("sent");
    resp.json().await.expect("JSON body")
}

const SIGN_IN: &str =
    "mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) { token } }";
const CLIENT_SIGN_IN: &str = "mutation($e: String!, $p: String!) { clientSignIn(input: {email: $e, password: $p}) { token } }";

async fn sign_in(app: &TestApp, http: &reqwest::Client, email: &str, password: &str) -> Value {
    post(app, http, SIGN_IN, json!({ "e": email, "p": password })).await
}

/// The `RATE_LIMITED` extensions, checked for an honest, short retry time.
fn assert_limited(body: &Value, at_most_seconds: i64) -> i64 {
    assert_eq!(error_code(body), Some("RATE_LIMITED"), "{body}");
    let ext = &body["errors"][0]["extensions"];
    let retry = ext["retryAfterSeconds"]
        .as_i64()
        .expect("retryAfterSeconds");
    assert!(
        (1..=at_most_seconds).contains(&retry),
        "retry after {retry}s"
    );
    let next = ext["nextAvailableAt"].as_str().expect("nextAvailableAt");
    chrono::DateTime::parse_from_rfc3339(next).expect("an RFC 3339 time");
    retry
}

async fn wrong_passwords_slow_the_stranger_and_not_the_owner(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    align(&app);
    let owner = app.signed_in_provider("Practice").await;
    let stranger = from("127.0.0.7");
    // Known and unknown addresses are slowed alike: the limit tells nobody who exists.
    for email in [owner.email.as_str(), "nobody@practice.test"] {
        for _ in 0..5 {
            let body = sign_in(&app, &stranger, email, WRONG).await;
            assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
        }
        assert_limited(&sign_in(&app, &stranger, email, WRONG).await, 300);
    }
    // Even the right password waits, from the stranger's address...
    let retry = assert_limited(&sign_in(&app, &stranger, &owner.email, PASSWORD).await, 300);
    // ...but the owner, elsewhere, signs in.
    let body = sign_in(&app, &from("127.0.0.8"), &owner.email, PASSWORD).await;
    assert!(body["data"]["signIn"]["token"].is_string(), "{body}");
    if queue == Queue::Redis {
        // A second instance shares the counts.
        let sibling = app.sibling(false).await;
        assert_limited(
            &sign_in(&sibling, &stranger, &owner.email, WRONG).await,
            300,
        );
    }
    // The wait is short and then over.
    app.clock.advance(chrono::Duration::seconds(retry));
    let body = sign_in(&app, &stranger, &owner.email, PASSWORD).await;
    assert!(body["data"]["signIn"]["token"].is_string(), "{body}");

    // Client sign-in has the same limits.
    for _ in 0..5 {
        let body = post(
            &app,
            &stranger,
            CLIENT_SIGN_IN,
            json!({ "e": "c@x.test", "p": WRONG }),
        )
        .await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    }
    let body = post(
        &app,
        &stranger,
        CLIENT_SIGN_IN,
        json!({ "e": "c@x.test", "p": WRONG }),
    )
    .await;
    assert_limited(&body, 300);
}

async fn many_strangers_lock_an_account_for_at_most_fifteen_minutes(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    align(&app);
    let owner = app.signed_in_provider("Practice").await;
    for n in 2..6 {
        let stranger = from(&format!("127.0.1.{n}"));
        for _ in 0..5 {
            let body = sign_in(&app, &stranger, &owner.email, WRONG).await;
            assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
        }
    }
    let home = from("127.0.0.9");
    let retry = assert_limited(&sign_in(&app, &home, &owner.email, PASSWORD).await, 15 * 60);
    app.clock.advance(chrono::Duration::seconds(retry));
    let body = sign_in(&app, &home, &owner.email, PASSWORD).await;
    assert!(body["data"]["signIn"]["token"].is_string(), "{body}");
}

async fn links_and_password_resets_are_capped(backend: Backend, queue: Queue) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    align(&app);
    let http = from("127.0.0.5");
    let status = "query($t: String!) { accountLink(token: $t) { state } }";
    let token = json!({ "t": "lnk_not-a-real-token" });
    for _ in 0..30 {
        let body = post(&app, &http, status, token.clone()).await;
        assert_eq!(body["data"]["accountLink"]["state"], "INVALID", "{body}");
    }
    assert_limited(&post(&app, &http, status, token).await, 300);
    // The setup page counts the same way and answers 429 with Retry-After.
    let page = format!("{}/account/setup?token=lnk_another", app.address);
    for _ in 0..30 {
        assert_eq!(http.get(&page).send().await.unwrap().status(), 404);
    }
    let refused = http.get(&page).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));

    let complete =
        "mutation($i: CompleteAccountLinkInput!) { completeAccountLink(input: $i) { token } }";
    let input =
        json!({ "i": { "token": "lnk_guess", "password": "lantern orbit violet canyon 42" } });
    for _ in 0..10 {
        let body = post(&app, &http, complete, input.clone()).await;
        assert_eq!(error_code(&body), Some("LINK_INVALID"), "{body}");
    }
    assert_limited(&post(&app, &http, complete, input).await, 300);

    let reset = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    for _ in 0..5 {
        let body = post(&app, &http, reset, json!({ "e": "pat@example.com" })).await;
        assert_eq!(body["data"]["requestPasswordReset"], true, "{body}");
    }
    assert_limited(
        &post(&app, &http, reset, json!({ "e": "pat@example.com" })).await,
        900,
    );
    // Per IP: ten requests in 15 minutes, whatever the addresses (a refused request
    // takes nothing, so five more pass).
    for n in 0..5 {
        let body = post(
            &app,
            &http,
            reset,
            json!({ "e": format!("p{n}@example.com") }),
        )
        .await;
        assert_eq!(body["data"]["requestPasswordReset"], true, "{body}");
    }
    assert_limited(
        &post(&app, &http, reset, json!({ "e": "q@example.com" })).await,
        900,
    );
}

async fn a_burst_of_wrong_passwords_is_evaluated_at_most_five_times(
    backend: Backend,
    queue: Queue,
) {
    let app = spawn_mail_app(backend, queue, &[]).await;
    align(&app);
    let owner = app.signed_in_provider("Practice").await;
    // With Redis, half the burst goes through a second instance: the count is shared.
    let sibling = match queue {
        Queue::Redis => Some(app.sibling(false).await),
        Queue::Embedded => None,
    };
    let stranger = from("127.0.0.9");
    let burst = (0..30).map(|i| {
        let target = match (&sibling, i % 2) {
            (Some(sibling), 1) => sibling,
            _ => &app,
        };
        sign_in(target, &stranger, &owner.email, WRONG)
    });
    let answers = futures_util::future::join_all(burst).await;
    let codes: Vec<_> = answers.iter().map(error_code).collect();
    let evaluated = codes
        .iter()
        .filter(|c| **c == Some("UNAUTHENTICATED"))
        .count();
    let limited = codes.iter().filter(|c| **c == Some("RATE_LIMITED")).count();
    assert_eq!((evaluated, limited), (5, 25), "{codes:?}");
    // The owner, from their own address, is not locked out.
    let body = sign_in(&app, &from("127.0.0.10"), &owner.email, PASSWORD).await;
    assert!(body["data"]["signIn"]["token"].is_string(), "{body}");
}
