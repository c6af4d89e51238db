//! One guarded connection: the request-head deadline and the lingering close.
use super::{Activity, Connections};
use poem::web::RemoteAddr;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};

/// A connection under the head deadline; it leaves the registry and frees its slot
/// when dropped.
pub struct GuardedIo<IO> {
    inner: IO,
    activity: Arc<Activity>,
    deadline: Pin<Box<Sleep>>,
    header_timeout: Duration,
    registered: Option<(SocketAddr, Arc<Connections>)>,
    linger: Option<Linger>,
    _slot: OwnedSemaphorePermit,
}

impl<IO> GuardedIo<IO> {
    pub(super) fn new(
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
            linger: None,
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

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for GuardedIo<IO> {
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

    /// Lingering close: after the answer, end our side, then read and discard what
    /// the client is still sending (at most [`LINGER_BYTES`] for [`LINGER`]) before the
    /// socket is closed. Closing with unread data makes the kernel reset the
    /// connection, and a client still writing a large body then fails with a broken
    /// pipe instead of reading the `413` it was sent.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let linger = match &mut this.linger {
            Some(linger) => linger,
            None => {
                std::task::ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                this.linger.insert(Linger {
                    until: Box::pin(tokio::time::sleep(LINGER)),
                    drained: 0,
                })
            }
        };
        let mut scratch = [0u8; 8192];
        loop {
            if linger.until.as_mut().poll(cx).is_ready() || linger.drained >= LINGER_BYTES {
                tracing::debug!(drained = linger.drained, "closing with the request unread");
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => linger.drained += buf.filled().len(),
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// How long, and how much, a closing connection reads and discards so that its
/// client gets to read the answer (see `poll_shutdown`).
const LINGER: Duration = Duration::from_secs(5);
const LINGER_BYTES: usize = 8 << 20;

/// A lingering close in progress.
struct Linger {
    until: Pin<Box<Sleep>>,
    drained: usize,
}
