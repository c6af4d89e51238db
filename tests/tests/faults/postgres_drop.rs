//! Every PostgreSQL connection of the app terminated by the server, three times
//! while mail is going out.
use super::support::tally;
use super::{addresses, invite_all, wait_settled};
use portal_tests::{Backend, Queue, TestApp, error_code, postgres_admin_url, spawn_mail_app};
use sea_orm::{ConnectionTrait, Database};
use secrecy::ExposeSecret;
use serde_json::json;
use std::time::{Duration, Instant};

/// Terminates every backend connected to the app's database; returns how many.
async fn drop_connections(app: &TestApp) -> usize {
    let url = app.state.settings.database_url.expose_secret().to_owned();
    let name = url.rsplit('/').next().expect("database name").to_owned();
    let admin = Database::connect(postgres_admin_url())
        .await
        .expect("PostgreSQL reachable");
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ),
        ))
        .await
        .expect("terminate backends");
    admin.close().await.ok();
    rows.len()
}

/// Sends `query` until it answers without error (at most ten tries); returns the
/// error codes seen on the way. Panics on anything but SERVICE_UNAVAILABLE.
async fn until_answered(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: serde_json::Value,
) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..10 {
        let body = tokio::time::timeout(
            Duration::from_secs(15),
            app.graphql(query, variables.clone(), Some(token)),
        )
        .await
        .expect("answered within seconds, not hung");
        match error_code(&body) {
            None => return seen,
            Some("SERVICE_UNAVAILABLE") => seen.push("SERVICE_UNAVAILABLE".into()),
            Some(other) => panic!("{other} after the connections dropped: {body}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("still unavailable after ten tries: {seen:?}");
}

const READ: &str = "query { clients(first: 5) { edges { node { id } } } }";
const CREATE: &str =
    "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }";

fn create_input(email: &str) -> serde_json::Value {
    json!({ "i": { "firstName": "Late", "lastName": "Comer", "email": email } })
}

/// Eight providers' screens busy (reads and invites) while the connections are
/// dropped under them. Returns the invited addresses that were answered with
/// success and the error codes seen.
async fn busy_while_dropped(
    app: &TestApp,
    token: &str,
    round: usize,
) -> (Vec<String>, Vec<String>) {
    let screens = (0..8).map(|screen| async move {
        let mut invited = Vec::new();
        let mut codes = Vec::new();
        for i in 0..6 {
            let email = format!("busy{round}-{screen}-{i}@example.com");
            let (query, variables) = match i % 2 {
                0 => (READ, json!({})),
                _ => (CREATE, create_input(&email)),
            };
            let body = app.graphql(query, variables, Some(token)).await;
            match error_code(&body) {
                None if query == CREATE => invited.push(email),
                None => {}
                Some(code) => codes.push(code.to_owned()),
            }
        }
        (invited, codes)
    });
    let drop_soon = async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        drop_connections(app).await
    };
    let (results, terminated) = tokio::join!(futures_util::future::join_all(screens), drop_soon);
    assert!(terminated > 0, "the app held connections");
    let (invited, codes): (Vec<_>, Vec<_>) = results.into_iter().unzip();
    (invited.concat(), codes.concat())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_its_database_connections_dropped_the_api_recovers_without_a_restart() {
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &[]).await;
    let provider = app.signed_in_provider("Practice").await;
    let mut all = Vec::new();
    let mut refusals = Vec::new();
    let started = Instant::now();
    for round in 0..3 {
        // Mail going out while the connections drop under the worker too.
        let batch = addresses(&format!("round{round}-"), 10);
        invite_all(&app, &provider.token, &batch).await;
        all.extend(batch);
        let (invited, codes) = busy_while_dropped(&app, &provider.token, round).await;
        all.extend(invited);
        refusals.extend(codes);
        // Whatever the pool holds now, the next requests get through.
        refusals.extend(until_answered(&app, &provider.token, READ, json!({})).await);
        let late = format!("late{round}@example.com");
        refusals.extend(until_answered(&app, &provider.token, CREATE, create_input(&late)).await);
        all.push(late);
    }
    let unexpected: Vec<&String> = refusals
        .iter()
        .filter(|c| *c != "SERVICE_UNAVAILABLE")
        .collect();
    assert!(unexpected.is_empty(), "{refusals:?}");

    let counts = wait_settled(&app.state.db, Duration::from_secs(60)).await;
    assert_eq!(counts.keys().collect::<Vec<_>>(), ["sent"], "{counts:?}");
    let result = tally(app.smtp(), &all);
    println!(
        "postgres connections dropped 3x: lost {}, duplicated {} of {} ({} SERVICE_UNAVAILABLE answers; all sent {:.1}s after the first drop)",
        result.lost,
        result.duplicated,
        all.len(),
        refusals.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(result.lost, 0);
    assert!(result.duplicated <= 8, "{result:?}");
}
