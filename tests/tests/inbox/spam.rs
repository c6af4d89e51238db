//! SpamAssassin (Debian's, with the rules the package ships) on one message,
//! local tests only (`-L`: no DNS blocklists, no network), no Bayes (it learns
//! from the machine's mail, which would make the score depend on the machine).
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

/// What SpamAssassin made of a message.
#[derive(Debug)]
pub struct Verdict {
    pub score: f64,
    /// Each rule hit, with its points, as the report lists them.
    pub rules: Vec<(f64, String)>,
}

/// The header the receiving server adds: SpamAssassin then judges the message as
/// relayed from outside (an untrusted public address), as a client's provider
/// would, instead of as local mail it trusts. IPv6 documentation space: the IPv4
/// documentation ranges score as illegal addresses (`RCVD_ILLEGAL_IP`).
fn received_from_outside() -> String {
    format!(
        "Received: from mail.portal.example (mail.portal.example [IPv6:2001:db8::25])\r\n\
         \tby mx.example.net (Postfix) with ESMTPS id 4B2C71A0042\r\n\
         \tfor <jane.doe@example.com>; {}\r\n",
        chrono::Utc::now().to_rfc2822()
    )
}

/// Runs `spamassassin -L -t` on `raw` as received, in a home directory of its own.
pub async fn check(raw: &str) -> Verdict {
    let delivered = format!("{}{raw}", received_from_outside());
    let home = tempfile::tempdir().expect("temp dir");
    let mut child = tokio::process::Command::new("spamassassin")
        .args([
            "-L",
            "-t",
            "-x",
            "--cf=use_bayes 0",
            "--cf=bayes_auto_learn 0",
        ])
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spamassassin runs (./test installs the spamassassin package)");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(delivered.as_bytes())
        .await
        .expect("message written");
    drop(stdin);
    let out = child.wait_with_output().await.expect("spamassassin output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "spamassassin failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&stdout)
}

/// The score from `X-Spam-Status: No, score=0.3 required=5.0 tests=...`, and the
/// rules from the report's table (` 0.1 DKIM_SIGNED  Message has a DKIM ...`).
fn parse(output: &str) -> Verdict {
    let status = output
        .lines()
        .find_map(|l| l.strip_prefix("X-Spam-Status: "))
        .unwrap_or_else(|| panic!("no X-Spam-Status in:\n{output}"));
    let score = status
        .split_whitespace()
        .find_map(|w| w.strip_prefix("score="))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no score in {status:?}"));
    let table = output
        .split_once("---- ----")
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no report table in:\n{output}"));
    let rules = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let points = words.next()?.parse().ok()?;
            let name = words.next()?;
            let rest: Vec<&str> = words.collect();
            Some((points, format!("{name} ({})", rest.join(" "))))
        })
        .collect();
    Verdict { score, rules }
}
