//! The in-process boot: `asgard serve`'s library path (`Config::load`,
//! `App::build`, `Server::bind` on port 0, `run_until_stopped`) on the test's
//! own tokio runtime. Nothing process-wide is touched: the configuration comes
//! from an explicit environment map (the one the binary would get), no
//! tracing subscriber is installed (so there is no log to read: tests that
//! scan log lines use `Opts::process()`), and the process environment and
//! working directory stay as they are, so tests still run in parallel.
//!
//! The handle exposes the `App` and the background loops' ticks, so a test
//! calls a tick when it wants one instead of waiting for the loop's period.

use std::sync::Arc;
use std::time::Duration;

use asgard::app::{App, BootMode};
use asgard::clock::Clock;
use asgard::config::Config;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::app::{Runner, TestApp, boot_env, configured_password, write_config};
use super::{Opts, Sandbox};

/// A server running in this process.
pub struct InProcess {
    /// Taken on `stop`, so the last handle on the store (and the SQLite
    /// process lock it holds) goes away with the server.
    app: Option<Arc<App>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Boot in `sb` with `opts`; panics (with the boot error) when it fails.
pub async fn boot(sb: &Arc<Sandbox>, opts: Opts) -> TestApp {
    let (n, cfg_path) = write_config(sb, &opts);
    let env = boot_env(sb, &opts);
    let configured_pw = configured_password(&env);
    let env = env.into_iter().collect();
    let cfg = Config::load(&env, Some(opts.bind.clone()), Some(cfg_path))
        .unwrap_or_else(|e| panic!("configuration error: {e}"));
    let bind = cfg.bind.clone();
    let (app, notes) = App::build(cfg, BootMode::Serve)
        .await
        .unwrap_or_else(|e| panic!("asgard did not boot: {e:#}"));
    let app = match opts.fake_clock {
        Some(at) => with_clock(app, Clock::fake(at)),
        None => app,
    };
    let server = asgard::server::Server::bind(app.clone(), &bind)
        .await
        .unwrap_or_else(|e| panic!("binding {bind}: {e:#}"));
    let mut addr = server.local_addr().expect("the bound address");
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    // A dropped sender (the test ended without `stop`) shuts down too.
    let task = tokio::spawn(server.run_until_stopped(async move {
        let _ = stop_rx.await;
    }));
    let password = match (configured_pw, notes.generated_admin_password) {
        (Some(p), _) => (p, false),
        (None, Some(p)) => (p, true),
        (None, None) => (String::new(), false),
    };
    let runner = Runner::InProcess(InProcess {
        app: Some(app),
        stop: Some(stop_tx),
        task: Some(task),
    });
    // No process, so no log file: `log()` refuses instead of reading one.
    let log_path = sb.path(&format!("asgard-{n}.in-process"));
    TestApp::assemble(sb, addr, password, log_path, runner)
}

/// The app with its store on `clock`. Only the boot holds the `Arc` here,
/// and the caches share the store's write generation, so swapping the store
/// handle is the whole change.
fn with_clock(app: Arc<App>, clock: Clock) -> Arc<App> {
    let mut app = Arc::try_unwrap(app)
        .unwrap_or_else(|_| panic!("the app is shared before the server starts"));
    assert!(
        app.backend.is_none(),
        "a fake clock does not reach the Terraform state backend: boot unarmed"
    );
    app.store = app.store.clone().with_clock(clock);
    Arc::new(app)
}

impl InProcess {
    /// Shut down as SIGTERM would (drain, stop the loops, close the store)
    /// and wait for it, asserting a clean stop.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.app = None;
        if let Some(task) = self.task.take() {
            let done = tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("the in-process server did not stop within 15 s")
                .expect("the server task panicked");
            done.unwrap_or_else(|e| panic!("the server stopped with an error: {e:#}"));
        }
    }

    fn app(&self) -> &Arc<App> {
        self.app.as_ref().expect("the server was stopped")
    }
}

impl TestApp {
    fn in_process(&self) -> &InProcess {
        match &self.runner {
            Runner::InProcess(p) => p,
            Runner::Process(_) => {
                panic!("this needs the in-process app: boot it without `Opts::process()`")
            }
        }
    }

    /// The running app (in-process only): its store, config and caches.
    pub fn app(&self) -> &Arc<App> {
        self.in_process().app()
    }

    /// The store's clock (fake with `Opts::fake_clock`, else the system's).
    pub fn clock(&self) -> &Clock {
        self.app().store.clock()
    }

    /// One pass of the reconciler (re-queues runs whose replica stopped).
    pub async fn tick_reconcile_runs(&self) {
        asgard::background::reconcile_runs::tick(self.app())
            .await
            .unwrap_or_else(|e| panic!("reconcile-runs tick: {e:?}"));
    }

    /// One pass of the review sweep (marks overdue reviews).
    pub async fn tick_review_sweep(&self) {
        asgard::background::review_sweep::tick(self.app())
            .await
            .unwrap_or_else(|e| panic!("review-sweep tick: {e:?}"));
    }

    /// One pass of the session sweep (deletes expired sessions).
    pub async fn tick_sweep_sessions(&self) {
        asgard::background::sweep_sessions::tick(self.app())
            .await
            .unwrap_or_else(|e| panic!("sweep-sessions tick: {e:?}"));
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        // Ask for the shutdown; the runtime finishes (or drops) the task.
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
