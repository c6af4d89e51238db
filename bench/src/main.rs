//! `cargo run --release -p bench -- all`: starts portal-access (release build) against
//! the local PostgreSQL and Redis, measures the resend path and the email pipeline
//! against their floors, prints a table and writes `bench/results/<timestamp>.json`.
//! Figures are printed, never asserted.
mod cpu;
mod external;
mod isolation;
mod load;
mod outbox_floor;
mod pipeline;
mod pipeline_phase;
mod resend;
mod seed;
mod stack;

use anyhow::Result;
use clap::Parser;
use serde_json::json;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Benchmarks of portal-access; prints figures, asserts nothing")]
struct Args {
    /// `all`; `resend`, `pipeline` or `isolation` for one part of it; `sign-in` for
    /// only the unknown-vs-known sign-in timing (under a minute); `costs` for what 200
    /// resends, one at a time, cost PostgreSQL (any profile).
    #[arg(default_value = "all")]
    what: String,
    /// Seconds each resend load level runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Clients seeded (spread over 100 practices).
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    /// Deliveries drained in the pipeline runs.
    #[arg(long, default_value_t = 10_000)]
    emails: usize,
}

fn ratio(a: f64, b: f64) -> f64 {
    a / b
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        ["all", "resend", "pipeline", "isolation", "sign-in", "costs"]
            .contains(&args.what.as_str()),
        "unknown benchmark {:?}; try `all`, `resend`, `pipeline`, `isolation`, `sign-in` or `costs`",
        args.what
    );
    external::require_tools()?;
    let stack = stack::Stack::start().await?;
    let result = match args.what.as_str() {
        "sign-in" => sign_in_only(&stack).await,
        "costs" => resend_costs(&stack).await,
        _ => run(&stack, &args).await,
    };
    stack.cleanup().await?;
    let report = result?;
    if args.what == "costs" {
        return Ok(());
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!(
        "{}.json",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    ));
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("\nwritten to {}", path.display());
    Ok(())
}

/// Sign-in time for unknown vs known emails, alone: a wrong password either way, so
/// both do one argon2 verification (abuse limits raised by the bench stack).
async fn sign_in_only(stack: &stack::Stack) -> Result<serde_json::Value> {
    let practices = seed::seed(&stack.db, 1, 10).await?;
    let serve = stack.serve()?;
    let url = serve.url.clone().unwrap_or_default();
    let email = &practices[0].provider_email;
    isolation::sign_in_ratio(&url, email, 10).await; // warm-up
    println!("sign-in time, unknown vs known email (wrong password), 200 interleaved pairs");
    let t = isolation::sign_in_ratio(&url, email, 200).await;
    let ratio = t.unknown_ms / t.known_ms;
    println!(
        "   median unknown {:.2} ms, known {:.2} ms → ratio {ratio:.3}; known slower in {} of {} pairs",
        t.unknown_ms, t.known_ms, t.known_slower, t.pairs
    );
    Ok(json!({ "sign_in_ms": {
        "unknown_median": t.unknown_ms,
        "known_median": t.known_ms,
        "ratio": ratio,
        "known_slower_pairs": t.known_slower,
        "pairs": t.pairs,
    } }))
}

/// What one resend costs PostgreSQL, counted over 200 sequential resends.
async fn resend_costs(stack: &stack::Stack) -> Result<serde_json::Value> {
    let practices = seed::seed(&stack.db, 2, 200).await?;
    let serve = stack.serve()?;
    let url = serve.url.clone().unwrap_or_default();
    let http = load::http();
    let reader = resend::Reader::open(&stack.database_url).await?;
    let before = resend::Counters::read(&reader).await?;
    let mut failed = 0;
    for p in &practices {
        for client in &p.clients {
            let body = serde_json::json!({ "query": resend::QUERY, "variables": { "id": client } });
            if !load::graphql(&http, &url, Some(&p.token), &body).await {
                failed += 1;
            }
        }
    }
    let after = resend::Counters::read(&reader).await?;
    let costs = before.per_request(&after, 200);
    println!(
        "one resend in PostgreSQL: {:.2} transactions, {:.2} table scans, {:.2} rows written ({failed} of 200 failed)",
        costs.transactions, costs.table_scans, costs.rows_written
    );
    Ok(json!({ "resend_costs_per_request": costs.json(), "failed": failed }))
}

/// Whether the run includes `part`.
fn includes(args: &Args, part: &str) -> bool {
    args.what == "all" || args.what == part
}

async fn run(stack: &stack::Stack, args: &Args) -> Result<serde_json::Value> {
    println!("seeding {} clients in 100 practices…", args.clients);
    let practices = seed::seed(&stack.db, 100, args.clients).await?;
    let serve = stack.serve()?;
    let url = serve.url.clone().unwrap_or_default();
    let mut report = json!({
        "machine": { "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0) },
        "clients": args.clients, "seconds_per_level": args.seconds,
    });
    let mut worker_rss = f64::NAN;
    if includes(args, "resend") {
        let serve_pid = serve.child.id();
        let (rows, costs) = resend_levels(stack, args, (&url, serve_pid), &practices).await?;
        report["resend"] = rows;
        report["resend_costs_per_request"] = costs;
        report["peak_rss_mib_after_resend"] = json!({ "serve": serve.peak_rss_mib() });
    }
    if includes(args, "pipeline") {
        let (pipeline, rss) = pipeline_phase::run(stack, args.emails).await?;
        report["pipeline"] = pipeline;
        worker_rss = rss;
        println!("\n4. one email at idle: resend → SMTP accepted");
        let p0 = &practices[0];
        let latency = pipeline::one_email_latency(stack, &url, &p0.token, &p0.clients, 50).await?;
        println!(
            "   p50 {:.1} ms, p99 {:.1} ms",
            latency.p50_ms, latency.p99_ms
        );
        report["one_email_latency"] = latency.json();
    }
    if includes(args, "isolation") {
        let p0 = &practices[0];
        println!("\n5. isolation: `me` while 32 connections hammer signIn");
        let measured = isolation::isolation(&url, &p0.token, &p0.provider_email).await?;
        let (idle, busy) = (&measured.idle, &measured.busy);
        let ratio = busy.p99_ms / idle.p99_ms;
        println!(
            "   p99 idle {:.2} ms, under load {:.2} ms → ratio {ratio:.2} ({:.0} sign-ins/s meanwhile)",
            idle.p99_ms,
            busy.p99_ms,
            measured.sign_ins.per_second(),
        );
        println!(
            "   p50 idle {:.2} ms, under load {:.2} ms; CPU time stolen by the hypervisor: {:.1}% idle, {:.1}% under load",
            idle.p50_ms,
            busy.p50_ms,
            measured.stolen_idle * 100.0,
            measured.stolen_busy * 100.0
        );
        report["isolation"] = json!({
            "idle": idle.json(), "under_sign_in_load": busy.json(),
            "sign_ins": measured.sign_ins.json(), "p99_ratio": ratio,
            "stolen_share": { "idle": measured.stolen_idle, "under_load": measured.stolen_busy },
        });
    }
    if args.what == "all" {
        println!("\n7. sign-in time, unknown vs known email (wrong password)");
        let p0 = &practices[0];
        let timing = isolation::sign_in_ratio(&url, &p0.provider_email, 30).await;
        let (unknown, known) = (timing.unknown_ms, timing.known_ms);
        println!(
            "   median unknown {unknown:.1} ms, known {known:.1} ms → ratio {:.3}",
            unknown / known
        );
        report["sign_in_ms"] =
            json!({ "unknown": unknown, "known": known, "ratio": unknown / known });
    }
    let serve_rss = serve.peak_rss_mib();
    println!("\n6. peak RSS: serve {serve_rss:.1} MiB, worker {worker_rss:.1} MiB");
    report["peak_rss_mib"] = json!({ "serve": serve_rss, "worker": worker_rss });
    Ok(report)
}

/// Points 1-2: resends through the API (`serve` at `url`, process `serve_pid`) and
/// through pgbench at 16 and 64 connections, against both floors; the CPU each side
/// spent per resend; PostgreSQL's costs per resend, for all three, at the first level.
async fn resend_levels(
    stack: &stack::Stack,
    args: &Args,
    (url, serve_pid): (&str, u32),
    practices: &[seed::Practice],
) -> Result<(serde_json::Value, serde_json::Value)> {
    let duration = Duration::from_secs(args.seconds);
    println!(
        "\n1-2. resendWelcomeEmail over HTTP (wrk) vs its floors in pgbench: the transaction\n     (bench/floor/resend.sql) and the service's one statement (resend_one.sql)"
    );
    println!(
        "{:>5} {:>9} {:>7} {:>7} {:>6} | {:>9} {:>7} | {:>9} {:>7} | {:>11} {:>11}",
        "conns",
        "api req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "txn r/s",
        "p99 ms",
        "stmt r/s",
        "p99 ms",
        "tput txn/st",
        "p99 txn/st"
    );
    let targets = resend::targets_file(practices)?;
    let seeded = (args.clients, practices.len());
    let mut rows = Vec::new();
    let mut costs = None;
    let reader = resend::Reader::open(&stack.database_url).await?;
    for conns in [16, 64] {
        // PostgreSQL's counters around the first level only: the API's costs, then the
        // floors'.
        let first = costs.is_none();
        let count = async || match first {
            true => resend::Counters::read(&reader).await.map(Some),
            false => Ok(None),
        };
        let before = count().await?;
        let cpu_before = cpu::Sample::now(&[serve_pid]);
        let api = resend::api(url, targets.path(), conns, duration)?;
        let api_cpu = cpu::Sample::now(&[serve_pid]).per_item_since(&cpu_before, api.requests);
        let after_api = count().await?;
        let db_url = &stack.database_url;
        let cpu_before = cpu::Sample::now(&[]);
        let txn = resend::Floor::Transaction.run(db_url, seeded, conns, duration)?;
        let txn_cpu = cpu::Sample::now(&[]).per_item_since(&cpu_before, txn.requests);
        let after_txn = count().await?;
        let stmt = resend::Floor::OneStatement.run(db_url, seeded, conns, duration)?;
        if let (Some(before), Some(after_api), Some(after_txn)) = (before, after_api, after_txn) {
            let after_stmt = resend::Counters::read(&reader).await?;
            costs = Some([
                before.per_request(&after_api, api.requests + api.errors),
                after_api.per_request(&after_txn, txn.requests + txn.errors),
                after_txn.per_request(&after_stmt, stmt.requests + stmt.errors),
            ]);
        }
        let tput = |floor: &load::Stats| ratio(api.per_second(), floor.per_second());
        let p99 = |floor: &load::Stats| ratio(api.p99_ms, floor.p99_ms);
        println!(
            "{conns:>5} {:>9.0} {:>7.2} {:>7.2} {:>6} | {:>9.0} {:>7.2} | {:>9.0} {:>7.2} | {:>5.2}/{:<5.2} {:>5.2}/{:<5.2}",
            api.per_second(),
            api.p50_ms,
            api.p99_ms,
            api.errors,
            txn.per_second(),
            txn.p99_ms,
            stmt.per_second(),
            stmt.p99_ms,
            tput(&txn),
            tput(&stmt),
            p99(&txn),
            p99(&stmt),
        );
        println!("      CPU per resend, µs: api   {}", cpu::line(&api_cpu));
        println!("                          floor {}", cpu::line(&txn_cpu));
        let budget = cpu::portal_budget(&txn_cpu, &api_cpu, 0.7);
        println!(
            "      0.7 with the cores as busy as the floor's leaves `portal` {budget:.0} µs per resend beside what the rest spent (it spent {:.0})",
            api_cpu["portal"].as_f64().unwrap_or(f64::NAN)
        );
        rows.push(json!({
            "connections": conns,
            "cpu_us_per_request": { "api": api_cpu, "floor": txn_cpu },
            "portal_budget_us_per_request_at_0_7": budget,
            "api": api.json(),
            "floor": txn.json(),
            "throughput_ratio": tput(&txn),
            "p99_ratio_api_over_floor": p99(&txn),
            "floor_one_statement": stmt.json(),
            "throughput_ratio_one_statement": tput(&stmt),
            "p99_ratio_api_over_floor_one_statement": p99(&stmt),
        }));
    }
    let [api, txn, stmt] = costs.expect("measured at the first level");
    let show = |c: &resend::Costs| {
        format!(
            "{:.2} transactions, {:.2} table scans, {:.2} rows written",
            c.transactions, c.table_scans, c.rows_written
        )
    };
    println!("   one resend in PostgreSQL: {}", show(&api));
    println!("     transaction floor:      {}", show(&txn));
    println!("     one-statement floor:    {}", show(&stmt));
    Ok((
        json!(rows),
        json!({ "api": api.json(), "floor": txn.json(), "floor_one_statement": stmt.json() }),
    ))
}
