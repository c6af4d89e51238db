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

async fn cheap_queries(url: &str, token: &str, duration: Duration) -> Stats {
    let http = load::http();
    let (url, token) = (url.to_owned(), token.to_owned());
    load::closed_loop(1, duration, move |_, _| {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        async move { load::graphql(&http, &url, Some(&token), &json!({ "query": CHEAP })).await }
    })
    .await
}

/// (idle, under sign-in load, sign-ins during the load). The sign-ins come from
/// wrk, a process of its own, so the probe measures the service, not the load
/// generator sharing its runtime.
pub async fn isolation(
    url: &str,
    token: &str,
    email: &str,
) -> anyhow::Result<(Stats, Stats, Stats)> {
    let idle = cheap_queries(url, token, Duration::from_secs(3)).await;
    let (u, e) = (url.to_owned(), email.to_owned());
    let hammer = tokio::task::spawn_blocking(move || {
        crate::external::wrk_sign_in(&u, &e, PASSWORD, 32, Duration::from_secs(6))
    });
    let probe = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        cheap_queries(url, token, Duration::from_secs(5)).await
    };
    let (sign_ins, busy) = tokio::join!(hammer, probe);
    Ok((idle, busy, sign_ins??))
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
