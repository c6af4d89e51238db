//! Behind a reverse proxy (issue 14.1): Debian's nginx in front of two `portal serve
//! --no-worker` processes sharing one database and Redis, with
//! `TRUSTED_PROXIES=127.0.0.1`. Clients reach nginx from loopback addresses of their
//! own; each one's wrong passwords count against that client, not against the proxy
//! every request arrives from, and the audit trail and the log name each client.
use entity::audit_event::{self, AuditAction};
use portal_tests::process::{Program, serve_no_worker};
use portal_tests::{Backend, PASSWORD, Queue, TestApp, error_code, nginx, spawn_mail_app_with};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const WRONG: &str = "not the password at all 9";
const SIGN_IN: &str =
    "mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) { token } }";
/// Limits count in fixed 5-minute windows, and a window may end mid-test: past five
/// failures, a few more may be needed before the limit refuses, never ten more.
const ATTEMPTS_BEFORE_GIVING_UP: usize = 15;

/// An HTTP client whose connections come from `source` (any 127.0.0.0/8 address).
fn from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// Signs in at `url` with `headers` added; the decoded answer.
async fn sign_in(
    http: &reqwest::Client,
    url: &str,
    (email, password): (&str, &str),
    headers: &[(&str, String)],
) -> Value {
    let body = json!({ "query": SIGN_IN, "variables": { "e": email, "p": password } });
    let mut req = http.post(format!("{url}/graphql")).json(&body);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let resp = req.send().await.expect("sent");
    resp.json().await.expect("JSON body")
}

/// Wrong passwords until the abuse limit refuses; how many were answered as wrong.
async fn wrong_until_refused(mut attempt: impl AsyncFnMut(usize) -> Value) -> usize {
    for n in 0..ATTEMPTS_BEFORE_GIVING_UP {
        let body = attempt(n).await;
        match error_code(&body) {
            Some("UNAUTHENTICATED") => continue,
            Some("RATE_LIMITED") if n >= 5 => return n,
            _ => panic!("attempt {}: {body}", n + 1),
        }
    }
    panic!("still not refused after {ATTEMPTS_BEFORE_GIVING_UP} wrong passwords");
}

/// What two `serve` processes need to share the harness app's database, Redis
/// prefix and SMTP server, believing forwarding headers from 127.0.0.1 only.
fn service_env(app: &TestApp) -> Vec<(&'static str, String)> {
    let settings = &app.state.settings;
    let redis = settings.redis_url.as_ref().expect("Redis queue");
    vec![
        (
            "DATABASE_URL",
            settings.database_url.expose_secret().to_owned(),
        ),
        ("DATABASE_MAX_CONNECTIONS", "3".into()),
        ("RUN_MIGRATIONS", "false".into()),
        ("REDIS_URL", redis.expose_secret().to_owned()),
        ("REDIS_KEY_PREFIX", settings.email.redis_key_prefix.clone()),
        ("SMTP_URL", app.smtp().url()),
        ("TRUSTED_PROXIES", "127.0.0.1".into()),
        ("LOG_FORMAT", "json".into()),
        ("RUST_LOG", "info".into()),
    ]
}

async fn start_services(app: &TestApp) -> (Program, Program) {
    let env = service_env(app);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (serve_no_worker(&env).await, serve_no_worker(&env).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_each_client_is_limited_and_audited_by_its_own_address() {
    let app = spawn_mail_app_with(Backend::Postgres, Queue::Redis, &[], false).await;
    let (owner, other) = ("dr.owner@practice.test", "dr.other@practice.test");
    let organization = app.create_provider("Practice", owner).await;
    app.create_provider("Other Practice", other).await;
    let (a, b) = start_services(&app).await;
    let proxy = nginx::start(&[a.port, b.port]).await;
    let (two, three) = (from("127.0.0.2"), from("127.0.0.3"));

    let wrong_from_two =
        wrong_until_refused(async |_| sign_in(&two, &proxy.url(), (owner, WRONG), &[]).await).await;
    // 127.0.0.3 even names 127.0.0.2 in the header: nginx appends the address it saw,
    // and only that rightmost entry is believed.
    let forged = [("x-forwarded-for", "127.0.0.2".to_owned())];
    let body = sign_in(&three, &proxy.url(), (owner, WRONG), &forged).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let body = sign_in(&three, &proxy.url(), (owner, PASSWORD), &forged).await;
    assert!(body["data"]["signIn"]["token"].is_string(), "{body}");

    // Straight to a service, the peer is not a trusted proxy: its headers are ignored,
    // so naming a new address each time does not escape the limit.
    let four = from("127.0.0.4");
    let wrong_from_four = wrong_until_refused(async |n| {
        let spoof = [
            ("x-forwarded-for", format!("10.9.0.{n}")),
            ("forwarded", format!("for=10.9.1.{n}")),
        ];
        sign_in(&four, &a.url(), (other, WRONG), &spoof).await
    })
    .await;

    let failed = BTreeMap::from([
        ("127.0.0.2".to_owned(), wrong_from_two),
        ("127.0.0.3".to_owned(), 1),
        ("127.0.0.4".to_owned(), wrong_from_four),
    ]);
    assert_eq!(failed_sign_ins_by_ip(&app, &failed).await, failed);
    let signed_in = audited(&app, AuditAction::ProviderSignedIn).await;
    let ours: Vec<_> = signed_in
        .iter()
        .filter(|e| e.organization_id == organization)
        .collect();
    assert!(
        ours.iter().any(|e| e.ip.as_deref() == Some("127.0.0.3")),
        "{signed_in:?}"
    );
    assert_logs_name_each_client(&a, &b);
}

async fn audited(app: &TestApp, action: AuditAction) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .all(&app.state.db)
        .await
        .expect("audit trail read")
}

/// Failed sign-ins in the audit trail by `ip`, once they match `expected` (they are
/// written after the answer) or after a deadline.
async fn failed_sign_ins_by_ip(
    app: &TestApp,
    expected: &BTreeMap<String, usize>,
) -> BTreeMap<String, usize> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut found = BTreeMap::new();
        for event in audited(app, AuditAction::ProviderSignInFailed).await {
            *found.entry(event.ip.unwrap_or_default()).or_default() += 1;
        }
        if &found == expected || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Both services answered requests through nginx, and every `/graphql` request line
/// of theirs names the client's own address, never the proxy's or a forged one.
fn assert_logs_name_each_client(a: &Program, b: &Program) {
    let mut all = BTreeSet::new();
    for service in [a, b] {
        let output = service.output();
        let ips = graphql_request_ips(&output);
        assert!(
            ips.iter().any(|ip| ip == "127.0.0.2" || ip == "127.0.0.3"),
            "this service got no request through nginx: {output}"
        );
        all.extend(ips);
    }
    let expected = ["127.0.0.2", "127.0.0.3", "127.0.0.4"].map(String::from);
    assert_eq!(all, BTreeSet::from(expected));
}

/// The `client_ip` of each finished `/graphql` request in a JSON log.
fn graphql_request_ips(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| field(l, "message").as_deref() == Some("request finished"))
        .filter(|l| field(l, "path").as_deref() == Some("/graphql"))
        .map(|l| field(&l, "client_ip").unwrap_or_else(|| panic!("no client_ip: {l}")))
        .collect()
}

/// A string field wherever the log layout puts it (top level, `fields`, `span`).
fn field(line: &Value, name: &str) -> Option<String> {
    match line {
        Value::Object(map) => map
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| map.values().find_map(|v| field(v, name))),
        Value::Array(items) => items.iter().find_map(|v| field(v, name)),
        _ => None,
    }
}
