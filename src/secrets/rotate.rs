//! `asgard rotate-key`: re-seal everything under a new master key in one
//! transaction (secrets, Terraform state, run logs) and store the new key's
//! fingerprint. Either all rows move to the new key or none do. Rows are
//! opened with their own associated data, so a tampered row stops the
//! rotation instead of being silently re-sealed. The rotation is audited as
//! `key.rotated` (actor `system:cli`) with both key fingerprints.

use super::{Cipher, MasterKey, Purpose};
use crate::audit::Event;
use crate::error::{Error, Result};
use crate::store::Store;

#[derive(Debug, Default)]
pub struct Rotated {
    pub secrets: usize,
    pub states: usize,
    pub run_logs: usize,
}

fn reseal(old: &Cipher, new: &Cipher, sealed: &[u8], aad: &[u8], what: &str) -> Result<Vec<u8>> {
    let plain = old.open(sealed, aad).map_err(|_| {
        Error::internal(anyhow::anyhow!(
            "{what} cannot be opened with the current key; rotation aborted, nothing changed"
        ))
    })?;
    Ok(new.seal(&plain, aad))
}

pub async fn rotate(store: &Store, old: &MasterKey, new: &MasterKey) -> Result<Rotated> {
    let mut done = Rotated::default();
    let mut tx = store.begin().await?;

    let (o, n) = (
        Cipher::new(old, Purpose::Secrets),
        Cipher::new(new, Purpose::Secrets),
    );
    let rows: Vec<(String, String, String, i64, Vec<u8>)> = on_tx!(&mut tx, |c| sqlx::query_as(
        "SELECT id, project_id, name, version, sealed FROM secrets"
    )
    .fetch_all(&mut *c)
    .await)?;
    for (id, project, name, version, sealed) in rows {
        let aad = format!("secret|{project}|{name}|{version}");
        let resealed = reseal(
            &o,
            &n,
            &sealed,
            aad.as_bytes(),
            &format!("secret {project}/{name} v{version}"),
        )?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE secrets SET sealed = $1 WHERE id = $2"
        )
        .bind(resealed)
        .bind(&id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        done.secrets += 1;
    }

    let (o, n) = (
        Cipher::new(old, Purpose::TfState),
        Cipher::new(new, Purpose::TfState),
    );
    let rows: Vec<(String, i64, Vec<u8>)> = on_tx!(&mut tx, |c| sqlx::query_as(
        "SELECT resource_id, version, sealed FROM tf_states"
    )
    .fetch_all(&mut *c)
    .await)?;
    for (rid, version, sealed) in rows {
        let aad = format!("tfstate|{rid}|{version}");
        let resealed = reseal(
            &o,
            &n,
            &sealed,
            aad.as_bytes(),
            &format!("terraform state of {rid}"),
        )?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE tf_states SET sealed = $1 WHERE resource_id = $2"
        )
        .bind(resealed)
        .bind(&rid)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        done.states += 1;
    }

    let (o, n) = (
        Cipher::new(old, Purpose::RunLogs),
        Cipher::new(new, Purpose::RunLogs),
    );
    let rows: Vec<(String, Vec<u8>)> = on_tx!(&mut tx, |c| sqlx::query_as(
        "SELECT request_id, sealed FROM run_logs"
    )
    .fetch_all(&mut *c)
    .await)?;
    for (req, sealed) in rows {
        let aad = format!("runlog|{req}");
        let resealed = reseal(
            &o,
            &n,
            &sealed,
            aad.as_bytes(),
            &format!("run log of {req}"),
        )?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE run_logs SET sealed = $1 WHERE request_id = $2"
        )
        .bind(resealed)
        .bind(&req)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        done.run_logs += 1;
    }

    on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE meta SET value = $1 WHERE key = 'key_fingerprint'")
            .bind(new.fingerprint())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    // Audited in the same transaction. Fingerprints identify the
    // keys without revealing them; no key material goes into the event.
    crate::audit::record(
        &mut tx,
        Event::system("system:cli", "key.rotated").data(serde_json::json!({
            "old_fingerprint": old.fingerprint(),
            "new_fingerprint": new.fingerprint(),
            "secrets": done.secrets,
            "terraform_states": done.states,
            "run_logs": done.run_logs,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}
