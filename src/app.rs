//! `App`: everything a request or a background loop needs, built once at boot
//! (SPEC §1.4 steps 2–4) and shared read-only. Nothing is set after
//! construction.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::auth::throttle::Throttle;
use crate::auth::users::{self, Bootstrap};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::provisioning::backend::Backend;
use crate::secrets::MasterKey;
use crate::seed::Seed;
use crate::store::Store;

pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub master_key: MasterKey,
    /// The SQLite key file the master key was read from, if any.
    pub key_file: Option<std::path::PathBuf>,
    pub throttle: Throttle,
    pub seed: Seed,
    pub catalog: Catalog,
    /// Wakes the provisioning workers when a request is queued.
    pub work: tokio::sync::Notify,
    /// Terraform's state backend (armed replicas only).
    pub backend: Option<Backend>,
    /// This replica's identity for leases.
    pub holder_id: String,
    /// `ASGARD_DEV_INSECURE` in effect (requested and bound to loopback).
    pub dev_insecure: bool,
    /// OIDC single sign-on, when configured (discovery runs in the background).
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
}

/// Things `serve` reports after building, outside the log stream.
pub struct BootNotes {
    pub generated_admin_password: Option<String>,
    pub generated_key_file: Option<std::path::PathBuf>,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<(Arc<App>, BootNotes)> {
        let mut notes = BootNotes {
            generated_admin_password: None,
            generated_key_file: None,
        };
        if config.database_url_secret_arn.is_some()
            && config.database_url.expose() == "sqlite://asgard.db"
        {
            bail!(
                "ASGARD_DATABASE_URL_SECRET_ARN: reading the database URL from AWS Secrets Manager is not supported by this build; set ASGARD_DATABASE_URL (e.g. from your orchestrator's secret injection)"
            );
        }
        let (master_key, key_file) = resolve_key(&config, &mut notes)?;
        let store = Store::connect(config.database_url.expose(), Duration::from_secs(30)).await?;
        let fp = master_key.fingerprint();
        let stored = store
            .init_meta("key_fingerprint", &fp)
            .await
            .context("reading the key fingerprint")?;
        if stored != fp {
            bail!(
                "ASGARD_SECRET_KEY: this database was encrypted with another key (fingerprint mismatch); start with the original key, or run `asgard rotate-key` with both keys"
            );
        }
        match users::ensure_bootstrap_admin(
            &store,
            &config.admin_user,
            config.admin_password.as_ref().map(|s| s.expose()),
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the bootstrap admin: {e:?}"))?
        {
            Bootstrap::Created { generated_password } => {
                notes.generated_admin_password = generated_password
            }
            Bootstrap::Exists => {}
        }
        let seed = Seed::embedded().context("loading the embedded agent seed")?;
        let catalog = Catalog::load(config.file.provisioning.services_dir.as_deref())
            .map_err(|e| anyhow::anyhow!("service catalog: {e}"))?;
        let backend = match &config.terraform {
            Some(tf) => {
                check_armed(tf)?;
                Some(
                    Backend::start(store.clone(), &master_key)
                        .await
                        .context("starting the Terraform state backend")?,
                )
            }
            None => None,
        };
        let dev_insecure = config.dev_insecure && crate::config::is_loopback_bind(&config.bind);
        if config.dev_insecure && !dev_insecure {
            tracing::warn!(
                "ASGARD_DEV_INSECURE is ignored: it only works when bound to a loopback address"
            );
        }
        if dev_insecure {
            tracing::warn!(
                "ASGARD_DEV_INSECURE is ON: requests to /api from loopback without a session act as an admin. Never use this in a deployment."
            );
        }
        let oidc = match &config.oidc {
            Some(c) => Some(
                crate::auth::oidc::Oidc::start(c.clone(), &master_key).context("starting OIDC")?,
            ),
            None => None,
        };
        let app = App {
            config: Arc::new(config),
            store,
            master_key,
            key_file,
            throttle: Throttle::default(),
            seed,
            catalog,
            work: tokio::sync::Notify::new(),
            backend,
            holder_id: format!("{}-{}", hostname(), uuid::Uuid::new_v4().simple()),
            dev_insecure,
            oidc,
        };
        Ok((Arc::new(app), notes))
    }
}

fn resolve_key(
    config: &Config,
    notes: &mut BootNotes,
) -> anyhow::Result<(MasterKey, Option<std::path::PathBuf>)> {
    if let Some(k) = &config.secret_key {
        let key = MasterKey::from_hex(k.expose())
            .map_err(|m| anyhow::anyhow!("ASGARD_SECRET_KEY: {m}"))?;
        return Ok((key, None));
    }
    if config.secret_key_secret_arn.is_some() {
        bail!(
            "ASGARD_SECRET_KEY_SECRET_ARN: reading the master key from AWS Secrets Manager is not supported by this build; set ASGARD_SECRET_KEY"
        );
    }
    if config.is_postgres() {
        bail!(
            "ASGARD_SECRET_KEY is required with Postgres (64 hex chars; generate one with `asgard keygen` and keep it in your KMS)"
        );
    }
    let db = crate::config::sqlite_path(config.database_url.expose());
    let mut key_path = db.clone();
    let name = format!(
        "{}.key",
        db.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    key_path.set_file_name(name);
    if let Some(dir) = key_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let (key, created) = MasterKey::load_or_create_file(&key_path)
        .with_context(|| format!("master key file {}", key_path.display()))?;
    if created {
        notes.generated_key_file = Some(key_path.clone());
    }
    tracing::warn!(key_file = %key_path.display(), "ASGARD_SECRET_KEY is not set: using the key file beside the SQLite database. Back it up with the database; set ASGARD_SECRET_KEY for anything beyond a trial.");
    Ok((key, Some(key_path)))
}

/// Armed means it can really run: refuse the boot otherwise (SPEC §6.2).
fn check_armed(tf: &crate::config::TerraformConfig) -> anyhow::Result<()> {
    if !tf.modules_dir.is_dir() {
        bail!(
            "provisioning is armed but the modules dir {} does not exist (ASGARD_TF_MODULES_DIR / provisioning.terraform.modules_dir)",
            tf.modules_dir.display()
        );
    }
    let out = std::process::Command::new(&tf.bin).arg("version").output();
    match out {
        Ok(o) if o.status.success() => {}
        _ => bail!(
            "provisioning is armed but `{} version` does not run; install terraform or set provisioning.terraform.bin",
            tf.bin.display()
        ),
    }
    std::fs::create_dir_all(&tf.work_dir)
        .with_context(|| format!("creating the Terraform work dir {}", tf.work_dir.display()))?;
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "asgard".into())
}
