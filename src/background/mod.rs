//! Background loops. Each loop is a file exposing an idempotent
//! `tick(&App)`; `every` owns the sleeping, the leader lease (so only one
//! replica runs a loop at a time), errors and shutdown.

pub mod reconcile_runs;
pub mod review_sweep;
pub mod sweep_sessions;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;

pub fn spawn_all(app: Arc<App>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let reconcile_every = Duration::from_secs((app.config.lease_ttl_secs / 3).clamp(1, 30));
    let mut loops = vec![
        tokio::spawn(every(
            app.clone(),
            stop.clone(),
            "sweep-sessions",
            Duration::from_secs(600),
            |app| async move { sweep_sessions::tick(&app).await },
        )),
        tokio::spawn(every(
            app.clone(),
            stop.clone(),
            "reconcile-runs",
            reconcile_every,
            |app| async move { reconcile_runs::tick(&app).await },
        )),
        // Its first pass comes a few seconds after boot like every loop's
        // (see `every`), not a period later: a replica restarting more often
        // than `review.sweep_secs` still sweeps.
        tokio::spawn(every(
            app.clone(),
            stop.clone(),
            "review-sweep",
            Duration::from_secs(app.config.file.review.sweep_secs),
            |app| async move { review_sweep::tick(&app).await },
        )),
    ];
    if app.config.terraform.is_some() {
        // Not leader-leased: every armed replica works the queue.
        loops.push(tokio::spawn(crate::provisioning::worker::run_pool(
            app, stop,
        )));
    }
    loops
}

/// Run `tick` every `period` while this replica holds the loop's leader
/// lease `loop:<name>`. The lease is renewed every TTL/3 and released on stop.
pub async fn every<F, Fut>(
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
    name: &'static str,
    period: Duration,
    tick: F,
) where
    F: Fn(Arc<App>) -> Fut,
    Fut: Future<Output = crate::error::Result<()>>,
{
    let ttl = Duration::from_secs(app.config.lease_ttl_secs);
    let lease_name = format!("loop:{name}");
    let renew = (ttl / 3).min(period.max(Duration::from_secs(1)));
    let mut held = None;
    let mut next_tick = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        // Renew the lease we hold; when it is lost (or we hold none), try to
        // acquire it, which gives a new fencing token.
        let renewed = match &held {
            Some(l) => app.store.renew_lease(l, ttl).await,
            None => Ok(false),
        };
        let outcome = match renewed {
            Ok(true) => Ok(held.clone()),
            Ok(false) => app.store.try_lease(&lease_name, &app.holder_id, ttl).await,
            Err(e) => Err(e),
        };
        let confirmed = outcome.is_ok();
        match outcome {
            Ok(l) => {
                if l.is_some() && held.is_none() {
                    tracing::info!(loop_name = name, "acquired leader lease");
                }
                held = l;
            }
            Err(e) => {
                // Keep what we hold: a failed renewal may have been a blip,
                // and only a renewal that answers "lost" gives it up (a
                // dropped lease could not be taken back before it expires).
                tracing::warn!(loop_name = name, error = %e, "lease check failed");
            }
        }
        app.metrics.set_leader(name, held.is_some());
        if confirmed && held.is_some() && tokio::time::Instant::now() >= next_tick {
            if let Err(e) = tick(app.clone()).await {
                tracing::warn!(loop_name = name, error = ?e, "background tick failed");
            }
            next_tick = tokio::time::Instant::now() + period;
        }
        let wait = renew.min(
            next_tick
                .saturating_duration_since(tokio::time::Instant::now())
                .max(Duration::from_millis(200)),
        );
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|v| *v) => break,
        }
    }
    if let Some(l) = held {
        let _ = app.store.release_lease(&l).await;
    }
    app.metrics.set_leader(name, false);
}
