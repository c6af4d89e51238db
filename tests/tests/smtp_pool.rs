//! The worker's SMTP connections (lettre's pool, patched in `vendor/lettre`): a
//! connection a send has just given back is used again at once, without a `NOOP`
//! round trip first; one that sat idle is tested with a `NOOP` before it is trusted.
use jobs::Mailer;
use jobs::templates::Rendered;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the server saw: connections opened, `NOOP`s and messages received.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    noops: AtomicUsize,
    messages: AtomicUsize,
}

/// A minimal SMTP server on a free loopback port that accepts everything and counts.
async fn counting_server() -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let counts = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counts.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(converse(socket, counts.clone()));
        }
    });
    (url, seen)
}

async fn converse(socket: tokio::net::TcpStream, seen: Arc<Seen>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 counting ESMTP\r\n").await;
    let mut in_data = false;
    while let Ok(Some(line)) = lines.next_line().await {
        let reply: &[u8] = if in_data {
            if line != "." {
                continue;
            }
            in_data = false;
            seen.messages.fetch_add(1, Ordering::SeqCst);
            b"250 queued\r\n"
        } else {
            match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                Some("EHLO") | Some("HELO") => b"250 counting\r\n",
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

fn message(i: usize) -> Rendered {
    Rendered {
        subject: format!("Message {i}"),
        text: "Hello".into(),
        html: "<p>Hello</p>".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_just_given_back_is_reused_without_a_noop_and_an_idle_one_is_tested() {
    let (url, seen) = counting_server().await;
    let mailer = Mailer::from_url(&url).unwrap();
    let from = "Client Portal <no-reply@portal.localhost>".parse().unwrap();
    // One after the other: each send finds the connection the last one gave back.
    for i in 0..5 {
        mailer
            .send(&from, "jane@example.com", message(i))
            .await
            .unwrap();
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
    mailer
        .send(&from, "jane@example.com", message(5))
        .await
        .unwrap();
    assert_eq!(seen.messages.load(Ordering::SeqCst), 6);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    assert_eq!(
        seen.noops.load(Ordering::SeqCst),
        1,
        "one NOOP after the idle spell"
    );
}
