//! Sending a rendered email: SMTP (`smtp://`, `smtp://…?tls=required`, `smtps://` with
//! credentials) or `.eml` files in a directory (`file://DIR`, the embedded default),
//! DKIM-signed when a key is configured.
mod headers;
mod smtp_thread;

use crate::dkim::DkimSigner;
use crate::templates::Rendered;
use headers::AutoSubmitted;
use lettre::address::Envelope;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, PoolConfig};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use smtp_thread::SmtpThread;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Where mail goes, and the key it is signed with.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    dkim: Option<Arc<DkimSigner>>,
    /// One permit per pooled connection: lettre opens a throw-away connection for
    /// every send beyond its pool, so sends past the pool wait their turn instead.
    connections: Arc<Semaphore>,
}

#[derive(Clone)]
enum Transport {
    /// lettre's transport, on a thread of its own (see [`smtp_thread`]).
    Smtp(SmtpThread),
    Files {
        dir: PathBuf,
        transport: AsyncFileTransport<Tokio1Executor>,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.transport {
            Transport::Smtp(_) => f.write_str("Mailer::Smtp")?,
            Transport::Files { dir, .. } => write!(f, "Mailer::Files({})", dir.display())?,
        }
        match &self.dkim {
            Some(signer) => write!(f, " signed by {signer:?}"),
            None => Ok(()),
        }
    }
}

/// Why a message was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server refused for good (5xx) or the message cannot be built: do not retry.
    #[error("{0}")]
    Permanent(String),
    /// Connection trouble, timeouts, 4xx: try again later.
    #[error("{0}")]
    Transient(String),
}

/// Emails one mailer hands over at once, each on a connection of its own.
pub const SMTP_CONNECTIONS: u32 = 8;
/// Connections the pool keeps. lettre returns a connection to its pool in a task
/// of its own after the send has finished, so the next send may find the pool
/// empty for a moment; a few spare ones spare it a fresh connection each time.
const SMTP_POOL: u32 = SMTP_CONNECTIONS + 2;

/// The SMTP conversation may not take longer than this.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a readiness check waits for the SMTP server.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

impl Mailer {
    /// Builds the mailer for `url`; the error names what is wrong without echoing
    /// credentials.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if let Some(dir) = url.strip_prefix("file://") {
            let dir = PathBuf::from(if dir.is_empty() { "." } else { dir });
            return Ok(Self::unsigned(Transport::Files {
                transport: AsyncFileTransport::new(&dir),
                dir,
            }));
        }
        let pool = PoolConfig::new().max_size(SMTP_POOL);
        let builder = smtp_builder(url)?
            .timeout(Some(SMTP_TIMEOUT))
            .pool_config(pool);
        Self::smtp(builder)
    }

    fn smtp(builder: AsyncSmtpTransportBuilder) -> Result<Self, String> {
        let thread =
            SmtpThread::start(builder).map_err(|e| format!("cannot start the SMTP thread: {e}"))?;
        Ok(Self::unsigned(Transport::Smtp(thread)))
    }

    fn unsigned(transport: Transport) -> Self {
        Self {
            transport,
            dkim: None,
            connections: Arc::new(Semaphore::new(SMTP_CONNECTIONS as usize)),
        }
    }

    /// Signs every message with `signer` from now on (`None`: unsigned).
    pub fn signed_by(self, signer: Option<Arc<DkimSigner>>) -> Self {
        Self {
            dkim: signer,
            ..self
        }
    }

    /// A mailer for readiness checks only: its own connection (closed when idle), so
    /// a check never waits behind the deliveries holding the sending pool.
    pub fn probe_from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("file://") {
            return Self::from_url(url);
        }
        let pool = PoolConfig::new()
            .max_size(1)
            .min_idle(0)
            .idle_timeout(Duration::from_secs(1));
        let builder = smtp_builder(url)?
            .timeout(Some(PROBE_TIMEOUT))
            .pool_config(pool);
        Self::smtp(builder)
    }

    /// Whether mail can be handed over now: the SMTP server answers `NOOP` within
    /// a couple of seconds, or the mail directory exists or can be created.
    pub async fn answers(&self) -> Result<(), String> {
        match &self.transport {
            Transport::Smtp(thread) => {
                let test = |transport: AsyncSmtpTransport<Tokio1Executor>| async move {
                    tokio::time::timeout(PROBE_TIMEOUT, transport.test_connection()).await
                };
                match thread.run(test).await {
                    Some(Ok(Ok(true))) => Ok(()),
                    Some(Ok(Ok(false))) => Err("the SMTP server did not answer NOOP".into()),
                    Some(Ok(Err(e))) => Err(format!("SMTP: {e}")),
                    Some(Err(_)) => Err("the SMTP server did not answer in time".into()),
                    None => Err(THREAD_GONE.into()),
                }
            }
            Transport::Files { dir, .. } => tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| format!("cannot create {}: {e}", dir.display())),
        }
    }

    /// Hands `email` over to the server (or writes it).
    ///
    /// The message is built once a connection is free, just before it goes out, from
    /// the rendered bodies themselves (moved, not copied): a worker's batches hold
    /// only the messages on their way out in MIME form, not every email waiting for
    /// a connection (no change in `bench pipeline`'s CPU per email beyond its noise).
    pub async fn send(&self, from: &Mailbox, to: &str, email: Rendered) -> Result<(), SendError> {
        let (connections, dkim) = (self.connections.clone(), self.dkim.clone());
        let signed = async move |from: &Mailbox, to: &str| {
            let connection = connections
                .acquire_owned()
                .await
                .map_err(|_| SendError::Transient("the mailer is shutting down".into()))?;
            let mut message = build(from, to, email)?;
            if let Some(signer) = &dkim {
                signer.sign(&mut message);
            }
            Ok::<_, SendError>((connection, message))
        };
        match &self.transport {
            Transport::Smtp(thread) => {
                let (from, to) = (from.clone(), to.to_owned());
                let send = async move |transport: AsyncSmtpTransport<Tokio1Executor>| {
                    let (_connection, message) = signed(&from, &to).await?;
                    transport.send(message).await.map(drop).map_err(classify)
                };
                let sent = thread.run(send).await;
                sent.unwrap_or_else(|| Err(SendError::Transient(THREAD_GONE.into())))
            }
            Transport::Files { dir, transport } => {
                let (_connection, message) = signed(from, to).await?;
                tokio::fs::create_dir_all(dir).await.map_err(|e| {
                    SendError::Transient(format!("cannot create {}: {e}", dir.display()))
                })?;
                transport
                    .send(message)
                    .await
                    .map(drop)
                    .map_err(|e| SendError::Transient(format!("cannot write the .eml file: {e}")))
            }
        }
    }
}

/// What a send or a check answers when the SMTP thread gave no answer: the work
/// panicked there, or the thread itself stopped.
const THREAD_GONE: &str = "the mailer's SMTP thread gave no answer";

/// lettre's builder for an `smtp://` or `smtps://` URL.
fn smtp_builder(url: &str) -> Result<AsyncSmtpTransportBuilder, String> {
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        return Err("must start with smtp://, smtps:// or file://".into());
    }
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| format!("cannot be used: {e}"))
}

/// The message as it goes out: `Message-ID` on the sender's own domain (not the
/// machine's host name), `Auto-Submitted: auto-generated` so vacation replies and
/// other robots do not answer the no-reply address (RFC 3834), and the sender's
/// name encoded only when it needs to be.
fn build(from: &Mailbox, to: &str, email: Rendered) -> Result<Message, SendError> {
    let to: Mailbox = to
        .parse()
        .map_err(|e| SendError::Permanent(format!("invalid recipient address: {e}")))?;
    let id = format!(
        "<{}@{}>",
        uuid::Uuid::new_v4().simple(),
        from.email.domain()
    );
    Message::builder()
        .message_id(Some(id))
        .header(AutoSubmitted)
        .header(headers::Sender(from.clone()))
        .envelope(
            Envelope::new(Some(from.email.clone()), vec![to.email.clone()])
                .map_err(|e| SendError::Permanent(format!("invalid envelope: {e}")))?,
        )
        .to(to)
        .subject(email.subject)
        .multipart(MultiPart::alternative_plain_html(email.text, email.html))
        .map_err(|e| SendError::Permanent(format!("message cannot be built: {e}")))
}

fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let code = e.status().map(|c| format!(" ({c})")).unwrap_or_default();
    let reason = format!("SMTP{code}: {e}");
    if e.is_permanent() {
        SendError::Permanent(reason)
    } else {
        SendError::Transient(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::build;
    use crate::templates::Rendered;

    #[test]
    fn an_email_names_itself_automatic_and_its_id_is_on_the_senders_domain() {
        let from = "Client Portal <no-reply@clinic.example>".parse().unwrap();
        let email = Rendered {
            subject: "Set up your account".into(),
            text: "Hello".into(),
            html: "<p>Hello</p>".into(),
        };
        let message = build(&from, "jane@example.com", email).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(raw.contains("Auto-Submitted: auto-generated\r\n"), "{raw}");
        let id = raw
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .expect("a Message-ID");
        assert!(id.ends_with("@clinic.example>"), "{id}");
        assert!(
            raw.contains("From: \"Client Portal\" <no-reply@clinic.example>"),
            "{raw}"
        );
    }
}
