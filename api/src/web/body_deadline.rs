//! A deadline on reading each request body (`HTTP_BODY_TIMEOUT_SECS`), counted from
//! when the head arrived. A client that declares a body and then sends it a byte at a
//! time would otherwise hold a handler, and its connection, for as long as it likes.
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::Sleep;

/// Passes `req` on with its body cut off, as a `TimedOut` read error, at the deadline.
pub async fn limit_body_time<E: Endpoint>(
    next: Arc<E>,
    mut req: Request,
    timeout: Duration,
) -> poem::Result<Response> {
    let body = req.take_body();
    if body.is_empty() {
        req.set_body(body);
    } else {
        let reader = DeadlineRead {
            inner: body.into_async_read(),
            deadline: Box::pin(tokio::time::sleep(timeout)),
        };
        req.set_body(Body::from_async_read(reader));
    }
    next.call(req).await.map(IntoResponse::into_response)
}

/// Whether a body read failed because the body deadline passed.
pub fn timed_out(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut
}

struct DeadlineRead<R> {
    inner: R,
    deadline: Pin<Box<Sleep>>,
}

impl<R: AsyncRead + Unpin> AsyncRead for DeadlineRead<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "request body not received in time",
            )));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}
