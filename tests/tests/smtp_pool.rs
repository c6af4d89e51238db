//! The worker's SMTP connections (lettre, patched in `vendor/lettre`): a connection
//! a send has just given back is used again at once, without a `NOOP` round trip
//! first, and one that sat idle is tested with a `NOOP` before it is trusted; a
//! server offering `PIPELINING` gets each envelope in one write, and a refusal in it
//! is reported as such.
use jobs::Mailer;
use jobs::mailer::SendError;
use jobs::templates::Rendered;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the server saw: connections opened, `NOOP`s, messages received, and
/// envelopes whose `MAIL` came with more commands behind it in the same read.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    noops: AtomicUsize,
    messages: AtomicUsize,
    pipelined: AtomicUsize,
}

/// How the server behaves: whether it offers `PIPELINING`, and a recipient it
/// refuses for good.
#[derive(Clone, Copy, Default)]
struct Behaviour {
    pipelining: bool,
    refuse: Option<&'static str>,
}

/// A minimal SMTP server on a free loopback port that accepts everything (but
/// `refuse`) and counts.
async fn counting_server(behaviour: Behaviour) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let counts = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counts.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(converse(socket, counts.clone(), behaviour));
        }
    });
    (url, seen)
}

async fn converse(socket: tokio::net::TcpStream, seen: Arc<Seen>, behaviour: Behaviour) {
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::new(read);
    let _ = write.write_all(b"220 counting ESMTP\r\n").await;
    let mut in_data = false;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let reply: &[u8] = if in_data {
            if line != "." {
                continue;
            }
            in_data = false;
            seen.messages.fetch_add(1, Ordering::SeqCst);
            b"250 queued\r\n"
        } else {
            match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                Some("EHLO") if behaviour.pipelining => b"250-counting\r\n250 PIPELINING\r\n",
                Some("EHLO") | Some("HELO") => b"250 counting\r\n",
                Some("MAIL") => {
                    if !reader.buffer().is_empty() {
                        seen.pipelined.fetch_add(1, Ordering::SeqCst);
                    }
                    b"250 OK\r\n"
                }
                Some("RCPT") if behaviour.refuse.is_some_and(|r| line.contains(r)) => {
                    b"550 5.1.1 no such user\r\n"
                }
                Some("NOOP") => {
                    seen.noops.fetch_add(1, Ordering::SeqCst);
                    b"250 OK\r\n"
                }
                Some("DATA") => {
                    in_data = true;
                    b"354 go on\r\n"
                }
                Some("QUIT") => {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                }
                _ => b"250 OK\r\n",
            }
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// Sends message `i` to `to` through `mailer`.
async fn send(mailer: &Mailer, to: &str, i: usize) -> Result<(), SendError> {
    let from = "Client Portal <no-reply@portal.localhost>".parse().unwrap();
    let message = Rendered {
        subject: format!("Message {i}"),
        text: "Hello".into(),
        html: "<p>Hello</p>".into(),
    };
    mailer.send(&from, to, message).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_just_given_back_is_reused_without_a_noop_and_an_idle_one_is_tested() {
    let (url, seen) = counting_server(Behaviour::default()).await;
    let mailer = Mailer::from_url(&url).unwrap();
    // One after the other: each send finds the connection the last one gave back.
    for i in 0..5 {
        send(&mailer, "jane@example.com", i).await.unwrap();
        // lettre gives a connection back to its pool in a task of its own.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen.messages.load(Ordering::SeqCst), 5);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1, "one connection");
    assert_eq!(
        seen.noops.load(Ordering::SeqCst),
        0,
        "no NOOP between sends"
    );

    // Idle for longer than a second: tested once before it is used again.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    send(&mailer, "jane@example.com", 5).await.unwrap();
    assert_eq!(seen.messages.load(Ordering::SeqCst), 6);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    assert_eq!(
        seen.noops.load(Ordering::SeqCst),
        1,
        "one NOOP after the idle spell"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_offering_pipelining_gets_each_envelope_in_one_write_and_refusals_still_count() {
    let behaviour = Behaviour {
        pipelining: true,
        refuse: Some("nobody@example.com"),
    };
    let (url, seen) = counting_server(behaviour).await;
    let mailer = Mailer::from_url(&url).unwrap();
    for i in 0..3 {
        send(&mailer, "jane@example.com", i).await.unwrap();
    }
    assert_eq!(seen.messages.load(Ordering::SeqCst), 3);
    assert_eq!(
        seen.pipelined.load(Ordering::SeqCst),
        3,
        "MAIL, RCPT, DATA together"
    );

    // A refused recipient is a permanent failure with the server's answer, and the
    // next email goes out (on a fresh connection: the refused one was closed).
    let refused = send(&mailer, "nobody@example.com", 3).await.unwrap_err();
    assert!(
        matches!(&refused, SendError::Permanent(reason) if reason.contains("no such user")),
        "{refused:?}"
    );
    send(&mailer, "jane@example.com", 4).await.unwrap();
    assert_eq!(
        seen.messages.load(Ordering::SeqCst),
        4,
        "nothing sent to the refused"
    );
}
