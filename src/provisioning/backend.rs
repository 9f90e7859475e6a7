//! Terraform's `http` state backend, served by Asgard on a loopback-only
//! listener. Each run gets a random credential bound to one resource and to
//! the run's lease, so Terraform's own state writes and locks land in the DB
//! (sealed with the `TfState` subkey, versioned) while the run is in flight —
//! nothing is ever written to the work dir — and a run that lost its lease
//! can no longer write (fencing).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;

use crate::secrets::{Cipher, Purpose};
use crate::store::Store;
use crate::store::lease::Lease;

#[derive(Clone)]
struct Cred {
    resource_id: String,
    lease: Lease,
}

#[derive(Clone)]
struct BackendState {
    store: Store,
    cipher: Arc<Cipher>,
    creds: Arc<Mutex<HashMap<String, Cred>>>,
}

pub struct Backend {
    pub addr: SocketAddr,
    creds: Arc<Mutex<HashMap<String, Cred>>>,
    store: Store,
    cipher: Arc<Cipher>,
}

/// The per-run credential Terraform presents (username `asgard`).
pub struct RunCredential {
    pub password: String,
}

fn aad(resource_id: &str, version: i64) -> Vec<u8> {
    format!("tfstate|{resource_id}|{version}").into_bytes()
}

impl Backend {
    pub async fn start(
        store: Store,
        master: &crate::secrets::MasterKey,
    ) -> anyhow::Result<Backend> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let creds = Arc::new(Mutex::new(HashMap::new()));
        let cipher = Arc::new(Cipher::new(master, Purpose::TfState));
        let state = BackendState {
            store: store.clone(),
            cipher: cipher.clone(),
            creds: creds.clone(),
        };
        let app = Router::new()
            .route("/state/{rid}", get(get_state).post(put_state))
            .route("/lock/{rid}", post(lock).delete(unlock))
            .with_state(state);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "terraform state backend stopped");
            }
        });
        Ok(Backend {
            addr,
            creds,
            store,
            cipher,
        })
    }

    /// The root module's outputs in the resource's latest state, as
    /// `{name: {value, type, sensitive?}}` — the shape `terraform output
    /// -json` prints, read from the state Terraform itself wrote here, so a
    /// run needs no extra `terraform output` process. A no-op apply may not
    /// write state at all; the stored state is then still the current one.
    pub async fn outputs(
        &self,
        rid: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, String> {
        let row: Option<(i64, Vec<u8>)> = on_pool!(self.store.write(), |p| {
            sqlx::query_as("SELECT version, sealed FROM tf_states WHERE resource_id = $1")
                .bind(rid)
                .fetch_optional(p)
                .await
        })
        .map_err(|e| format!("could not read the state: {e}"))?;
        let Some((version, sealed)) = row else {
            return Ok(Default::default());
        };
        let plain = self
            .cipher
            .open(&sealed, &aad(rid, version))
            .map_err(|e| format!("could not open the state: {e}"))?;
        outputs_of_state(&plain)
    }

    pub fn register(&self, resource_id: &str, lease: Lease) -> RunCredential {
        let password = crate::auth::token::generate(crate::auth::token::Kind::Session);
        self.creds.lock().unwrap_or_else(|e| e.into_inner()).insert(
            password.clone(),
            Cred {
                resource_id: resource_id.into(),
                lease,
            },
        );
        RunCredential { password }
    }

    pub fn unregister(&self, c: &RunCredential) {
        self.creds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&c.password);
    }

    pub fn state_url(&self, rid: &str) -> String {
        format!("http://{}/state/{rid}", self.addr)
    }

    pub fn lock_url(&self, rid: &str) -> String {
        format!("http://{}/lock/{rid}", self.addr)
    }
}

/// The `outputs` object of a Terraform state document (format version 4).
pub fn outputs_of_state(
    state: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(state).map_err(|e| format!("the state is not JSON: {e}"))?;
    match v.get("outputs") {
        None | Some(serde_json::Value::Null) => Ok(Default::default()),
        Some(serde_json::Value::Object(o)) => Ok(o.clone()),
        Some(_) => Err("the state's outputs are not an object".into()),
    }
}

fn authorise(s: &BackendState, headers: &HeaderMap, rid: &str) -> Option<Cred> {
    let v = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (_, pw) = text.split_once(':')?;
    let cred = s
        .creds
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(pw)
        .cloned()?;
    (cred.resource_id == rid).then_some(cred)
}

fn fail(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "terraform state backend error");
    (StatusCode::INTERNAL_SERVER_ERROR, "state backend error").into_response()
}

async fn get_state(
    State(s): State<BackendState>,
    Path(rid): Path<String>,
    headers: HeaderMap,
) -> Response {
    if authorise(&s, &headers, &rid).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let row: Result<Option<(i64, Vec<u8>)>, _> = on_pool!(s.store.write(), |p| {
        sqlx::query_as("SELECT version, sealed FROM tf_states WHERE resource_id = $1")
            .bind(&rid)
            .fetch_optional(p)
            .await
    });
    match row {
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Ok(Some((version, sealed))) => match s.cipher.open(&sealed, &aad(&rid, version)) {
            Ok(plain) => {
                ([(header::CONTENT_TYPE, "application/json")], plain.to_vec()).into_response()
            }
            Err(e) => fail(e),
        },
        Err(e) => fail(e),
    }
}

async fn put_state(
    State(s): State<BackendState>,
    Path(rid): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(cred) = authorise(&s, &headers, &rid) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // Fencing: a run whose lease was taken over must not write.
    match s.store.lease_valid(&cred.lease).await {
        Ok(true) => {}
        Ok(false) => return (StatusCode::CONFLICT, "lease lost").into_response(),
        Err(e) => return fail(e),
    }
    if let Some(id) = q.get("ID") {
        let held: Result<Option<String>, _> = on_pool!(s.store.write(), |p| {
            sqlx::query_scalar("SELECT lock_id FROM tf_locks WHERE resource_id = $1")
                .bind(&rid)
                .fetch_optional(p)
                .await
        });
        match held {
            Ok(Some(l)) if &l != id => {
                return (StatusCode::CONFLICT, "locked by another run").into_response();
            }
            Err(e) => return fail(e),
            _ => {}
        }
    }
    let current: Result<Option<i64>, _> = on_pool!(s.store.write(), |p| {
        sqlx::query_scalar("SELECT version FROM tf_states WHERE resource_id = $1")
            .bind(&rid)
            .fetch_optional(p)
            .await
    });
    let version = match current {
        Ok(v) => v.unwrap_or(0) + 1,
        Err(e) => return fail(e),
    };
    let sealed = s.cipher.seal(&body, &aad(&rid, version));
    let res = on_pool!(s.store.write(), |p| {
        sqlx::query(
            "INSERT INTO tf_states (resource_id, version, sealed, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (resource_id) DO UPDATE SET version = EXCLUDED.version, sealed = EXCLUDED.sealed, updated_at = EXCLUDED.updated_at",
        )
        .bind(&rid)
        .bind(version)
        .bind(sealed)
        .bind(s.store.clock().now())
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    });
    match res {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => fail(e),
    }
}

fn lock_id(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("ID")?
        .as_str()
        .map(str::to_string)
}

async fn lock(
    State(s): State<BackendState>,
    Path(rid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if authorise(&s, &headers, &rid).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(id) = lock_id(&body) else {
        return (StatusCode::BAD_REQUEST, "lock info without ID").into_response();
    };
    let info = String::from_utf8_lossy(&body).into_owned();
    let inserted = on_pool!(s.store.write(), |p| {
        sqlx::query("INSERT INTO tf_locks (resource_id, lock_id, info, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (resource_id) DO NOTHING")
            .bind(&rid)
            .bind(&id)
            .bind(&info)
            .bind(s.store.clock().now())
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    });
    match inserted {
        Ok(1) => StatusCode::OK.into_response(),
        Ok(_) => {
            let existing: Option<String> = on_pool!(s.store.write(), |p| {
                sqlx::query_scalar("SELECT info FROM tf_locks WHERE resource_id = $1")
                    .bind(&rid)
                    .fetch_optional(p)
                    .await
            })
            .ok()
            .flatten();
            (
                StatusCode::LOCKED,
                [(header::CONTENT_TYPE, "application/json")],
                existing.unwrap_or_default(),
            )
                .into_response()
        }
        Err(e) => fail(e),
    }
}

async fn unlock(
    State(s): State<BackendState>,
    Path(rid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if authorise(&s, &headers, &rid).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let id = lock_id(&body);
    let res = on_pool!(s.store.write(), |p| {
        sqlx::query("DELETE FROM tf_locks WHERE resource_id = $1 AND ($2 IS NULL OR lock_id = $2)")
            .bind(&rid)
            .bind(&id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    });
    match res {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => fail(e),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn outputs_come_from_the_state_with_sensitive_flags() {
        let state = json!({
            "version": 4, "terraform_version": "1.11.0", "serial": 3, "lineage": "x",
            "outputs": {
                "token": {"value": "s3cr3t", "type": "string", "sensitive": true},
                "label": {"value": "one", "type": "string"}
            },
            "resources": []
        });
        let o = super::outputs_of_state(state.to_string().as_bytes()).unwrap();
        assert_eq!(o["token"]["sensitive"], json!(true));
        assert_eq!(o["label"]["value"], json!("one"));
        assert!(o["label"].get("sensitive").is_none());
        let empty = super::outputs_of_state(br#"{"version":4,"outputs":{}}"#).unwrap();
        assert!(empty.is_empty());
        assert!(super::outputs_of_state(b"not json").is_err());
    }
}
