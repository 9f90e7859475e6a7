//! Provisioning settings: whether Terraform is armed (a
//! modules dir from env or `asgard.yaml`), the allowed cloud/account targets,
//! and the environment a Terraform child is allowed to see.

use std::collections::HashMap;
use std::path::PathBuf;

use super::file::{AllowedTarget, FileConfig};
use super::{ConfigError, env_err};

#[derive(Debug, Clone)]
pub struct TerraformConfig {
    pub bin: PathBuf,
    pub modules_dir: PathBuf,
    pub work_dir: PathBuf,
    pub timeout_secs: u64,
    pub max_concurrent: u32,
}

type Provisioning = (Option<TerraformConfig>, Vec<AllowedTarget>);

pub(super) fn load_provisioning(
    get: &dyn Fn(&str) -> Option<String>,
    file: &FileConfig,
) -> Result<Provisioning, ConfigError> {
    let tf = file.provisioning.terraform.clone().unwrap_or_default();
    let modules_dir = get("ASGARD_TF_MODULES_DIR")
        .map(PathBuf::from)
        .or(tf.modules_dir);
    let mut allowed = file.provisioning.allowed.clone();
    if let Some(list) = get("ASGARD_TF_ALLOWED") {
        allowed.clear();
        for part in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (cloud, account) = part.split_once(':').ok_or_else(|| {
                env_err(
                    "ASGARD_TF_ALLOWED",
                    format!("`{part}` must be cloud:account"),
                )
            })?;
            if cloud.is_empty() || account.is_empty() {
                return Err(env_err(
                    "ASGARD_TF_ALLOWED",
                    format!("`{part}` must be cloud:account"),
                ));
            }
            allowed.push(AllowedTarget {
                cloud: cloud.into(),
                account: account.into(),
            });
        }
    }
    let Some(modules_dir) = modules_dir else {
        return Ok((None, allowed));
    };
    let work_dir = get("ASGARD_TF_WORK_DIR")
        .map(PathBuf::from)
        .or(tf.work_dir)
        .unwrap_or_else(|| std::env::temp_dir().join("asgard-tf"));
    Ok((
        Some(TerraformConfig {
            bin: tf.bin.unwrap_or_else(|| PathBuf::from("terraform")),
            modules_dir,
            work_dir,
            timeout_secs: tf.timeout_secs.unwrap_or(3600),
            max_concurrent: tf.max_concurrent.unwrap_or(4),
        }),
        allowed,
    ))
}

/// What a Terraform child may see: the basics, provider credentials
/// (`AWS_*`, `AUTH0_*`, …), proxies and `TF_*` — never `ASGARD_*` (the master
/// key, the DB URL, OIDC secrets) or anything else of Asgard's.
pub(super) fn child_env(env: &HashMap<String, String>) -> Vec<(String, String)> {
    const EXACT: &[&str] = &[
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "USER",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
    ];
    const PREFIXES: &[&str] = &["TF_", "AWS_", "AUTH0_", "GOOGLE_", "ARM_"];
    let mut out: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| !k.starts_with("ASGARD_") && !k.starts_with("TF_HTTP_"))
        .filter(|(k, _)| EXACT.contains(&k.as_str()) || PREFIXES.iter().any(|p| k.starts_with(p)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env;

    #[test]
    fn child_env_has_no_asgard_secrets() {
        let e = env(&[
            ("ASGARD_SECRET_KEY", "k"),
            ("ASGARD_DATABASE_URL", "postgres://u:p@h/d"),
            ("AWS_REGION", "us-east-1"),
            ("PATH", "/bin"),
            ("TF_HTTP_PASSWORD", "x"),
            ("RANDOM", "y"),
        ]);
        let c = child_env(&e);
        assert_eq!(
            c,
            vec![
                ("AWS_REGION".to_string(), "us-east-1".to_string()),
                ("PATH".to_string(), "/bin".to_string())
            ]
        );
    }
}
