//! Isolation: a cheap authenticated query's p99 while 32 connections hammer
//! `signIn` (argon2), divided by its p99 at idle; and sign-in time for unknown vs
//! known emails.
use crate::load::{self, Stats};
use crate::seed::PASSWORD;
use serde_json::json;
use std::time::{Duration, Instant};

const CHEAP: &str = "{ me { __typename } }";
const SIGN_IN: &str =
    "mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) { token } }";

/// The idle window, then the sign-in load (whole seconds: wrk's unit) and the
/// probe's window within it: from `RAMP` after wrk starts (connections open,
/// hashing under way) to `RAMP + BUSY`, before wrk stops. The idle window comes
/// first and once: tried as three alternated rounds instead, the idle windows after
/// a load read slower and the short loads lighter, so the ratio fell for reasons
/// other than the service (`bench/NOTES.md`, the note "Isolation"; measured
/// while the pool still went round every connection a load had opened, which
/// alone slows a window after a load).
const IDLE: Duration = Duration::from_secs(3);
const LOAD: Duration = Duration::from_secs(6);
const RAMP: Duration = Duration::from_millis(500);
const BUSY: Duration = Duration::from_secs(5);

/// One connection asking `me` again and again for `duration`; with the share of
/// the machine's CPU time the hypervisor took meanwhile.
async fn cheap_queries(url: &str, token: &str, duration: Duration) -> (Stats, f64) {
    let http = load::http();
    let (url, token) = (url.to_owned(), token.to_owned());
    let (_, stolen_before) = crate::cpu::busy_and_stolen();
    let stats = load::closed_loop(1, duration, move |_, _| {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        async move { load::graphql(&http, &url, Some(&token), &json!({ "query": CHEAP })).await }
    })
    .await;
    let (_, stolen_after) = crate::cpu::busy_and_stolen();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let stolen = (stolen_after - stolen_before) / (stats.seconds * cores).max(1e-9);
    (stats, stolen)
}

/// What the isolation phase measured.
pub struct Isolation {
    pub idle: Stats,
    pub busy: Stats,
    pub sign_ins: Stats,
    /// Share of the machine's CPU time the hypervisor took during the idle and the
    /// busy windows (0 on bare metal): a reading with much stolen time measures
    /// the host as much as the service.
    pub stolen_idle: f64,
    pub stolen_busy: f64,
}

/// The sign-ins come from wrk, a process of its own, so the probe measures the
/// service, not the load generator sharing its runtime.
pub async fn isolation(url: &str, token: &str, email: &str) -> anyhow::Result<Isolation> {
    quiet().await;
    let (idle, stolen_idle) = cheap_queries(url, token, IDLE).await;
    let (u, e) = (url.to_owned(), email.to_owned());
    let hammer = tokio::task::spawn_blocking(move || {
        crate::external::wrk_sign_in(&u, &e, PASSWORD, 32, LOAD)
    });
    let probe = async {
        tokio::time::sleep(RAMP).await;
        cheap_queries(url, token, BUSY).await
    };
    let (sign_ins, (busy, stolen_busy)) = tokio::join!(hammer, probe);
    Ok(Isolation {
        idle,
        busy,
        sign_ins: sign_ins??,
        stolen_idle,
        stolen_busy,
    })
}

/// Waits (at most 5 s) until the machine is quiet, under a fifth of a core busy
/// over 100 ms, so that the idle window is idle: whatever the phase before left
/// running (a worker stopping, a `VACUUM`) is done first.
async fn quiet() {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let (before, _) = crate::cpu::busy_and_stolen();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (after, _) = crate::cpu::busy_and_stolen();
        if after - before < 0.02 {
            return;
        }
    }
}

/// Mean time of a failed sign-in for an unknown email divided by one for a known
/// email with a wrong password (≈ 1 means timing does not reveal who exists).
pub async fn sign_in_ratio(url: &str, email: &str, samples: usize) -> SignInTiming {
    let http = load::http();
    let mut known = Vec::with_capacity(samples);
    let mut unknown = Vec::with_capacity(samples);
    for i in 0..samples {
        // Interleaved, so drift (other load, caches) hits both alike.
        for (who, times) in [
            (email.to_owned(), &mut known),
            (format!("nobody{i}@bench.example"), &mut unknown),
        ] {
            let body =
                json!({ "query": SIGN_IN, "variables": { "e": who, "p": "wrong password 123" } });
            let t = Instant::now();
            load::graphql(&http, url, None, &body).await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let known_slower = known.iter().zip(&unknown).filter(|(k, u)| k > u).count();
    SignInTiming {
        unknown_ms: median(&mut unknown),
        known_ms: median(&mut known),
        known_slower,
        pairs: samples,
    }
}

/// Medians of interleaved sign-ins with a wrong password, unknown vs known address.
#[derive(Debug, Clone, Copy)]
pub struct SignInTiming {
    pub unknown_ms: f64,
    pub known_ms: f64,
    /// Pairs in which the known address took longer.
    pub known_slower: usize,
    pub pairs: usize,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}
