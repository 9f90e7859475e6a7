//! The accept loop and one task per connection, on hyper's HTTP/1
//! connection (HTTP/1.1 with keep-alive; `axum::serve` offered nothing more
//! with the features this crate builds). `axum::serve` has no header-read
//! timeout and no limit on connections, so a client holding sockets open
//! (slowloris) could use up the process's file descriptors. Here:
//!
//! - a request head must arrive within the header timeout, counted from
//!   when the server starts waiting for it, so an idle keep-alive
//!   connection is also closed after it;
//! - a request body must arrive within the body timeout (408 otherwise);
//! - a connection on which no byte moves either way for the idle timeout is
//!   closed (a client that stops reading our answers);
//! - at most `max_connections` are served at once. Beyond that, new
//!   connections wait in the kernel's accept queue instead of being
//!   refused: the timeouts above free a slot every few seconds under a
//!   flood of idle sockets, so a health probe waits its turn instead of
//!   failing, and the process never runs out of file descriptors.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

use super::activity::{Activity, Tracked};
use crate::edge::body_deadline::DeadlineBody;

/// How often the "connection cap reached" warning may repeat.
const CAP_WARN_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: u32,
}

/// Serve until `stop` turns true (or its sender goes away), then stop
/// accepting, ask every connection to finish its request in flight, and
/// return once all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (close_tx, close_rx) = watch::channel(false);
    let mut last_warn: Option<Instant> = None;
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if last_warn.is_none_or(|t| t.elapsed() >= CAP_WARN_EVERY) {
                    last_warn = Some(Instant::now());
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection cap reached: new connections wait in the accept queue until one closes (ASGARD_HTTP_MAX_CONNECTIONS)"
                    );
                }
                tokio::select! {
                    p = permits.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                    _ = turned_true(&mut stop) => break,
                }
            }
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            _ = turned_true(&mut stop) => break,
        };
        // Every reply goes out without waiting on Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        tokio::spawn(connection(
            tcp,
            peer,
            router.clone(),
            limits,
            permit,
            close_rx.clone(),
        ));
    }
    // Closing the listener refuses new connections from here on.
    drop(listener);
    let _ = close_tx.send(true);
    // Every open connection holds a permit: all back means all closed.
    let _ = permits.acquire_many(limits.max_connections).await;
}

/// Resolves once the flag is true or its sender is gone. (The `Ref` that
/// `wait_for` yields is not `Send`, so it is dropped in here.)
async fn turned_true(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

/// Errors of one connection (reset before accept) are skipped; others (out
/// of file descriptors) are logged and the loop pauses a moment, as
/// `axum::serve` does, rather than spinning.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accepting a connection failed: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    _permit: OwnedSemaphorePermit,
    mut close: watch::Receiver<bool>,
) {
    let activity = Activity::now();
    let io = TokioIo::new(Tracked::new(tcp, activity.clone()));
    let body_timeout = limits.body_timeout;
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req = req.map(|b| DeadlineBody::wrap(Body::new(b), body_timeout));
        req.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(req)
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
                break;
            }
            _ = turned_true(&mut close), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = activity.idle_for(limits.idle_timeout) => {
                tracing::debug!(%peer, "closing a connection with no traffic for {:?}", limits.idle_timeout);
                break;
            }
        }
    }
}
