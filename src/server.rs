//! Binding and serving: `Server::bind` returns the real address (tests bind
//! port 0), `run_until_stopped` serves until the shutdown future resolves,
//! then drains in-flight requests for at most 30 s and stops the loops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
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
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = self.app.clone();
        let router = crate::http::router(app.clone(), Some(crate::mcp::router(app.clone())));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let loops = crate::background::spawn_all(app.clone(), stop_rx.clone());

        // Every reply goes out without waiting on Nagle's algorithm.
        let listener = self.listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let (drain_tx, mut drain_rx) = tokio::sync::watch::channel(false);
        let graceful = async move {
            shutdown.await;
            tracing::info!("shutting down: draining in-flight requests");
            let _ = drain_tx.send(true);
        };
        let serve = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(graceful);
        let serve = tokio::spawn(async move { serve.await });
        // Wait for the signal, then give in-flight requests at most 30 s.
        let _ = drain_rx.wait_for(|v| *v).await;
        let _ = stop_tx.send(true);
        match tokio::time::timeout(Duration::from_secs(30), serve).await {
            Ok(res) => res.context("server task")?.context("serving")?,
            Err(_) => tracing::warn!("drain timed out after 30 s; exiting"),
        }
        for l in loops {
            let _ = tokio::time::timeout(Duration::from_secs(5), l).await;
        }
        app.store.close().await;
        Ok(())
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
