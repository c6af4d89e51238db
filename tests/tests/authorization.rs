//! The authorization matrix (issue 6): every query and mutation of the served schema
//! against every kind of caller. Only the designed cells succeed; the rest answer
//! UNAUTHENTICATED, FORBIDDEN or NOT_FOUND, write nothing, and a new operation
//! without a row fails the test.
mod authorization {
    pub mod proof;
    pub mod table;
    pub mod world;
}

use authorization::proof::{Cell, check_answer, label, prove, snapshot};
use authorization::table::{Expect, ROWS, Row, VIEWERS, Viewer};
use authorization::world::World;
use portal_tests::{Backend, Queue, spawn_mail_app};
use std::collections::BTreeSet;

/// The root fields of Query and Mutation, read from the served schema by introspection.
async fn root_fields() -> BTreeSet<String> {
    let limits = portal_api::configuration::Settings::from_lookup(|_| None)
        .expect("default settings")
        .limits;
    let schema = portal_api::graphql::build_schema(None, &limits, true);
    let query = "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }";
    let response = schema.execute(query).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = serde_json::to_value(&response.data).expect("introspection as JSON");
    let mut names = BTreeSet::new();
    for root in ["queryType", "mutationType"] {
        let fields = data["__schema"][root]["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("{root}: {data}"));
        names.extend(
            fields
                .iter()
                .filter_map(|f| f["name"].as_str().map(str::to_owned)),
        );
    }
    names
}

/// Fails naming every operation without a row, and every row whose operation is gone.
async fn assert_complete() -> usize {
    let served = root_fields().await;
    let covered: BTreeSet<String> = ROWS.iter().map(|r| r.op.to_owned()).collect();
    let missing: Vec<_> = served.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&served).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "operations without a row in the authorization matrix: {missing:?}; \
         rows for operations the schema no longer has: {stale:?}"
    );
    served.len()
}

#[tokio::test]
async fn every_operation_has_a_row() {
    assert!(assert_complete().await > 0);
}

/// Runs one cell: per token the viewer sends, a fresh fixture, the request, the
/// expected answer, the proof of a success or the absence of writes for a refusal.
async fn run_cell(world: &mut World, row: &Row, column: usize) -> (Vec<String>, Vec<String>) {
    let viewer = VIEWERS[column];
    let expect = row.expect[column];
    let (mut labels, mut failures) = (Vec::new(), Vec::new());
    for token in world.tokens(viewer, row.needs.fresh_session).await {
        let fixture = world.fixture(row.needs).await;
        let vars = (row.vars)(&fixture);
        let refused = expect != Expect::Ok;
        let before = if refused {
            Some(snapshot(world, &fixture).await)
        } else {
            None
        };
        let body = world
            .app
            .graphql(row.document, vars, token.as_deref())
            .await;
        labels.push(label(&body, row.op));
        let mut verdict = check_answer(expect, &body, row.op);
        if verdict.is_ok() && before.is_some() && before != Some(snapshot(world, &fixture).await) {
            verdict = Err("refused, yet something about the target changed".to_owned());
        }
        if verdict.is_ok() && !matches!(expect, Expect::Code(_)) {
            let cell = Cell {
                world,
                viewer,
                token: token.as_deref(),
                fixture: &fixture,
                field: &body["data"][row.op],
            };
            verdict = prove(row.proof, &cell).await;
        }
        if let Err(why) = verdict {
            failures.push(format!("{} ({}) as {viewer:?}: {why}", row.op, row.case));
        }
    }
    (labels, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_designed_cells_succeed_on_postgres() {
    let operations = assert_complete().await;
    // The matrix signs in a few dozen times from one address: it tests who may call
    // what, not the abuse limits, so those are raised out of its way.
    let env = [("ABUSE_LIMIT_SCALE", "100")];
    let app = spawn_mail_app(Backend::Postgres, Queue::Redis, &env).await;
    let mut world = World::build(app).await;
    let mut grid = vec![vec![String::new(); VIEWERS.len()]; ROWS.len()];
    let (mut cells, mut requests, mut failures) = (0, 0, Vec::new());
    // Expired sessions come last: moving the clock ends every session at once.
    for expired_phase in [false, true] {
        if expired_phase {
            world.expire_sessions().await;
        }
        for (r, row) in ROWS.iter().enumerate() {
            for (c, viewer) in VIEWERS.iter().enumerate() {
                if (*viewer == Viewer::Expired) != expired_phase {
                    continue;
                }
                let (labels, failed) = run_cell(&mut world, row, c).await;
                cells += 1;
                requests += labels.len();
                grid[r][c] = labels.join("/");
                failures.extend(failed);
            }
        }
    }
    println!(
        "{:<42} {}",
        "operation (case)",
        VIEWERS.map(|v| format!("{v:?}")).join(" | ")
    );
    for (row, answers) in ROWS.iter().zip(&grid) {
        println!(
            "{:<42} {}",
            format!("{} ({})", row.op, row.case),
            answers.join(" | ")
        );
    }
    println!(
        "authorization matrix on PostgreSQL: {cells} cells ({} rows x {} viewers, {requests} requests) over {operations} operations, {} failed",
        ROWS.len(),
        VIEWERS.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
