//! Connection limits of the HTTP listener: how long a client may take to
//! send a request's head and its body, how long a connection may sit with
//! no byte moving, and how many connections are served at once.

use std::time::Duration;

use super::{ConfigError, env_err};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// From the moment a request's head is awaited (also between keep-alive
    /// requests) until it has fully arrived.
    pub header_timeout: Duration,
    /// No byte read or written on a connection for this long closes it.
    pub idle_timeout: Duration,
    /// From a request's head until its whole body has arrived.
    pub body_timeout: Duration,
    /// Connections served at once; `None` = the default derived from the
    /// open-file limit at boot.
    pub max_connections: Option<usize>,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            max_connections: None,
        }
    }
}

fn positive(
    get: &dyn Fn(&str) -> Option<String>,
    var: &str,
    max: u64,
) -> Result<Option<u64>, ConfigError> {
    let Some(v) = get(var) else {
        return Ok(None);
    };
    match v.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => Err(env_err(
            var,
            format!("`{v}` must be a whole number from 1 to {max}"),
        )),
    }
}

pub fn load_http(get: &dyn Fn(&str) -> Option<String>) -> Result<HttpLimits, ConfigError> {
    let d = HttpLimits::default();
    let secs = |var: &str, default: Duration| -> Result<Duration, ConfigError> {
        Ok(positive(get, var, 3600)?.map_or(default, Duration::from_secs))
    };
    Ok(HttpLimits {
        header_timeout: secs("ASGARD_HTTP_HEADER_TIMEOUT_SECS", d.header_timeout)?,
        idle_timeout: secs("ASGARD_HTTP_IDLE_TIMEOUT_SECS", d.idle_timeout)?,
        body_timeout: secs("ASGARD_HTTP_BODY_TIMEOUT_SECS", d.body_timeout)?,
        max_connections: positive(get, "ASGARD_HTTP_MAX_CONNECTIONS", 1_000_000)?
            .map(|n| n as usize),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::tests::env;

    #[test]
    fn defaults_and_overrides() {
        let c = Config::load(&env(&[]), None, None).unwrap();
        assert_eq!(c.http, HttpLimits::default());
        let c = Config::load(
            &env(&[
                ("ASGARD_HTTP_HEADER_TIMEOUT_SECS", "1"),
                ("ASGARD_HTTP_IDLE_TIMEOUT_SECS", "5"),
                ("ASGARD_HTTP_BODY_TIMEOUT_SECS", "2"),
                ("ASGARD_HTTP_MAX_CONNECTIONS", "64"),
            ]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(c.http.header_timeout, Duration::from_secs(1));
        assert_eq!(c.http.idle_timeout, Duration::from_secs(5));
        assert_eq!(c.http.body_timeout, Duration::from_secs(2));
        assert_eq!(c.http.max_connections, Some(64));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("ASGARD_HTTP_HEADER_TIMEOUT_SECS", "0"),
            ("ASGARD_HTTP_IDLE_TIMEOUT_SECS", "-1"),
            ("ASGARD_HTTP_BODY_TIMEOUT_SECS", "1.5"),
            ("ASGARD_HTTP_BODY_TIMEOUT_SECS", "3601"),
            ("ASGARD_HTTP_MAX_CONNECTIONS", "lots"),
            ("ASGARD_HTTP_MAX_CONNECTIONS", "0"),
        ] {
            let e = Config::load(&env(&[(k, v)]), None, None)
                .unwrap_err()
                .to_string();
            assert!(e.contains(k), "{k}={v}: {e}");
        }
    }
}
