//! The secret store: values sealed with the `Secrets` subkey, bound by AAD to
//! (project, name, version) so a row cannot be moved to another project or
//! name. Callers get `secret_ref`s; only `get` (behind the key-gated tool and
//! its audit entry) ever returns a value.

use chrono::{DateTime, Utc};
use serde::Serialize;
use zeroize::Zeroizing;

use super::Cipher;
use crate::error::{Error, Result};
use crate::store::{Store, Tx};

pub const REF_PREFIX: &str = "asgard://secrets/";

/// `asgard://secrets/<project_id>/<name>`; provisioning names its secrets
/// `<service>/<resource name>/<output>` (older records: `<resource>/<output>`).
pub fn secret_ref(project_id: &str, name: &str) -> String {
    format!("{REF_PREFIX}{project_id}/{name}")
}

/// Split a ref into (project_id, name), refusing anything malformed.
pub fn parse_ref(r: &str) -> Result<(String, String)> {
    let bad = || {
        Error::invalid_hint(
            "secret_ref",
            "is not a secret reference",
            "pass a value like asgard://secrets/proj-2026-0001/rds-postgres/db/password from a resource's outputs or list_secrets",
        )
    };
    let rest = r.strip_prefix(REF_PREFIX).ok_or_else(bad)?;
    let (project, name) = rest.split_once('/').ok_or_else(bad)?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 200
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'))
            && !s.contains("..")
    };
    if !project.starts_with("proj-") || !ok(project) || !ok(name) {
        return Err(bad());
    }
    Ok((project.to_string(), name.to_string()))
}

fn aad(project: &str, name: &str, version: i64) -> Vec<u8> {
    format!("secret|{project}|{name}|{version}").into_bytes()
}

/// What reading secrets needs: the store and the `Secrets` cipher (derived
/// from the master key once, at boot: `App::secrets`).
#[derive(Clone, Copy)]
pub struct SecretStore<'a> {
    pub store: &'a Store,
    pub cipher: &'a Cipher,
}

/// Store `value` as `name` inside `tx` and return its version: a new version
/// only when the value differs from the latest one, so re-applies that leave
/// a secret unchanged do not pile up versions (or make readers think it
/// rotated).
pub async fn put(
    tx: &mut Tx,
    cipher: &Cipher,
    project: &str,
    name: &str,
    value: &[u8],
) -> Result<i64> {
    let latest: Option<(i64, Vec<u8>)> = on_tx!(tx, |c| {
        sqlx::query_as("SELECT version, sealed FROM secrets WHERE project_id = $1 AND name = $2 ORDER BY version DESC LIMIT 1")
            .bind(project)
            .bind(name)
            .fetch_optional(&mut *c)
            .await
    })?;
    if let Some((v, sealed)) = &latest
        && let Ok(old) = cipher.open(sealed, &aad(project, name, *v))
        && old.as_slice() == value
    {
        return Ok(*v);
    }
    let version = latest.map(|(v, _)| v).unwrap_or(0) + 1;
    let sealed = cipher.seal(value, &aad(project, name, version));
    let now = tx.now();
    on_tx!(tx, |c| {
        sqlx::query("INSERT INTO secrets (id, project_id, name, version, sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(project)
            .bind(name)
            .bind(version)
            .bind(sealed)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(version)
}

/// The latest version's value.
pub async fn get(
    secrets: SecretStore<'_>,
    project: &str,
    name: &str,
) -> Result<Option<(i64, Zeroizing<Vec<u8>>)>> {
    let row: Option<(i64, Vec<u8>)> = on_pool!(secrets.store.read(), |p| {
        sqlx::query_as("SELECT version, sealed FROM secrets WHERE project_id = $1 AND name = $2 ORDER BY version DESC LIMIT 1")
            .bind(project)
            .bind(name)
            .fetch_optional(p)
            .await
    })?;
    let Some((version, sealed)) = row else {
        return Ok(None);
    };
    let value = secrets
        .cipher
        .open(&sealed, &aad(project, name, version))
        .map_err(|e| Error::internal(anyhow::anyhow!("secret {project}/{name} v{version}: {e}")))?;
    Ok(Some((version, value)))
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct SecretMeta {
    pub name: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn list(secrets: SecretStore<'_>, project: &str) -> Result<Vec<SecretMeta>> {
    Ok(on_pool!(secrets.store.read(), |p| {
        sqlx::query_as::<_, SecretMeta>(
            "SELECT s.name, s.version, s.created_at FROM secrets s
             WHERE s.project_id = $1 AND s.version = (SELECT MAX(version) FROM secrets x WHERE x.project_id = s.project_id AND x.name = s.name)
             ORDER BY s.name",
        )
        .bind(project)
        .fetch_all(p)
        .await
    })?)
}

/// Delete every version of the secret `name`.
pub async fn delete_name(tx: &mut Tx, project: &str, name: &str) -> Result<u64> {
    Ok(on_tx!(tx, |c| {
        sqlx::query("DELETE FROM secrets WHERE project_id = $1 AND name = $2")
            .bind(project)
            .bind(name)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?)
}

/// Delete every version of every secret under `prefix` (e.g. `rds-postgres/db/`).
pub async fn delete_prefix(tx: &mut Tx, project: &str, prefix: &str) -> Result<u64> {
    let like = format!("{}%", prefix.replace(['%', '_'], ""));
    Ok(on_tx!(tx, |c| {
        sqlx::query("DELETE FROM secrets WHERE project_id = $1 AND (name LIKE $2)")
            .bind(project)
            .bind(&like)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_round_trip_and_refuse_junk() {
        let r = secret_ref("proj-2026-0001", "db/password");
        assert_eq!(
            parse_ref(&r).unwrap(),
            ("proj-2026-0001".into(), "db/password".into())
        );
        for bad in [
            "",
            "asgard://secrets/",
            "asgard://secrets/x/y",
            "asgard://secrets/proj-1/../y",
            "s3://x/y",
            "asgard://secrets/proj-1/a b",
        ] {
            assert!(parse_ref(bad).is_err(), "{bad}");
        }
    }
}
