//! `Config::load`: the environment and the optional `asgard.yaml`
//! (§1.3) turned into one validated `Config`. Every refusal names the
//! variable or key path, so an operator can fix it without reading code.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::database::validate_db_url;
use super::file::FileConfig;
use super::oidc::load_oidc;
use super::provisioning::{child_env, load_provisioning};
use super::{Config, ConfigError, LogFormat, Secret, env_err, parse_bool};

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

        // an ARN is only consulted when its plain variable is unset; it is then
        // read from Secrets Manager at boot (crate::aws). Until then the URL is empty, which
        // nothing reads before App::build resolves it.
        let mut ignored_arns = Vec::new();
        let mut database_url_secret_arn = get("ASGARD_DATABASE_URL_SECRET_ARN");
        let database_url = match get("ASGARD_DATABASE_URL") {
            Some(u) => {
                validate_db_url(&u)?;
                if database_url_secret_arn.take().is_some() {
                    ignored_arns.push("ASGARD_DATABASE_URL_SECRET_ARN");
                }
                u
            }
            None if database_url_secret_arn.is_some() => String::new(),
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
        let mut secret_key_secret_arn = get("ASGARD_SECRET_KEY_SECRET_ARN");
        if secret_key.is_some() && secret_key_secret_arn.take().is_some() {
            ignored_arns.push("ASGARD_SECRET_KEY_SECRET_ARN");
        }
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

        let http = super::http::load_http(&get)?;
        let lease_ttl_secs = file.lease_ttl_secs.unwrap_or(600);
        let (terraform, allowed) = load_provisioning(&get, &file)?;

        Ok(Config {
            database_url: Secret::new(database_url),
            database_url_secret_arn,
            secret_key,
            secret_key_secret_arn,
            ignored_arns,
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
            http,
        })
    }
}
