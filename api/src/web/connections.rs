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
//! has parsed its head, and the handler and the body deadline take over.
use crate::configuration::HttpLimits;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, IntoResponse, Request, Response};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// The open connections, by peer address, and the slots they take.
pub struct Connections {
    slots: Arc<Semaphore>,
    header_timeout: Duration,
    open: Mutex<HashMap<SocketAddr, Arc<Activity>>>,
}

/// What the connection and its requests share.
struct Activity {
    opened: Instant,
    /// Requests of this connection being handled now.
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` when the connection last became idle.
    idle_since_ms: AtomicU64,
}

impl Activity {
    fn stamp(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.idle_since_ms.store(ms, Ordering::Release);
    }

    fn head_deadline(&self, timeout: Duration) -> Instant {
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

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Arc<Activity>>> {
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

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let slots = &self.connections.slots;
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                tracing::warn!("connection limit reached; new connections wait");
                metrics::counter!("http_connection_limit_reached_total").increment(1);
                slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(io::Error::other)?
            }
        };
        let (io, local, remote, scheme) = self.inner.accept().await?;
        let io = GuardedIo::new(io, slot, &self.connections, &remote);
        Ok((io, local, remote, scheme))
    }
}

/// A connection under the head deadline; it leaves the registry and frees its slot
/// when dropped.
pub struct GuardedIo<IO> {
    inner: IO,
    activity: Arc<Activity>,
    deadline: Pin<Box<Sleep>>,
    header_timeout: Duration,
    registered: Option<(SocketAddr, Arc<Connections>)>,
    _slot: OwnedSemaphorePermit,
}

impl<IO> GuardedIo<IO> {
    fn new(
        inner: IO,
        slot: OwnedSemaphorePermit,
        connections: &Arc<Connections>,
        peer: &RemoteAddr,
    ) -> Self {
        let activity = Arc::new(Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
        });
        let registered = peer.as_socket_addr().map(|addr| {
            connections.open().insert(*addr, activity.clone());
            (*addr, connections.clone())
        });
        let header_timeout = connections.header_timeout;
        Self {
            deadline: Box::pin(tokio::time::sleep_until(
                activity.head_deadline(header_timeout),
            )),
            inner,
            activity,
            header_timeout,
            registered,
            _slot: slot,
        }
    }

    /// True when no request is being handled and the head deadline has passed.
    fn head_overdue(&mut self, cx: &mut Context<'_>) -> bool {
        if self.activity.in_flight.load(Ordering::Acquire) > 0 {
            return false;
        }
        let deadline = self.activity.head_deadline(self.header_timeout);
        if self.deadline.deadline() != deadline {
            self.deadline.as_mut().reset(deadline);
        }
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

impl<IO> Drop for GuardedIo<IO> {
    fn drop(&mut self) {
        if let Some((addr, connections)) = self.registered.take() {
            let mut open = connections.open();
            if open
                .get(&addr)
                .is_some_and(|a| Arc::ptr_eq(a, &self.activity))
            {
                open.remove(&addr);
            }
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for GuardedIo<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.head_overdue(cx) {
            tracing::info!("closing a connection whose request head did not arrive in time");
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "request head not received in time",
            )));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for GuardedIo<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            // An answer still going out to a slow reader is not idleness.
            self.activity.stamp();
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
