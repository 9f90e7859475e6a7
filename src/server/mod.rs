//! Binding and serving: `Server::bind` returns the real address (tests bind
//! port 0), `run_until_stopped` serves until the shutdown future resolves,
//! then drains in-flight requests for at most 30 s and stops the loops.
//! The accept loop and its timeouts are in `listener`.

mod activity;
mod listener;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::App;

pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
}

impl Server {
    pub async fn bind(app: Arc<App>, addr: &str) -> anyhow::Result<Server> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        Ok(Server { listener, app })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = self.app.clone();
        let router = crate::http::router(app.clone(), Some(crate::mcp::router(app.clone())));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let loops = crate::background::spawn_all(app.clone(), stop_rx.clone());

        let limits = connection_limits(&app.config.http);
        let (drain_tx, mut drain_rx) = tokio::sync::watch::channel(false);
        let serve = tokio::spawn(listener::serve(
            self.listener,
            router,
            limits,
            drain_rx.clone(),
        ));
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down: draining in-flight requests");
            let _ = drain_tx.send(true);
        });
        // Wait for the signal, then give in-flight requests at most 30 s.
        let _ = drain_rx.wait_for(|v| *v).await;
        let _ = stop_tx.send(true);
        match tokio::time::timeout(Duration::from_secs(30), serve).await {
            Ok(res) => res.context("server task")?,
            Err(_) => tracing::warn!("drain timed out after 30 s; exiting"),
        }
        for l in loops {
            let _ = tokio::time::timeout(Duration::from_secs(5), l).await;
        }
        app.store.close().await;
        Ok(())
    }
}

/// File descriptors kept back from the connection cap: the database pool,
/// Terraform children and their pipes, the listener, log files.
const FD_RESERVE: u64 = 256;
const DEFAULT_MAX_CONNECTIONS: u64 = 4096;

/// Raise the soft open-file limit to the hard one (the default soft limit,
/// often 1024, is what a flood of sockets exhausts first), then fit the
/// connection cap under it.
fn connection_limits(http: &crate::config::http::HttpLimits) -> listener::Limits {
    let nofile = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            let soft = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(s, _)| s);
            tracing::warn!("could not raise the open-file limit ({e}); it stays at {soft}");
            soft
        }
    };
    let ceiling = nofile.saturating_sub(FD_RESERVE).max(16);
    let max = match http.max_connections.map(|n| n as u64) {
        Some(n) if n > ceiling => {
            tracing::warn!(
                "ASGARD_HTTP_MAX_CONNECTIONS={n} leaves too few of the {nofile} open files the process may have; serving at most {ceiling} connections"
            );
            ceiling
        }
        Some(n) => n,
        None => DEFAULT_MAX_CONNECTIONS.min(ceiling),
    };
    tracing::info!(
        open_file_limit = nofile,
        max_connections = max,
        header_timeout_secs = http.header_timeout.as_secs(),
        idle_timeout_secs = http.idle_timeout.as_secs(),
        body_timeout_secs = http.body_timeout.as_secs(),
        "connection limits"
    );
    listener::Limits {
        header_timeout: http.header_timeout,
        idle_timeout: http.idle_timeout,
        body_timeout: http.body_timeout,
        max_connections: u32::try_from(max).unwrap_or(u32::MAX),
    }
}

/// Resolves on SIGTERM or Ctrl-C.
///
/// The handlers are installed when this is called, not when the future is
/// first polled: a SIGTERM that arrives right after the `listening` line
/// (a supervisor stopping a fresh replica) must drain and exit 0, not kill
/// the process with the default action.
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! { _ = wait(term) => {}, _ = wait(int) => {} }
    }
}

#[cfg(not(unix))]
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
