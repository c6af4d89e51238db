//! Point 3 as the bench runs and prints it: the floors (bare lettre, and lettre with
//! the outbox's statements) beside one-worker drains in alternated rounds, then two
//! workers beside the floor over as many connections, with each side's CPU per email.
use crate::stack::Stack;
use crate::{cpu, outbox_floor, pipeline};
use anyhow::Result;
use serde_json::{Value, json};

/// Rounds of the floor beside a one-worker drain (odd: the median is one round).
/// Five since the eighteenth session: on its host bare lettre's own rate moved by a
/// third from one round to the next (14,497 and 19,304 emails/s a minute apart), and
/// a median of three still followed one such round. A round takes ~5 s.
const PIPELINE_ROUNDS: usize = 5;

/// One round: the bare floor, the outbox floor and a one-worker drain, side by side.
struct Round {
    raw: f64,
    raw_cpu: Value,
    outbox: f64,
    outbox_cpu: Value,
    one: f64,
    one_rss: f64,
    one_cpu: Value,
}

/// Point 3: queued deliveries drained by one and two workers against lettre
/// straight to the sink; the workers' peak RSS.
pub async fn run(stack: &Stack, emails: usize) -> Result<(Value, f64)> {
    println!(
        "\n3. email pipeline: {} queued deliveries → accepted by the SMTP sink",
        emails
    );
    let per_worker = jobs::mailer::SMTP_CONNECTIONS as usize;
    // The machine's speed drifts by up to ±20% within a minute: the floor and the
    // one-worker drain run side by side in alternated rounds, and the round with the
    // median ratio gives the figures below (all of them from that one round).
    let mut rounds = Vec::with_capacity(PIPELINE_ROUNDS);
    for _ in 0..PIPELINE_ROUNDS {
        let (raw, raw_cpu) = pipeline::raw(stack, emails, per_worker).await?;
        let (outbox, outbox_cpu) = outbox_floor::run(stack, emails).await?;
        let (one, one_rss, one_cpu) = pipeline::drain(stack, emails, 1).await?;
        rounds.push(Round {
            raw,
            raw_cpu,
            outbox,
            outbox_cpu,
            one,
            one_rss,
            one_cpu,
        });
    }
    let one_rss = rounds.iter().map(|r| r.one_rss).fold(0.0, f64::max);
    rounds.sort_by(|a, b| (a.one / a.raw).total_cmp(&(b.one / b.raw)));
    let ratios: Vec<f64> = rounds.iter().map(|r| r.one / r.raw).collect();
    let outbox_ratios: Vec<f64> = rounds.iter().map(|r| r.one / r.outbox).collect();
    let Round {
        raw,
        raw_cpu,
        outbox,
        outbox_cpu,
        one,
        one_cpu,
        ..
    } = rounds.swap_remove(PIPELINE_ROUNDS / 2);
    let (raw_two, raw_two_cpu) = pipeline::raw(stack, emails, 2 * per_worker).await?;
    let (two, two_rss, two_cpu) = pipeline::drain(stack, emails, 2).await?;
    let shown: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    println!(
        "   one worker ÷ floor in {PIPELINE_ROUNDS} alternated rounds: {} (the median round below)",
        shown.join(", ")
    );
    println!(
        "   lettre straight to the sink: {raw:.0} emails/s over {per_worker} connections, {raw_two:.0} over {}",
        2 * per_worker
    );
    println!(
        "   lettre and the outbox's statements by hand (claim, recipients, links, outcome; batches of {}; no queue; lettre on a thread of its own, as a worker's), own process and connections: {outbox:.0} emails/s ({:.2} of the bare floor)",
        outbox_floor::BATCH,
        outbox / raw
    );
    println!(
        "   one worker:  {one:.0} emails/s (ratio {:.2}; {:.2} of the outbox floor, rounds {}), peak RSS {one_rss:.1} MiB",
        one / raw,
        one / outbox,
        outbox_ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "   two workers: {two:.0} emails/s (ratio {:.2}; {:.2} against the floor over as many connections), peak RSS {two_rss:.1} MiB each at most",
        two / raw,
        two / raw_two
    );
    println!(
        "   scaling from one to two: workers ×{:.2}, the floor ×{:.2}",
        two / one,
        raw_two / raw
    );
    println!(
        "   CPU per email, µs (bench = the floors' lettre, and the outbox floor's statements; portal = the workers):"
    );
    println!("     floor:       {}", cpu::line(&raw_cpu));
    println!("     outbox floor: {}", cpu::line(&outbox_cpu));
    println!("     one worker:  {}", cpu::line(&one_cpu));
    println!(
        "     then VACUUM of what the drain left: postgres {:.0} (not in the figures above)",
        one_cpu[cpu::VACUUM_AFTER].as_f64().unwrap_or(f64::NAN)
    );
    println!("     two workers: {}", cpu::line(&two_cpu));
    // What the CPU allows: at the worker's machine-wide CPU per email, every core
    // busy all the time would send at most this many emails a second.
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let ceiling =
        |per_email: &Value| cores * 1e6 / per_email["machine"].as_f64().unwrap_or(f64::NAN);
    let one_ceiling = ceiling(&one_cpu);
    println!(
        "   with all {cores:.0} cores busy, one worker's {:.0} µs per email would allow at most {one_ceiling:.0} emails/s ({:.2} of the floor); 0.6 needs at most {:.0} µs",
        one_cpu["machine"].as_f64().unwrap_or(f64::NAN),
        one_ceiling / raw,
        cores * 1e6 / (0.6 * raw),
    );
    let budget = cpu::portal_budget(&raw_cpu, &one_cpu, 0.6);
    println!(
        "   0.6 with the cores as busy as the floor's leaves `portal` {budget:.0} µs per email beside what the rest spent (it spent {:.0}; lettre alone {:.0})",
        one_cpu["portal"].as_f64().unwrap_or(f64::NAN),
        raw_cpu["bench"].as_f64().unwrap_or(f64::NAN),
    );
    // What the design's own statements allow, whatever the worker: bare lettre's
    // machine time per email plus the outbox floor's PostgreSQL, with the cores as
    // busy as bare lettre keeps them (a worker costing nothing of its own).
    let machine = raw_cpu["machine"].as_f64().unwrap_or(f64::NAN);
    let design_postgres = outbox_cpu["postgres"].as_f64().unwrap_or(f64::NAN);
    let design_bound = machine / (machine + design_postgres);
    println!(
        "   the design's PostgreSQL alone (the outbox floor's {design_postgres:.0} µs per email beside bare lettre's {machine:.0}) holds any worker to {design_bound:.2} of the floor with the cores as busy as the floor's"
    );
    Ok((
        json!({ "emails": emails, "raw_per_second": raw, "raw_per_second_two_workers_connections": raw_two, "one_worker_per_second": one, "two_workers_per_second": two, "one_worker_ratio": one / raw, "one_worker_ratio_rounds": ratios, "outbox_floor_per_second": outbox, "outbox_floor_batch": outbox_floor::BATCH, "outbox_floor_ratio": outbox / raw, "one_worker_ratio_outbox_floor": one / outbox, "one_worker_ratio_outbox_floor_rounds": outbox_ratios, "two_workers_ratio": two / raw, "two_workers_ratio_same_connections": two / raw_two, "scaling_workers": two / one, "scaling_floor": raw_two / raw,
            "one_worker_cpu_ceiling_per_second": one_ceiling, "one_worker_cpu_ceiling_ratio": one_ceiling / raw, "portal_budget_us_per_email_at_0_6": budget, "design_postgres_bound_ratio": design_bound,
            "cpu_us_per_email": { "floor": raw_cpu, "outbox_floor": outbox_cpu, "floor_two_workers_connections": raw_two_cpu, "one_worker": one_cpu, "two_workers": two_cpu } }),
        one_rss.max(two_rss),
    ))
}
