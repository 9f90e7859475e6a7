//! The one place configuration is read. `Config::load` takes the process
//! environment (as a map, so tests can pass their own) and the optional
//! `asgard.yaml`, validates everything, and returns one typed value. Nothing
//! below this module reads `std::env`. Secrets are held in `Secret` so they
//! cannot be printed by accident.
//!
//! Layout: `env` (the loader), `file` (the `asgard.yaml` schema), `database`
//! (DB URL rules), `oidc` and `provisioning` (their env + file settings),
//! `http` (the listener's timeouts and connection cap).

pub mod auto_approve;
mod database;
mod env;
pub mod file;
pub mod http;
mod oidc;
mod provisioning;

use std::net::SocketAddr;
use std::path::PathBuf;

use database::redact_db_url;
pub use database::sqlite_path;
pub use file::{AllowedTarget, FileConfig, GroupConfig};
pub use oidc::OidcConfig;
pub use provisioning::TerraformConfig;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {message}")]
    Env { var: String, message: String },
    #[error("{source_name}: {path}: {message}")]
    File {
        source_name: String,
        path: String,
        message: String,
    },
    #[error("{0}")]
    Other(String),
}

fn env_err(var: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Env {
        var: var.into(),
        message: message.into(),
    }
}

/// A string that never prints its value, and is wiped from memory when
/// dropped (so a key or password read at boot does not linger in freed heap).
#[derive(Clone, Default)]
pub struct Secret(String);

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Empty until boot when it comes from `database_url_secret_arn`.
    pub database_url: Secret,
    /// `ASGARD_DATABASE_URL_SECRET_ARN`, kept only when `ASGARD_DATABASE_URL` is unset.
    pub database_url_secret_arn: Option<String>,
    pub secret_key: Option<Secret>,
    /// `ASGARD_SECRET_KEY_SECRET_ARN`, kept only when `ASGARD_SECRET_KEY` is unset.
    pub secret_key_secret_arn: Option<String>,
    /// ARN variables set beside their plain variable, which wins; the boot warns about them.
    pub ignored_arns: Vec<&'static str>,
    /// `ASGARD_NEW_SECRET_KEY`: the target of `asgard rotate-key`.
    pub new_secret_key: Option<Secret>,
    pub bind: String,
    pub config_path: Option<PathBuf>,
    pub public_url: Option<String>,
    pub admin_user: String,
    pub admin_password: Option<Secret>,
    pub system_name: String,
    pub dev_insecure: bool,
    pub force_https: bool,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub oidc: Option<OidcConfig>,
    pub disable_local_login: bool,
    pub metrics_public: bool,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub lease_ttl_secs: u64,
    pub terraform: Option<TerraformConfig>,
    pub allowed: Vec<AllowedTarget>,
    /// The explicit environment for Terraform children.
    pub child_env: Vec<(String, String)>,
    pub file: FileConfig,
    pub http: http::HttpLimits,
}

/// Parse a boolean the way docs/config.md says: 1/true/yes/on, 0/false/no/off.
pub fn parse_bool(var: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(env_err(
            var,
            format!("`{v}` is not a boolean (use 1/true/yes/on or 0/false/no/off)"),
        )),
    }
}

impl Config {
    pub fn is_postgres(&self) -> bool {
        let u = self.database_url.expose();
        u.starts_with("postgres://") || u.starts_with("postgresql://")
    }

    /// The effective configuration as YAML-ish JSON with secrets redacted, for
    /// `asgard check-config`.
    pub fn redacted_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "database": match &self.database_url_secret_arn {
                Some(arn) => format!("from Secrets Manager ({arn})"),
                None => redact_db_url(self.database_url.expose()),
            },
            "secret_key": match (&self.secret_key, &self.secret_key_secret_arn) {
                (Some(_), _) => Some("[set]".to_string()),
                (None, Some(arn)) => Some(format!("from Secrets Manager ({arn})")),
                (None, None) => None,
            },
            "bind": self.bind,
            "config_path": self.config_path.as_ref().map(|p| p.display().to_string()),
            "public_url": self.public_url,
            "admin_user": self.admin_user,
            "admin_password": self.admin_password.as_ref().map(|_| "[set]"),
            "system_name": self.system_name,
            "dev_insecure": self.dev_insecure,
            "force_https": self.force_https,
            "trusted_proxies": self.trusted_proxies.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            "oidc": self.oidc.as_ref().map(|o| serde_json::json!({"issuer": o.issuer, "client_id": o.client_id, "client_secret": "[set]", "redirect_uri": o.redirect_uri, "scopes": o.scopes})),
            "disable_local_login": self.disable_local_login,
            "log": self.log_filter,
            "lease_ttl_secs": self.lease_ttl_secs,
            "http": {
                "header_timeout_secs": self.http.header_timeout.as_secs(),
                "idle_timeout_secs": self.http.idle_timeout.as_secs(),
                "body_timeout_secs": self.http.body_timeout.as_secs(),
                "max_connections": self.http.max_connections,
            },
            "groups": self.file.groups,
            "registration": self.file.registration,
            "auth": {"pats_can_mint_pats": self.file.auth.pats_can_mint_pats},
            "provisioning": {
                "armed": self.terraform.is_some(),
                "terraform": self.terraform.as_ref().map(|t| serde_json::json!({
                    "bin": t.bin, "modules_dir": t.modules_dir, "work_dir": t.work_dir,
                    "timeout_secs": t.timeout_secs, "max_concurrent": t.max_concurrent})),
                "allowed": self.allowed,
                "grant_allowlist": self.file.provisioning.grant_allowlist,
            },
        })
    }
}

/// Whether `bind` is a loopback address (gates `ASGARD_DEV_INSECURE`).
pub fn is_loopback_bind(bind: &str) -> bool {
    bind.parse::<SocketAddr>()
        .map(|a| a.ip().is_loopback())
        .unwrap_or(false)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An environment map for `Config::load` and the loaders' tests.
    pub(crate) fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let c = Config::load(&env(&[]), None, None).unwrap();
        assert_eq!(c.bind, "0.0.0.0:8080");
        assert_eq!(c.database_url.expose(), "sqlite://asgard.db");
        assert_eq!(c.system_name, "Asgard");
        assert!(c.terraform.is_none());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("ASGARD_DATABASE_URL", "mysql://x"),
            ("ASGARD_SECRET_KEY", "abc"),
            ("ASGARD_SECRET_KEY", &"g".repeat(64)),
            ("ASGARD_DEV_INSECURE", "maybe"),
            ("ASGARD_BIND", "nowhere"),
            ("ASGARD_TRUSTED_PROXIES", "10.0.0.0/99"),
            ("ASGARD_LOG_FORMAT", "xml"),
            ("ASGARD_TF_ALLOWED", "aws"),
            ("ASGARD_DISABLE_LOCAL_LOGIN", "1"),
            ("ASGARD_OIDC_CLIENT_ID", "abc"),
        ] {
            let e = Config::load(&env(&[(k, v)]), None, None)
                .unwrap_err()
                .to_string();
            assert!(e.contains(k) || e.contains("OIDC"), "{k}={v}: {e}");
        }
    }

    #[test]
    fn secret_arns_are_kept_only_when_they_would_be_used() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x";
        // Without the plain variables: kept, to be read at boot.
        let c = Config::load(
            &env(&[
                ("ASGARD_DATABASE_URL_SECRET_ARN", arn),
                ("ASGARD_SECRET_KEY_SECRET_ARN", arn),
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(c.database_url_secret_arn.as_deref(), Some(arn));
        assert_eq!(c.secret_key_secret_arn.as_deref(), Some(arn));
        assert!(c.ignored_arns.is_empty());
        // The plain variable wins, even when it equals the default.
        let c = Config::load(
            &env(&[
                ("ASGARD_DATABASE_URL", "sqlite://asgard.db"),
                ("ASGARD_DATABASE_URL_SECRET_ARN", "arn:x"),
                ("ASGARD_SECRET_KEY", &"ab".repeat(32)),
                ("ASGARD_SECRET_KEY_SECRET_ARN", "arn:y"),
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(c.database_url.expose(), "sqlite://asgard.db");
        assert!(c.secret_key.is_some());
        assert_eq!(c.database_url_secret_arn, None);
        assert_eq!(c.secret_key_secret_arn, None);
        assert_eq!(c.ignored_arns.len(), 2);
    }

    #[test]
    fn booleans() {
        for t in ["1", "TRUE", "yes", "On"] {
            assert!(parse_bool("X", t).unwrap());
        }
        for f in ["0", "false", "NO", "off"] {
            assert!(!parse_bool("X", f).unwrap());
        }
    }

    #[test]
    fn tf_env_arms() {
        let c = Config::load(
            &env(&[
                ("ASGARD_TF_MODULES_DIR", "/m"),
                ("ASGARD_TF_ALLOWED", "auth0:t,aws:1"),
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(c.terraform.unwrap().modules_dir, PathBuf::from("/m"));
        assert_eq!(c.allowed.len(), 2);
    }
}
