//! The one place configuration is read. `Config::load` takes the process
//! environment (as a map, so tests can pass their own) and the optional
//! `asgard.yaml`, validates everything, and returns one typed value. Nothing
//! below this module reads `std::env`. Secrets are held in `Secret` so they
//! cannot be printed by accident.

pub mod file;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use file::{AllowedTarget, FileConfig, GroupConfig};

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

/// A string that never prints its value.
#[derive(Clone, Default)]
pub struct Secret(String);

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
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub admin_groups: Vec<String>,
    pub groups_claim: String,
}

#[derive(Debug, Clone)]
pub struct TerraformConfig {
    pub bin: PathBuf,
    pub modules_dir: PathBuf,
    pub work_dir: PathBuf,
    pub timeout_secs: u64,
    pub max_concurrent: u32,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret,
    pub database_url_secret_arn: Option<String>,
    pub secret_key: Option<Secret>,
    pub secret_key_secret_arn: Option<String>,
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
    /// The explicit environment for Terraform children (SPEC §6.5).
    pub child_env: Vec<(String, String)>,
    pub file: FileConfig,
}

/// Parse a boolean the way SPEC §1.2 says: 1/true/yes/on, 0/false/no/off.
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
    /// Build the configuration from an environment map and optional CLI
    /// overrides (`--bind`, `--config`). CLI flags win over env, env over file.
    pub fn load(
        env: &HashMap<String, String>,
        bind_flag: Option<String>,
        config_flag: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            env.get(k)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let flag = |k: &str| -> Result<bool, ConfigError> {
            match env.get(k) {
                Some(v) => parse_bool(k, v),
                None => Ok(false),
            }
        };

        // Config file: explicit (flag or env) must exist; the implicit ./asgard.yaml is optional.
        let explicit = config_flag.or_else(|| get("ASGARD_CONFIG").map(PathBuf::from));
        let (config_path, file) = match explicit {
            Some(p) => {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| ConfigError::Other(format!("config file {}: {e}", p.display())))?;
                let f = FileConfig::parse(&text, &p.display().to_string())?;
                (Some(p), f)
            }
            None => {
                let p = PathBuf::from("asgard.yaml");
                if p.is_file() {
                    let text = std::fs::read_to_string(&p)
                        .map_err(|e| ConfigError::Other(format!("config file asgard.yaml: {e}")))?;
                    (Some(p), FileConfig::parse(&text, "asgard.yaml")?)
                } else {
                    (None, FileConfig::default())
                }
            }
        };

        let database_url_secret_arn = get("ASGARD_DATABASE_URL_SECRET_ARN");
        let database_url = match get("ASGARD_DATABASE_URL") {
            Some(u) => {
                validate_db_url(&u)?;
                u
            }
            None => "sqlite://asgard.db".to_string(),
        };

        let secret_key = match get("ASGARD_SECRET_KEY") {
            Some(k) => {
                crate::secrets::MasterKey::from_hex(&k)
                    .map_err(|m| env_err("ASGARD_SECRET_KEY", m))?;
                Some(Secret::new(k))
            }
            None => None,
        };
        let secret_key_secret_arn = get("ASGARD_SECRET_KEY_SECRET_ARN");
        let new_secret_key = match get("ASGARD_NEW_SECRET_KEY") {
            Some(k) => {
                crate::secrets::MasterKey::from_hex(&k)
                    .map_err(|m| env_err("ASGARD_NEW_SECRET_KEY", m))?;
                Some(Secret::new(k))
            }
            None => None,
        };

        let bind = bind_flag
            .or_else(|| get("ASGARD_BIND"))
            .unwrap_or_else(|| "0.0.0.0:8080".into());
        bind.parse::<SocketAddr>().map_err(|_| {
            env_err(
                "ASGARD_BIND/--bind",
                format!("`{bind}` is not an address like 127.0.0.1:8080"),
            )
        })?;

        let public_url = match get("ASGARD_PUBLIC_URL") {
            Some(u) => {
                let ok = (u.starts_with("https://") || u.starts_with("http://"))
                    && u.split("://").nth(1).is_some_and(|h| !h.is_empty());
                if !ok {
                    return Err(env_err(
                        "ASGARD_PUBLIC_URL",
                        "must be an absolute http(s) URL like https://asgard.example.com",
                    ));
                }
                Some(u.trim_end_matches('/').to_string())
            }
            None => None,
        };

        let admin_user = get("ASGARD_ADMIN_USER").unwrap_or_else(|| "admin".into());
        if !crate::auth::users::valid_username(&admin_user) {
            return Err(env_err(
                "ASGARD_ADMIN_USER",
                "must be 1-64 characters of letters, digits, . _ -",
            ));
        }
        let admin_password = get("ASGARD_ADMIN_PASSWORD").map(Secret::new);
        if let Some(p) = &admin_password
            && p.expose().chars().count() < 8
        {
            return Err(env_err(
                "ASGARD_ADMIN_PASSWORD",
                "must be at least 8 characters (or unset to generate one)",
            ));
        }
        let system_name = get("ASGARD_SYSTEM_NAME").unwrap_or_else(|| "Asgard".into());
        if system_name.chars().count() > 80 {
            return Err(env_err(
                "ASGARD_SYSTEM_NAME",
                "must be at most 80 characters",
            ));
        }

        let mut trusted_proxies = Vec::new();
        if let Some(list) = get("ASGARD_TRUSTED_PROXIES") {
            for part in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let net = part
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        env_err(
                            "ASGARD_TRUSTED_PROXIES",
                            format!("`{part}` is not a CIDR or IP"),
                        )
                    })?;
                trusted_proxies.push(net);
            }
        }

        let oidc = load_oidc(&get, public_url.as_deref())?;
        let disable_local_login = flag("ASGARD_DISABLE_LOCAL_LOGIN")?;
        if disable_local_login && oidc.is_none() {
            return Err(env_err(
                "ASGARD_DISABLE_LOCAL_LOGIN",
                "only allowed when OIDC is configured (otherwise nobody could sign in)",
            ));
        }

        let log_filter = get("ASGARD_LOG")
            .or_else(|| get("RUST_LOG"))
            // rmcp logs every MCP request at info; keep our own info lines readable.
            .unwrap_or_else(|| "info,rmcp=warn".into());
        let log_format = match get("ASGARD_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(env_err(
                    "ASGARD_LOG_FORMAT",
                    format!("`{other}` must be text or json"),
                ));
            }
        };

        let lease_ttl_secs = file.lease_ttl_secs.unwrap_or(600);
        let (terraform, allowed) = load_provisioning(&get, &file)?;

        Ok(Config {
            database_url: Secret::new(database_url),
            database_url_secret_arn,
            secret_key,
            secret_key_secret_arn,
            new_secret_key,
            bind,
            config_path,
            public_url,
            admin_user,
            admin_password,
            system_name,
            dev_insecure: flag("ASGARD_DEV_INSECURE")?,
            force_https: flag("ASGARD_FORCE_HTTPS")?,
            trusted_proxies,
            oidc,
            disable_local_login,
            metrics_public: flag("ASGARD_METRICS_PUBLIC")?,
            log_filter,
            log_format,
            lease_ttl_secs,
            terraform,
            allowed,
            child_env: child_env(env),
            file,
        })
    }

    pub fn is_postgres(&self) -> bool {
        let u = self.database_url.expose();
        u.starts_with("postgres://") || u.starts_with("postgresql://")
    }

    /// The effective configuration as YAML-ish JSON with secrets redacted, for
    /// `asgard check-config`.
    pub fn redacted_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "database": redact_db_url(self.database_url.expose()),
            "secret_key": self.secret_key.as_ref().map(|_| "[set]"),
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
            "groups": self.file.groups,
            "registration": self.file.registration,
            "provisioning": {
                "armed": self.terraform.is_some(),
                "terraform": self.terraform.as_ref().map(|t| serde_json::json!({
                    "bin": t.bin, "modules_dir": t.modules_dir, "work_dir": t.work_dir,
                    "timeout_secs": t.timeout_secs, "max_concurrent": t.max_concurrent})),
                "allowed": self.allowed,
            },
        })
    }
}

fn validate_db_url(u: &str) -> Result<(), ConfigError> {
    let ok_scheme = ["sqlite://", "sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|s| u.starts_with(s));
    if !ok_scheme {
        return Err(env_err(
            "ASGARD_DATABASE_URL",
            "must start with sqlite:// or postgres:// (or postgresql://)",
        ));
    }
    if (u.starts_with("sqlite:") && sqlite_path(u).as_os_str().is_empty())
        || u == "postgres://"
        || u == "postgresql://"
    {
        return Err(env_err("ASGARD_DATABASE_URL", "is missing a path or host"));
    }
    Ok(())
}

/// The file path of a `sqlite://PATH`, `sqlite:///ABS/PATH` or `sqlite:PATH` URL
/// (query string dropped).
pub fn sqlite_path(u: &str) -> PathBuf {
    let rest = u
        .strip_prefix("sqlite://")
        .or_else(|| u.strip_prefix("sqlite:"))
        .unwrap_or(u);
    let rest = rest.split('?').next().unwrap_or("");
    PathBuf::from(rest)
}

fn redact_db_url(u: &str) -> String {
    // postgres://user:pass@host → postgres://user:[redacted]@host
    if let Some((scheme, rest)) = u.split_once("://")
        && let Some((creds, host)) = rest.rsplit_once('@')
    {
        let user = creds.split(':').next().unwrap_or("");
        return format!("{scheme}://{user}:[redacted]@{host}");
    }
    u.to_string()
}

fn load_oidc(
    get: &dyn Fn(&str) -> Option<String>,
    public_url: Option<&str>,
) -> Result<Option<OidcConfig>, ConfigError> {
    let domain = get("ASGARD_OIDC_DOMAIN");
    let issuer = get("ASGARD_OIDC_ISSUER");
    let client_id = get("ASGARD_OIDC_CLIENT_ID");
    let client_secret = get("ASGARD_OIDC_CLIENT_SECRET");
    let redirect = get("ASGARD_OIDC_REDIRECT_URI");
    let any =
        domain.is_some() || issuer.is_some() || client_id.is_some() || client_secret.is_some();
    if !any {
        return Ok(None);
    }
    let issuer = match (issuer, domain) {
        (Some(i), _) => {
            if !(i.starts_with("https://") || i.starts_with("http://")) {
                return Err(env_err("ASGARD_OIDC_ISSUER", "must be an http(s) URL"));
            }
            i
        }
        (None, Some(d)) => {
            if d.contains("://") || d.contains('/') {
                return Err(env_err(
                    "ASGARD_OIDC_DOMAIN",
                    "must be a bare host like tenant.eu.auth0.com (use ASGARD_OIDC_ISSUER for a full URL)",
                ));
            }
            format!("https://{d}/")
        }
        (None, None) => {
            return Err(env_err(
                "ASGARD_OIDC_DOMAIN",
                "OIDC is partially configured: set ASGARD_OIDC_DOMAIN or ASGARD_OIDC_ISSUER",
            ));
        }
    };
    let client_id = client_id.ok_or_else(|| {
        env_err(
            "ASGARD_OIDC_CLIENT_ID",
            "OIDC is partially configured: client id missing",
        )
    })?;
    let client_secret = client_secret.ok_or_else(|| {
        env_err(
            "ASGARD_OIDC_CLIENT_SECRET",
            "OIDC is partially configured: client secret missing",
        )
    })?;
    let redirect_uri = match redirect {
        Some(r) => r,
        None => match public_url {
            Some(p) => format!("{p}/api/auth/oidc/callback"),
            None => {
                return Err(env_err(
                    "ASGARD_OIDC_REDIRECT_URI",
                    "OIDC is partially configured: set the redirect URI (or ASGARD_PUBLIC_URL)",
                ));
            }
        },
    };
    let scopes = get("ASGARD_OIDC_SCOPES")
        .unwrap_or_else(|| "openid email profile".into())
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect::<Vec<_>>();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(env_err("ASGARD_OIDC_SCOPES", "must include `openid`"));
    }
    let admin_groups = get("ASGARD_OIDC_ADMIN_GROUPS")
        .map(|s| {
            s.split(',')
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(OidcConfig {
        issuer,
        client_id,
        client_secret: Secret::new(client_secret),
        redirect_uri,
        scopes,
        admin_groups,
        groups_claim: get("ASGARD_OIDC_GROUPS_CLAIM").unwrap_or_else(|| "groups".into()),
    }))
}

type Provisioning = (Option<TerraformConfig>, Vec<AllowedTarget>);

fn load_provisioning(
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
fn child_env(env: &HashMap<String, String>) -> Vec<(String, String)> {
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

/// Whether `path` names a loopback bind address.
pub fn is_loopback_bind(bind: &str) -> bool {
    bind.parse::<SocketAddr>()
        .map(|a| a.ip().is_loopback())
        .unwrap_or(false)
}

#[allow(dead_code)]
fn _assert_path(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
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
    fn booleans() {
        for t in ["1", "TRUE", "yes", "On"] {
            assert!(parse_bool("X", t).unwrap());
        }
        for f in ["0", "false", "NO", "off"] {
            assert!(!parse_bool("X", f).unwrap());
        }
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://asgard.db"),
            PathBuf::from("asgard.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///data/a.db"),
            PathBuf::from("/data/a.db")
        );
        assert_eq!(sqlite_path("sqlite:x.db?mode=rwc"), PathBuf::from("x.db"));
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

    #[test]
    fn redaction() {
        assert_eq!(
            redact_db_url("postgres://u:pw@h:5432/db"),
            "postgres://u:[redacted]@h:5432/db"
        );
    }
}
