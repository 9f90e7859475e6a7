//! Database URLs: which schemes are accepted, where a SQLite
//! file lives, and how a URL is shown without its password.

use std::path::PathBuf;

use super::{ConfigError, env_err};

pub(super) fn validate_db_url(u: &str) -> Result<(), ConfigError> {
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

pub(super) fn redact_db_url(u: &str) -> String {
    // postgres://user:pass@host → postgres://user:[redacted]@host
    if let Some((scheme, rest)) = u.split_once("://")
        && let Some((creds, host)) = rest.rsplit_once('@')
    {
        let user = creds.split(':').next().unwrap_or("");
        return format!("{scheme}://{user}:[redacted]@{host}");
    }
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn redaction() {
        assert_eq!(
            redact_db_url("postgres://u:pw@h:5432/db"),
            "postgres://u:[redacted]@h:5432/db"
        );
    }
}
