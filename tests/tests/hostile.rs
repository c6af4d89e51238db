//! Hostile input: thousands of malformed and hostile requests (a fixed list of classic
//! nasties plus cases generated from a seeded RNG), anonymous and signed in. Never a
//! 5xx, never `INTERNAL`, every error has a code, and the server answers afterwards.
#[path = "hostile/cases.rs"]
mod cases;
#[path = "hostile/classics.rs"]
mod classics;
#[path = "hostile/limits.rs"]
mod limits;
#[path = "hostile/values.rs"]
mod values;

use cases::{Case, Targets};
use portal_tests::{Backend, TestApp, spawn_app};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const SEED: u64 = 0x5EED_F022;
const GENERATED: usize = 3_200;
const SENDERS: usize = 4;

/// What one case got back: a status, or a closed connection.
enum Outcome {
    Status(u16, Vec<u8>),
    Closed(String),
}

async fn send(app: &TestApp, http: &reqwest::Client, token: &str, case: &Case) -> Outcome {
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("method");
    let mut req = http
        .request(method, format!("{}/graphql", app.address))
        .body(case.body.clone());
    if let Some(ct) = &case.content_type {
        req = req.header("content-type", ct);
    }
    if case.signed_in {
        req = req.bearer_auth(token);
    }
    for (name, value) in &case.headers {
        req = req.header(name, value);
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            Outcome::Status(status, body)
        }
        Err(e) => Outcome::Closed(format!("{e:?}")),
    }
}

/// Every problem with one answer; empty when it is acceptable.
fn problems(case: &Case, outcome: &Outcome) -> Vec<String> {
    let (status, body) = match outcome {
        Outcome::Closed(_) if case.below_graphql => return vec![],
        Outcome::Closed(e) => return vec![format!("connection failed: {e}")],
        Outcome::Status(s, b) => (*s, b),
    };
    let mut found = vec![];
    if status >= 500 {
        found.push(format!("status {status}"));
    }
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        if !(case.below_graphql && (400..500).contains(&status)) {
            found.push(format!("status {status} with a body that is not JSON"));
        }
        return found;
    };
    let results = match &json {
        Value::Array(items) => items.iter().collect(),
        _ => vec![&json],
    };
    for result in results {
        if (200..300).contains(&status)
            && result.get("data").is_none()
            && result.get("errors").is_none()
        {
            found.push(format!("a result with neither data nor errors: {result}"));
        }
        for error in result["errors"].as_array().into_iter().flatten() {
            match error["extensions"]["code"].as_str() {
                None => found.push(format!("an error without a code: {error}")),
                Some("INTERNAL") => found.push(format!("INTERNAL: {error}")),
                Some(_) => {}
            }
        }
    }
    found
}

struct Tally {
    sent: usize,
    by_status: BTreeMap<String, usize>,
    by_code: BTreeMap<String, usize>,
    /// Results with data and no error: hostile input that services accepted.
    succeeded: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, case: &Case, outcome: &Outcome) {
        self.sent += 1;
        let key = match outcome {
            Outcome::Status(s, body) => {
                if let Ok(v) = serde_json::from_slice::<Value>(body) {
                    let results = v.as_array().cloned().unwrap_or_else(|| vec![v]);
                    self.succeeded += results
                        .iter()
                        .filter(|r| {
                            r["errors"].is_null()
                                && r["data"]
                                    .as_object()
                                    .is_some_and(|d| d.values().all(|v| !v.is_null()))
                        })
                        .count();
                    for e in results
                        .iter()
                        .flat_map(|r| r["errors"].as_array().cloned().unwrap_or_default())
                    {
                        let code = e["extensions"]["code"]
                            .as_str()
                            .unwrap_or("(none)")
                            .to_owned();
                        *self.by_code.entry(code).or_default() += 1;
                    }
                }
                s.to_string()
            }
            Outcome::Closed(_) => "closed".into(),
        };
        *self.by_status.entry(key).or_default() += 1;
        for p in problems(case, outcome) {
            let preview =
                String::from_utf8_lossy(&case.body[..case.body.len().min(300)]).into_owned();
            self.failures
                .push(format!("[{}] {p}\n    request: {preview}", case.kind));
        }
    }
}

async fn run_all(app: Arc<TestApp>, token: Arc<String>, cases: Vec<Case>) -> Tally {
    let mut chunks: Vec<Vec<Case>> = (0..SENDERS).map(|_| vec![]).collect();
    for (i, case) in cases.into_iter().enumerate() {
        chunks[i % SENDERS].push(case);
    }
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let (app, token) = (app.clone(), token.clone());
            tokio::spawn(async move {
                // A fresh connection per request: a connection the server closed after
                // refusing a body unread is never reused, so every close seen is real.
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .build()
                    .expect("client");
                let mut outcomes = vec![];
                for case in chunk {
                    let outcome = send(&app, &http, &token, &case).await;
                    outcomes.push((case, outcome));
                }
                outcomes
            })
        })
        .collect();
    let mut tally = Tally {
        sent: 0,
        by_status: BTreeMap::new(),
        by_code: BTreeMap::new(),
        succeeded: 0,
        failures: vec![],
    };
    for task in tasks {
        for (case, outcome) in task.await.expect("sender finished") {
            tally.record(&case, &outcome);
        }
    }
    tally
}

async fn targets(app: &TestApp, token: &str) -> Targets {
    let created = app
        .create_client(token, "Jane", "Doe", Some("jane.doe@example.com"))
        .await;
    let client_id = created["data"]["createClient"]["client"]["id"]
        .as_str()
        .expect("client")
        .to_owned();
    let form = app
        .graphql(
            "mutation { createIntakeForm(input: {title: \"Intake\", questions: [\"Why?\"]}) { form { id } } }",
            json!({}),
            Some(token),
        )
        .await;
    let form_id = form["data"]["createIntakeForm"]["form"]["id"]
        .as_str()
        .expect("form")
        .to_owned();
    Targets { client_id, form_id }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_hostile_requests_get_no_5xx_no_internal_and_the_server_answers_after() {
    let app = spawn_app(Backend::Postgres).await;
    let provider = app.signed_in_provider("Hostile Practice").await;
    let targets = targets(&app, &provider.token).await;
    let mut all = classics::classics(&targets);
    let classic_count = all.len();
    all.extend(cases::generated(SEED, GENERATED, &targets));
    let (app, token) = (Arc::new(app), Arc::new(provider.token.clone()));
    let tally = run_all(app.clone(), token, all).await;

    let five_xx: usize = tally
        .by_status
        .iter()
        .filter(|(s, _)| s.starts_with('5'))
        .map(|(_, n)| n)
        .sum();
    println!(
        "hostile input: {} cases sent ({classic_count} classic, {GENERATED} generated, seed {SEED:#x})",
        tally.sent
    );
    println!("by status: {:?}", tally.by_status);
    println!(
        "error codes: {:?}; operations that succeeded: {}",
        tally.by_code, tally.succeeded
    );
    println!(
        "5xx seen: {five_xx}; INTERNAL seen: {}",
        tally.by_code.get("INTERNAL").copied().unwrap_or(0)
    );
    assert!(tally.sent >= 3_000);
    assert!(
        tally.failures.is_empty(),
        "{} bad answers; the first ones:\n{}",
        tally.failures.len(),
        tally
            .failures
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // A case set that never gets past the front door proves little.
    for code in [
        "BAD_USER_INPUT",
        "UNAUTHENTICATED",
        "RATE_LIMITED",
        "LINK_INVALID",
    ] {
        assert!(
            tally.by_code.contains_key(code),
            "no {code} among {:?}",
            tally.by_code
        );
    }
    assert!(
        tally.succeeded >= 100,
        "only {} operations succeeded",
        tally.succeeded
    );

    let me = app
        .graphql(
            "{ me { ... on Provider { email } } }",
            json!({}),
            Some(&provider.token),
        )
        .await;
    assert_eq!(me["data"]["me"]["email"], provider.email.as_str(), "{me}");
    let anonymous = app.graphql("{ __typename }", json!({}), None).await;
    assert_eq!(anonymous["data"]["__typename"], "QueryRoot");
}
