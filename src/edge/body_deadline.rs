//! A request body that must arrive in full by a deadline. tower-http's
//! `TimeoutBody` restarts its clock at every frame, so a client trickling
//! one byte a second would never trip it; this one counts from the moment
//! the request's head arrived. The extractors that read bodies answer the
//! error with 408 `request_timeout`.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The body did not arrive by its deadline.
#[derive(Debug)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

/// Whether `e` (or anything it wraps) is a `BodyTimedOut`.
pub fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyTimedOut>() {
            return true;
        }
        cur = err.source();
    }
    false
}

pub struct DeadlineBody {
    inner: Body,
    sleep: Pin<Box<Sleep>>,
    done: bool,
}

impl DeadlineBody {
    pub fn wrap(inner: Body, within: Duration) -> Body {
        // A body already known to be empty needs no timer.
        if http_body::Body::is_end_stream(&inner) {
            return inner;
        }
        Body::new(DeadlineBody {
            inner,
            sleep: Box::pin(tokio::time::sleep_until(Instant::now() + within)),
            done: false,
        })
    }
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        // Data that is already here wins over a deadline that just passed.
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            if frame.is_none() {
                self.done = true;
            }
            return Poll::Ready(frame);
        }
        ready!(self.sleep.as_mut().poll(cx));
        self.done = true;
        Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))))
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// 408 for a body that did not arrive by its deadline. The rest of it is
/// not read, so the connection is not reused.
pub fn body_timed_out() -> Response {
    let mut r = super::error::plain(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "the request body did not arrive in time",
        "send the whole body promptly (operators: ASGARD_HTTP_BODY_TIMEOUT_SECS)",
    );
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// One byte every 50 ms, forever: each gap is short, the total is not.
    struct Trickle(Pin<Box<Sleep>>);

    impl http_body::Body for Trickle {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            ready!(self.0.as_mut().poll(cx));
            let next = Instant::now() + Duration::from_millis(50);
            self.0.as_mut().reset(next);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"x")))))
        }
    }

    #[tokio::test]
    async fn a_trickled_body_times_out_as_a_whole() {
        let inner = Body::new(Trickle(Box::pin(tokio::time::sleep(Duration::ZERO))));
        let body = DeadlineBody::wrap(inner, Duration::from_millis(300));
        let err = body.collect().await.expect_err("timed out");
        assert!(is_timeout(&err), "{err}");
    }

    #[tokio::test]
    async fn a_prompt_body_passes() {
        let body = DeadlineBody::wrap(Body::from("hello"), Duration::from_secs(2));
        let b = body.collect().await.unwrap().to_bytes();
        assert_eq!(&b[..], b"hello");
    }
}
