//! Mail that reaches the inbox (issue 12.4): every kind of email the service sends
//! is DKIM-signed with the configured key, RSA or Ed25519, and verified by an
//! independent implementation (mail-auth) against the public key; SpamAssassin
//! scores each below 1.0; production without a key starts and sends unsigned mail.
mod inbox {
    pub mod keys;
    pub mod spam;
    pub mod story;
    pub mod verifier;
}

use entity::email_delivery::EmailKind;
use inbox::keys::TestKey;
use inbox::story::{self, SELECTOR};
use inbox::verifier::Receiver;
use portal_tests::{Backend, PRODUCTION, Queue, Received, TestApp, spawn_mail_app};

/// Starts the app (production mode on PostgreSQL and Redis, or embedded) as the
/// practice at `domain`, signing with `key` if given.
async fn practice_app(domain: &str, key: Option<&TestKey>, production: bool) -> TestApp {
    let path = key.map(TestKey::path);
    let mut env = story::mail_env(domain, path.as_deref());
    let (backend, queue) = match production {
        true => {
            env.extend(
                PRODUCTION
                    .iter()
                    .filter(|(k, _)| *k != "MAIL_FROM")
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            );
            (Backend::Postgres, Queue::Redis)
        }
        false => (Backend::Sqlite, Queue::Embedded),
    };
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn_mail_app(backend, queue, &pairs).await
}

/// The DKIM-Signature's tag `name`, unfolded.
fn tag(raw: &str, name: &str) -> Option<String> {
    let unfolded = raw.replace("\r\n ", " ").replace("\r\n\t", " ");
    let header = unfolded
        .lines()
        .find(|l| l.starts_with("DKIM-Signature:"))?
        .to_owned();
    header.split(';').find_map(|t| {
        t.trim()
            .strip_prefix(&format!("{name}="))
            .map(str::to_owned)
    })
}

/// `raw` with its body changed after signing: one letter of the text part.
fn tampered_body(raw: &str) -> String {
    let (head, body) = raw.split_once("\r\n\r\n").expect("headers and body");
    assert!(body.contains("Jane"), "the body greets Jane: {body}");
    format!("{head}\r\n\r\n{}", body.replacen("Jane", "June", 1))
}

async fn every_email_kind_verifies(key: TestKey, production: bool) {
    let domain = story::practice_domain();
    let app = practice_app(&domain, Some(&key), production).await;
    let mail = story::every_email_kind(&app).await;
    let receiver = Receiver::with_key(SELECTOR, &domain, &key.txt_record);
    for (kind, message) in &mail {
        assert_eq!(
            receiver.verify(&message.raw).await,
            ["pass"],
            "the {kind} email verifies:\n{}",
            message.raw
        );
        assert_eq!(tag(&message.raw, "d").as_deref(), Some(domain.as_str()));
        assert_eq!(tag(&message.raw, "s").as_deref(), Some(SELECTOR));
        assert_eq!(
            tag(&message.raw, "a"),
            Some(format!("{}-sha256", key.algorithm))
        );
        println!("{kind}: DKIM pass (a={}-sha256, d={domain})", key.algorithm);
    }

    // The check can fail: a changed body, a changed subject, another key.
    let (kind, welcome) = mail.iter().find(|(k, _)| *k == EmailKind::Welcome).unwrap();
    let body = receiver.verify(&tampered_body(&welcome.raw)).await;
    assert!(
        body.len() == 1 && body[0] != "pass",
        "tampered {kind} body: {body:?}"
    );
    let subject = welcome.raw.replacen("Subject: ", "Subject: Re: ", 1);
    let subject = receiver.verify(&subject).await;
    assert!(
        subject.len() == 1 && subject[0] != "pass",
        "tampered subject: {subject:?}"
    );
    let other = match key.algorithm {
        "rsa" => TestKey::rsa_2048(),
        _ => TestKey::ed25519(),
    };
    let stranger = Receiver::with_key(SELECTOR, &domain, &other.txt_record);
    let wrong = stranger.verify(&welcome.raw).await;
    assert!(
        wrong.len() == 1 && wrong[0] != "pass",
        "another key: {wrong:?}"
    );
    println!("tampered body: {body:?}; tampered subject: {subject:?}; another key: {wrong:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_email_kind_is_signed_with_an_rsa_key_in_production_mode() {
    every_email_kind_verifies(TestKey::rsa_2048(), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_email_kind_is_signed_with_an_ed25519_key_in_embedded_mode() {
    every_email_kind_verifies(TestKey::ed25519(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// (The warning it logs once is checked where it is made: `startup::dkim_notice`.)
async fn production_without_dkim_starts_and_sends_unsigned_mail() {
    let domain = story::practice_domain();
    let app = practice_app(&domain, None, true).await;
    let provider = app.signed_in_provider(story::PRACTICE).await;
    for address in ["ann@example.com", "bob@example.com"] {
        app.invited(&provider.token, "Ann", address).await;
    }
    let mail: Vec<Received> = app.smtp().messages();
    assert_eq!(mail.len(), 2);
    assert!(mail.iter().all(|m| !m.raw.contains("DKIM-Signature")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spamassassin_scores_every_email_kind_below_one() {
    let domain = story::practice_domain();
    let key = TestKey::rsa_2048();
    let app = practice_app(&domain, Some(&key), true).await;
    let mail = story::every_email_kind(&app).await;
    let mut failures = Vec::new();
    for (kind, message) in &mail {
        let verdict = inbox::spam::check(&message.raw).await;
        println!("{kind}: score {}", verdict.score);
        for (points, rule) in &verdict.rules {
            println!("  {points:>5} {rule}");
        }
        if verdict.score >= 1.0 {
            failures.push(format!(
                "{kind} scored {}: {:?}",
                verdict.score, verdict.rules
            ));
        }
        // Worth little in the rules Debian ships, more in updated ones.
        if verdict
            .rules
            .iter()
            .any(|(_, r)| r.starts_with("FROM_EXCESS_BASE64"))
        {
            failures.push(format!("{kind}: the sender's name is base64-encoded"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}\n{}", mail[0].1.raw);

    // The name goes out quoted; the base64 form lettre used to write is caught.
    let (_, first) = &mail[0];
    let quoted = format!("From: \"{}\" <no-reply@{domain}>", story::PRACTICE);
    assert!(first.raw.contains(&quoted), "{}", first.raw);
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(story::PRACTICE);
    let as_before = first.raw.replacen(
        &quoted,
        &format!("From: =?utf-8?b?{encoded}?= <no-reply@{domain}>"),
        1,
    );
    let verdict = inbox::spam::check(&as_before).await;
    assert!(
        verdict
            .rules
            .iter()
            .any(|(_, r)| r.starts_with("FROM_EXCESS_BASE64")),
        "{verdict:?}"
    );
}
