//! A real SMTP server in the test process (mailin-embedded on a port the OS picks):
//! the service talks SMTP to it exactly as it would to a mail provider, and tests
//! read what arrived like a client reads their inbox.
use mailin_embedded::response::{NO_MAILBOX, OK};
use mailin_embedded::{Handler, Response, Server};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One message as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    /// The raw message, headers and encoded parts as sent on the wire.
    pub raw: String,
}

impl Received {
    /// The decoded plain-text part.
    pub fn text(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
            .unwrap_or_default()
    }

    /// The decoded HTML part.
    pub fn html(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .and_then(|m| m.body_html(0).map(|t| t.into_owned()))
            .unwrap_or_default()
    }

    /// The subject line.
    pub fn subject(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .and_then(|m| m.subject().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The setup link's token, taken from the text part as a client would click it.
    pub fn token(&self) -> Option<String> {
        let text = self.text();
        let start = text.find("token=")? + "token=".len();
        let token: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        (!token.is_empty()).then_some(token)
    }
}

#[derive(Clone, Default)]
struct Inbox {
    messages: Arc<Mutex<Vec<Received>>>,
    /// Recipients answered with `550 Mailbox unavailable`.
    refuse: Arc<Mutex<Vec<String>>>,
    current_to: Vec<String>,
    current: Vec<u8>,
}

impl Handler for Inbox {
    fn rcpt(&mut self, to: &str) -> Response {
        let refused = self.refuse.lock().unwrap();
        if refused.iter().any(|r| to.eq_ignore_ascii_case(r)) {
            NO_MAILBOX
        } else {
            OK
        }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current_to = to.to_vec();
        self.current.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let message = Received {
            to: std::mem::take(&mut self.current_to),
            raw: String::from_utf8_lossy(&std::mem::take(&mut self.current)).into_owned(),
        };
        if let Some(token) = message.token() {
            crate::logscan::secret(&token);
        }
        self.messages.lock().unwrap().push(message);
        OK
    }
}

/// A running SMTP sink.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    inbox: Inbox,
}

impl SmtpSink {
    /// Starts a sink on a free port.
    pub fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
        Self::start_with(listener).expect("SMTP sink starts")
    }

    /// Starts a sink on a port the test held while the "server" was down.
    pub fn start_on(reserved: crate::ReservedPort) -> std::io::Result<Self> {
        Self::start_with(reserved.listen()?)
    }

    fn start_with(listener: TcpListener) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let inbox = Inbox::default();
        let mut server = Server::new(inbox.clone());
        server
            .with_name("sink.test")
            .with_num_threads(32)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Ok(Self { port, inbox })
    }

    /// `SMTP_URL` for this sink.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Answers `550` to mail for `address` from now on.
    pub fn refuse(&self, address: &str) {
        self.inbox.refuse.lock().unwrap().push(address.to_owned());
    }

    /// How many messages arrived so far.
    pub fn count(&self) -> usize {
        self.inbox.messages.lock().unwrap().len()
    }

    /// Forgets what arrived (benchmarks send thousands).
    pub fn clear(&self) {
        self.inbox.messages.lock().unwrap().clear();
    }

    /// Everything received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.inbox.messages.lock().unwrap().clone()
    }

    /// Messages to `address` (case-insensitive).
    pub fn messages_to(&self, address: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Waits until `count` messages to `address` arrived (at most 20 s), returns them all.
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.messages_to(address);
            if got.len() >= count || tokio::time::Instant::now() > deadline {
                assert!(
                    got.len() >= count,
                    "expected {count} message(s) to {address}, got {}",
                    got.len()
                );
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
