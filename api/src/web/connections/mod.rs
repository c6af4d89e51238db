//! What poem's server leaves unbounded: how many connections are open at once and
//! how long a client may take to send a request head. Slow clients (half a header,
//! then nothing) otherwise hold a connection and a task forever.
//!
//! Upstream limitation: poem 3.1 builds hyper's connection builder inside
//! `Server::run` and sets no timer, so hyper's own `header_read_timeout` is
//! unreachable. Hence this acceptor: it waits for a free slot before accepting
//! (further clients queue in the kernel's backlog), and wraps each connection so
//! that, while no request of it is being handled, a request head must arrive within
//! `HTTP_HEADER_TIMEOUT_SECS` of the connection opening, of the last answer, or of the
//! server's last write (so idle keep-alive connections end too). The [`track`]
//! middleware tells a connection when one of its requests is being handled: hyper
//! has parsed its head, and the handler and the body deadline take over. Closing
//! connections linger, so a client still sending reads the answer (`poll_shutdown`).
use crate::configuration::HttpLimits;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, IntoResponse, Request, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

mod io;

pub use io::GuardedIo;

/// The open connections, by peer address, and the slots they take.
pub struct Connections {
    slots: Arc<Semaphore>,
    pub(super) header_timeout: Duration,
    open: Mutex<HashMap<SocketAddr, Arc<Activity>>>,
}

/// What the connection and its requests share.
pub(super) struct Activity {
    pub(super) opened: Instant,
    /// Requests of this connection being handled now.
    pub(super) in_flight: AtomicUsize,
    /// Milliseconds after `opened` when the connection last became idle.
    pub(super) idle_since_ms: AtomicU64,
}

impl Activity {
    pub(super) fn stamp(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.idle_since_ms.store(ms, Ordering::Release);
    }

    pub(super) fn head_deadline(&self, timeout: Duration) -> Instant {
        let idle_since = Duration::from_millis(self.idle_since_ms.load(Ordering::Acquire));
        self.opened + idle_since + timeout
    }
}

impl Connections {
    pub fn new(limits: &HttpLimits) -> Arc<Self> {
        Arc::new(Self {
            slots: Arc::new(Semaphore::new(limits.max_connections)),
            header_timeout: limits.header_timeout,
            open: Mutex::new(HashMap::new()),
        })
    }

    pub(super) fn open(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Arc<Activity>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn activity(&self, peer: &RemoteAddr) -> Option<Arc<Activity>> {
        let peer = peer.as_socket_addr()?;
        self.open().get(peer).cloned()
    }
}

/// Wraps `inner` so it accepts only while a slot is free and guards each connection.
pub fn guard<A: Acceptor>(connections: &Arc<Connections>, inner: A) -> GuardedAcceptor<A> {
    GuardedAcceptor {
        inner,
        connections: connections.clone(),
    }
}

/// Marks the request's connection busy until the handler has answered.
pub async fn track<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    connections: Arc<Connections>,
) -> poem::Result<Response> {
    let _busy = connections.activity(req.remote_addr()).map(Busy::new);
    next.call(req).await.map(IntoResponse::into_response)
}

/// One request being handled; dropping it (answer, error or cancellation) makes the
/// connection owe a new head within the timeout from now.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.stamp();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An acceptor that holds at most `HTTP_MAX_CONNECTIONS` connections open.
pub struct GuardedAcceptor<A> {
    inner: A,
    connections: Arc<Connections>,
}

impl<A: Acceptor> Acceptor for GuardedAcceptor<A> {
    type Io = GuardedIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> std::io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let slots = &self.connections.slots;
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                tracing::warn!("connection limit reached; new connections wait");
                metrics::counter!(crate::telemetry::metrics::CONNECTION_LIMIT).increment(1);
                slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(std::io::Error::other)?
            }
        };
        let (io, local, remote, scheme) = self.inner.accept().await?;
        let io = GuardedIo::new(io, slot, &self.connections, &remote);
        Ok((io, local, remote, scheme))
    }
}
