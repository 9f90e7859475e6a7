//! The worker pool that runs on every armed replica: claim a queued request
//! (a lease, then a compare-and-set on the request's state), take the resource's lease
//! (one run per resource across replicas), renew it every TTL/3 while
//! Terraform runs, and record the outcome under a fencing check.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

use super::runner::{self, Action, RunSpec};
use super::{
    REQUEST_COLS, Request, RequestKind, RequestState, ResourceState, estimate, outputs, query,
};
use crate::app::App;
use crate::audit::{self, Event};
use crate::error::{Error, Result};
use crate::secrets::{Cipher, Purpose, store as secret_store};
use crate::store::Store;
use crate::store::lease::Lease;

pub async fn run_pool(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let Some(tf) = app.config.terraform.clone() else {
        return;
    };
    let permits = Arc::new(Semaphore::new(tf.max_concurrent as usize));
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = stop.wait_for(|v| *v) => return,
        };
        match claim(&app).await {
            Ok(Some((req, lease))) => {
                let app = app.clone();
                tokio::spawn(async move {
                    let id = req.id.clone();
                    if let Err(e) = run_one(&app, req, lease).await {
                        tracing::error!(request_id = %id, error = ?e, "provisioning run failed to record");
                    }
                    drop(permit);
                    app.work.notify_one();
                });
            }
            Ok(None) => {
                drop(permit);
                tokio::select! {
                    _ = app.work.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = stop.wait_for(|v| *v) => return,
                }
            }
            Err(e) => {
                drop(permit);
                tracing::warn!(error = ?e, "claiming provisioning work failed");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// How many candidates one claim tries before waiting for more work.
const CLAIM_CANDIDATES: i64 = 5;

/// Claim the oldest queued request whose resource has nothing running,
/// taking the resource's lease *before* marking the request `running`. So a
/// `running` row always has a lease behind it, and the reconciler can take a
/// missing or expired lease as a dead replica with no extra grace period:
/// failover is bounded by `lease_ttl_secs` alone. The lease is also what keeps
/// two replicas from claiming runs of one resource.
async fn claim(app: &App) -> Result<Option<(Request, Lease)>> {
    let ttl = Duration::from_secs(app.config.lease_ttl_secs);
    claim_next(&app.store, &app.holder_id, ttl).await
}

/// `claim` on a bare store, for `holder` (the store contract suite runs it
/// on both engines with a fake clock).
pub(crate) async fn claim_next(
    store: &Store,
    holder: &str,
    ttl: Duration,
) -> Result<Option<(Request, Lease)>> {
    // A read: finding candidates changes nothing (the claim below is the
    // write), so it takes the reader path and flushes no cache.
    let candidates: Vec<(String, String)> = on_pool!(store.read(), |p| {
        sqlx::query_as(
        "SELECT r.id, r.resource_id FROM requests r WHERE r.state = 'queued'
           AND NOT EXISTS (SELECT 1 FROM requests x WHERE x.resource_id = r.resource_id AND x.state = 'running')
           AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = 'resource:' || r.resource_id AND l.expires_at > $2)
         ORDER BY r.created_at, r.id LIMIT $1"
    )
    .bind(CLAIM_CANDIDATES)
    .bind(store.clock().now())
    .fetch_all(p)
    .await
    })?;
    let flip = format!(
        "UPDATE requests SET state = 'running', claimed_by = $1, attempts = attempts + 1, started_at = $2, updated_at = $2
         WHERE id = $3 AND state = 'queued'
           AND NOT EXISTS (SELECT 1 FROM requests x WHERE x.resource_id = $4 AND x.state = 'running')
         RETURNING {REQUEST_COLS}"
    );
    for (id, resource_id) in candidates {
        let name = format!("resource:{resource_id}");
        // Someone else (another replica) got there first: try the next one.
        let Some(lease) = store.try_lease(&name, holder, ttl).await? else {
            continue;
        };
        let now = store.clock().now();
        let claimed = on_pool!(store.write(), |p| {
            sqlx::query_as::<_, Request>(&flip)
                .bind(holder)
                .bind(now)
                .bind(&id)
                .bind(&resource_id)
                .fetch_optional(p)
                .await
        })?;
        match claimed {
            Some(req) => return Ok(Some((req, lease))),
            None => {
                let _ = store.release_lease(&lease).await;
            }
        }
    }
    Ok(None)
}

async fn run_one(app: &Arc<App>, req: Request, lease: Lease) -> Result<()> {
    let ttl = Duration::from_secs(app.config.lease_ttl_secs);
    // We hold the resource now: any Terraform lock left is from a dead run.
    on_pool!(app.store.write(), |p| sqlx::query(
        "DELETE FROM tf_locks WHERE resource_id = $1"
    )
    .bind(&req.resource_id)
    .execute(p)
    .await
    .map(|r| r.rows_affected()))?;

    let (cancel_tx, cancel_rx) = watch::channel(false);
    let renewer = {
        let app = app.clone();
        let lease = lease.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(ttl / 3).await;
                match app.store.renew_lease(&lease, ttl).await {
                    Ok(true) => {}
                    _ => {
                        tracing::warn!(lease = %lease.name, "lost the resource lease; stopping the run");
                        let _ = cancel_tx.send(true);
                        return;
                    }
                }
            }
        })
    };
    let result = execute(app, &req, &lease, cancel_rx).await;
    renewer.abort();
    let recorded = finish(app, &req, &lease, result).await;
    let _ = app.store.release_lease(&lease).await;
    recorded
}

struct Done {
    ok: bool,
    reason: Option<String>,
    outputs: serde_json::Map<String, Value>,
    secrets: Vec<(String, Vec<u8>)>,
    log: String,
    duration_ms: u64,
}

fn failed(reason: impl Into<String>) -> Done {
    Done {
        ok: false,
        reason: Some(reason.into()),
        outputs: Default::default(),
        secrets: vec![],
        log: String::new(),
        duration_ms: 0,
    }
}

async fn execute(
    app: &Arc<App>,
    req: &Request,
    lease: &Lease,
    cancel: watch::Receiver<bool>,
) -> Done {
    let Some(tf) = app.config.terraform.as_ref() else {
        return failed("provisioning is not armed");
    };
    let Some(backend) = app.backend.as_ref() else {
        return failed("the state backend is not running");
    };
    let Ok(Some(res)) = query::resource(app.provisioner(), &req.resource_id).await else {
        return failed("the resource record is missing");
    };
    let Some(m) = app.catalog.get(&res.service) else {
        return failed(format!(
            "service {} is no longer in the catalog",
            res.service
        ));
    };
    let Ok(pr) = crate::registry::projects::fetch_by_id(app.registry(), &req.project_id).await
    else {
        return failed("the project is missing");
    };
    if req.kind.applies_spec() && (pr.killed || pr.lifecycle != crate::registry::Lifecycle::Active)
    {
        return failed(format!(
            "project {} is frozen or not active; nothing was changed",
            pr.id
        ));
    }
    // Suspend, resume and destroy work from the spec applied when they run,
    // not the one applied when they were queued: an update may have applied
    // since. (A destroy of a resource never applied keeps the spec it was
    // queued with: the last one a run started with.)
    let spec = if req.kind.applies_spec() {
        req.spec.clone()
    } else {
        match applied_spec(app, &res.id).await {
            Ok(Some(s)) => s,
            Ok(None) => req.spec.clone(),
            Err(e) => return failed(format!("reading the resource's history failed: {e}")),
        }
    };
    let mut vars: serde_json::Map<String, Value> = serde_json::from_str(&spec).unwrap_or_default();
    if req.kind == RequestKind::Suspend {
        for (k, v) in &m.stop_vars {
            vars.insert(k.clone(), v.clone());
        }
    }
    vars.insert("name".into(), json!(res.name));
    vars.insert(
        "tags".into(),
        json!({"asgard:project": pr.id, "asgard:owner": pr.owner_email, "asgard:cost-center": pr.cost_center.clone().unwrap_or_default(), "asgard:classification": pr.classification}),
    );
    let cred = backend.register(&res.id, lease.clone());
    let spec = RunSpec {
        bin: &tf.bin,
        module_dir: tf.modules_dir.join(&m.module),
        work_dir: tf.work_dir.join(&res.id),
        vars: Value::Object(vars),
        env: app.config.child_env.clone(),
        state_url: backend.state_url(&res.id),
        lock_url: backend.lock_url(&res.id),
        backend_password: cred.password.clone(),
        timeout: Duration::from_secs(m.timeout_secs.min(tf.timeout_secs)),
    };
    let action = if req.kind == RequestKind::Destroy {
        Action::Destroy
    } else {
        Action::Apply
    };
    let mut out = runner::run(spec, action, cancel).await;
    backend.unregister(&cred);
    // The outputs (and their `sensitive` flags) are those of the state the
    // apply just wrote through the backend: no `terraform output` process.
    let mut tf_outputs = serde_json::Map::new();
    if out.ok && action == Action::Apply {
        match backend.outputs(&res.id).await {
            Ok(o) => tf_outputs = o,
            Err(e) => {
                out.ok = false;
                out.reason = Some(format!("reading the outputs from the state failed: {e}"));
            }
        }
    }
    let split = outputs::split(m, &pr.id, &res.name, &tf_outputs);
    Done {
        ok: out.ok,
        reason: out.reason,
        outputs: split.record,
        secrets: split.secrets,
        log: out.log,
        duration_ms: out.duration_ms,
    }
}

async fn finish(app: &App, req: &Request, lease: &Lease, done: Done) -> Result<()> {
    if !app.store.lease_valid(lease).await? {
        return Err(Error::conflict(
            "lost the resource lease before recording",
            "the reconciler re-queues the run",
        ));
    }
    let now = app.store.clock().now();
    let destroy = req.kind == RequestKind::Destroy;
    let (req_state, res_state) = match (done.ok, destroy) {
        (true, true) => (RequestState::Fulfilled, ResourceState::Destroyed),
        (true, false) => (RequestState::Fulfilled, ResourceState::Fulfilled),
        (false, true) => (RequestState::Failed, ResourceState::DestroyFailed),
        (false, false) => (RequestState::Failed, ResourceState::Failed),
    };
    let reason = done
        .reason
        .as_deref()
        .map(|r| outputs::redact(r, &done.secrets));
    let mut tx = app.store.begin().await?;
    let n = on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE requests SET state = $1, error = $2, finished_at = $3, updated_at = $3 WHERE id = $4 AND state = 'running' AND claimed_by = $5")
            .bind(req_state).bind(&reason).bind(now).bind(&req.id).bind(&app.holder_id)
            .execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(Error::conflict(
            "the request was taken over",
            "nothing recorded",
        ));
    }
    let res = query::resource_tx(&mut tx, &req.resource_id).await?;
    // A deprovision (or decommission) that came while this run was going
    // queued a destroy behind it: the resource stays `destroying` until then.
    let res_state = if !destroy && destroy_queued(&mut tx, &res.id).await? {
        ResourceState::Destroying
    } else {
        res_state
    };
    let cipher = &app.ciphers.secrets;
    if done.ok && destroy {
        let prefix = outputs::secret_prefix(&res.service, &res.name);
        secret_store::delete_prefix(&mut tx, &req.project_id, &prefix).await?;
        // Secrets stored under the older `<resource>/<output>` names: only the
        // ones this resource's outputs point at.
        for name in outputs::referenced_secrets(&res.outputs, &req.project_id) {
            secret_store::delete_name(&mut tx, &req.project_id, &name).await?;
        }
    }
    if done.ok && !destroy {
        for (name, value) in &done.secrets {
            secret_store::put(&mut tx, cipher, &req.project_id, name, value).await?;
        }
    }
    let outputs_text = if done.ok && !destroy {
        Value::Object(done.outputs.clone()).to_string()
    } else if destroy && done.ok {
        "{}".into()
    } else {
        res.outputs.clone()
    };
    let suspended = match req.kind {
        RequestKind::Suspend => done.ok || res.suspended,
        RequestKind::Resume => !done.ok && res.suspended,
        _ => res.suspended,
    };
    // Only a successful create or update changes the applied spec; suspend
    // and resume re-apply the one already there.
    let spec = if done.ok && req.kind.applies_spec() {
        &req.spec
    } else {
        &res.spec
    };
    on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE resources SET state = $1, outputs = $2, last_error = $3, suspended = $4, spec = $5, updated_at = $6 WHERE id = $7")
            .bind(res_state).bind(&outputs_text).bind(&reason).bind(suspended).bind(spec).bind(now).bind(&res.id)
            .execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    if !destroy {
        estimate::refresh(&mut tx, &app.catalog, &res).await?;
    }
    let log = outputs::redact(&done.log, &done.secrets);
    let sealed = Cipher::new(&app.master_key, Purpose::RunLogs)
        .seal(log.as_bytes(), format!("runlog|{}", req.id).as_bytes());
    on_tx!(&mut tx, |c| {
        sqlx::query("INSERT INTO run_logs (request_id, sealed, created_at) VALUES ($1, $2, $3) ON CONFLICT (request_id) DO UPDATE SET sealed = EXCLUDED.sealed, created_at = EXCLUDED.created_at")
            .bind(&req.id).bind(sealed).bind(now)
            .execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    let action = match (done.ok, destroy) {
        (true, true) => "resource.destroyed",
        (true, false) => "resource.fulfilled",
        (false, _) => "resource.failed",
    };
    audit::record(
        &mut tx,
        Event::system("system:provisioner", action).project(&req.project_id).target(&req.id).reason(reason.as_deref()).data(json!({
            "service": res.service, "name": res.name, "kind": req.kind, "duration_ms": done.duration_ms,
            "outputs": done.outputs.keys().collect::<Vec<_>>(), "secrets": done.secrets.len(),
        })),
    )
    .await?;
    tx.commit().await?;
    app.metrics.run_finished(req.kind.as_str(), done.ok);
    Ok(())
}

/// The spec of the resource's last successful create or update.
async fn applied_spec(app: &App, resource_id: &str) -> Result<Option<String>> {
    let h = super::history::read(&app.store, resource_id).await?;
    Ok(h.last_applied.map(|r| r.spec))
}

async fn destroy_queued(tx: &mut crate::store::Tx, resource_id: &str) -> Result<bool> {
    let n: i64 = on_tx!(tx, |c| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests WHERE resource_id = $1 AND kind = 'destroy' AND state = 'queued'"
    )
    .bind(resource_id)
    .fetch_one(&mut *c)
    .await
    })?;
    Ok(n > 0)
}
