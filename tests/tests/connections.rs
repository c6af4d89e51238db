//! Connections as a slow or careless client holds them, over raw TCP: heads that never
//! finish, bodies that stop arriving, more connections than the cap, and a large body
//! sent without waiting for the answer.
use portal_tests::{Backend, TestApp, spawn_app_with};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// How long any one expectation may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(15);

const HALF_A_HEAD: &[u8] = b"POST /graphql HTTP/1.1\r\nHost: portal.test\r\nContent-Ty";
const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: portal.test\r\nConnection: close\r\n\r\n";

async fn connect(app: &TestApp) -> TcpStream {
    let port = app.address.rsplit(':').next().expect("port");
    TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .expect("connect")
}

/// Reads until the server closes the connection; everything it sent.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&got).into_owned(),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Waits (at most [`PATIENCE`]) for the server to close `stream`.
async fn closed_by_server(stream: &mut TcpStream) -> String {
    timeout(PATIENCE, read_until_closed(stream))
        .await
        .expect("the server closed the connection in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_finish_their_head_are_closed_at_the_header_timeout() {
    let app = spawn_app_with(Backend::Sqlite, &[("HTTP_HEADER_TIMEOUT_SECS", "1")]).await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut stream = connect(&app).await;
        stream.write_all(HALF_A_HEAD).await.expect("write");
        slow.push(stream);
    }
    let idle = connect(&app).await;
    slow.push(idle);
    // Kept alive after an answer, then silent: closed too.
    let mut kept_alive = connect(&app).await;
    let keep_alive = b"GET /healthz HTTP/1.1\r\nHost: portal.test\r\n\r\n";
    kept_alive.write_all(keep_alive).await.expect("write");

    // A head completed within the timeout, byte by byte, is answered.
    let mut patient = connect(&app).await;
    for chunk in HEALTHZ.chunks(16) {
        patient.write_all(chunk).await.expect("write");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = closed_by_server(&mut patient).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let started = Instant::now();
    for stream in &mut slow {
        let answer = closed_by_server(stream).await;
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    let answer = closed_by_server(&mut kept_alive).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    println!(
        "22 slow or idle connections closed within {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_is_answered_408_at_the_body_timeout() {
    let app = spawn_app_with(Backend::Sqlite, &[("HTTP_BODY_TIMEOUT_SECS", "1")]).await;
    let mut stream = connect(&app).await;
    let head = "POST /graphql HTTP/1.1\r\nHost: portal.test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":";
    stream.write_all(head.as_bytes()).await.expect("write");
    let answer = closed_by_server(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive in time"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_wait_while_requests_below_it_are_served() {
    let env = [
        ("HTTP_MAX_CONNECTIONS", "4"),
        ("HTTP_HEADER_TIMEOUT_SECS", "60"),
    ];
    let app = spawn_app_with(Backend::Sqlite, &env).await;
    let mut slow = Vec::new();
    for _ in 0..3 {
        let mut stream = connect(&app).await;
        stream.write_all(HALF_A_HEAD).await.expect("write");
        slow.push(stream);
    }
    // Three of four slots taken: a normal request is served.
    let mut below = connect(&app).await;
    below.write_all(HEALTHZ).await.expect("write");
    let answer = closed_by_server(&mut below).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(below);

    // All four taken: the next connection waits, unanswered, not refused.
    let mut fourth = connect(&app).await;
    fourth.write_all(HALF_A_HEAD).await.expect("write");
    slow.push(fourth);
    let mut over = connect(&app).await;
    over.write_all(HEALTHZ).await.expect("write");
    let mut byte = [0u8; 1];
    // A bounded wait is the only way to see that nothing comes.
    let early = timeout(Duration::from_millis(500), over.read(&mut byte)).await;
    assert!(early.is_err(), "answered over the cap: {early:?}");

    // One slow client leaves: the waiting request gets its answer.
    drop(slow.remove(0));
    let answer = closed_by_server(&mut over).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Sends `head` and a 5 MB body in one go, without waiting for an interim answer (no
/// `Expect: 100-continue`), then reads what the server said.
async fn send_large_body(app: &TestApp, head: &str, body: &[u8]) -> String {
    let mut stream = connect(app).await;
    let sent = timeout(PATIENCE, async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await
    })
    .await
    .expect("the server took the body or closed, in time");
    let answer = closed_by_server(&mut stream).await;
    // Most clients stop at a failed write (broken pipe) and never read the answer.
    assert!(sent.is_ok(), "sending failed: {sent:?}; answer: {answer:?}");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_5_mb_without_waiting_reads_the_413() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await;
    let size = 5 * 1024 * 1024;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: portal.test\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    );
    let answer = send_large_body(&app, &head, &vec![b' '; size]).await;
    assert!(answer.contains("larger than 65536 bytes"), "{answer}");

    // The same without a declared length: cut off at the limit, then drained.
    let head = "POST /graphql HTTP/1.1\r\nHost: portal.test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
    let mut body = chunk.repeat(80).into_bytes();
    body.extend_from_slice(b"0\r\n\r\n");
    send_large_body(&app, head, &body).await;
}
