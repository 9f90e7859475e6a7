//! The standard AWS credential chain, in the order the AWS SDKs use, for the providers a
//! server realistically runs under: environment variables, the shared credentials file,
//! ECS task roles (container credentials) and EC2 instance roles (IMDSv2).
//!
//! Web-identity federation (EKS IRSA) is not implemented: on EKS, inject the secrets as
//! environment variables instead (docs/config.md says so).

use super::sigv4::Credentials;
use super::{AwsError, Env};
use serde::Deserialize;
use std::time::Duration;

/// The ECS agent's fixed credentials endpoint for `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
const ECS_HOST: &str = "http://169.254.170.2";
const IMDS_DEFAULT: &str = "http://169.254.169.254";

pub async fn resolve(env: &Env, http: &reqwest::Client) -> Result<Credentials, AwsError> {
    if let Some(c) = from_env(env) {
        return Ok(c);
    }
    if let Some(c) = from_shared_file(env)? {
        return Ok(c);
    }
    if let Some(c) = from_container(env, http).await? {
        return Ok(c);
    }
    if env.get("AWS_EC2_METADATA_DISABLED").as_deref() != Some("true")
        && let Some(c) = from_imds(env, http).await?
    {
        return Ok(c);
    }
    Err(AwsError::NoCredentials)
}

fn from_env(env: &Env) -> Option<Credentials> {
    let id = env.get("AWS_ACCESS_KEY_ID")?;
    let secret = env.get("AWS_SECRET_ACCESS_KEY")?;
    Some(Credentials {
        access_key_id: id,
        secret_access_key: secret,
        session_token: env.get("AWS_SESSION_TOKEN"),
        source: "environment (AWS_ACCESS_KEY_ID)",
    })
}

/// Static keys from `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`), profile
/// `AWS_PROFILE` or `default`. Profiles that assume roles or run processes are not followed.
fn from_shared_file(env: &Env) -> Result<Option<Credentials>, AwsError> {
    let path = match env.get("AWS_SHARED_CREDENTIALS_FILE") {
        Some(p) => std::path::PathBuf::from(p),
        None => match env.get("HOME") {
            Some(h) => std::path::Path::new(&h).join(".aws/credentials"),
            None => return Ok(None),
        },
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let profile = env.get("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let mut current = String::new();
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
            continue;
        }
        if current != profile {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = Some(v.trim().to_string());
            match k.trim() {
                "aws_access_key_id" => id = v,
                "aws_secret_access_key" => secret = v,
                "aws_session_token" => token = v,
                _ => {}
            }
        }
    }
    match (id, secret) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Some(Credentials {
            access_key_id,
            secret_access_key,
            session_token: token,
            source: "shared credentials file",
        })),
        _ => Ok(None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials {
    access_key_id: String,
    secret_access_key: String,
    token: Option<String>,
}

/// ECS task role: the agent serves the role's credentials at a URI it passes in the env.
async fn from_container(
    env: &Env,
    http: &reqwest::Client,
) -> Result<Option<Credentials>, AwsError> {
    let url = if let Some(rel) = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        format!("{ECS_HOST}{rel}")
    } else if let Some(full) = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        full
    } else {
        return Ok(None);
    };
    let token = match (
        env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
        env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
    ) {
        (Some(file), _) => Some(
            std::fs::read_to_string(&file)
                .map_err(|e| AwsError::Credentials(format!("reading {file}: {e}")))?
                .trim()
                .to_string(),
        ),
        (None, t) => t,
    };
    let mut req = http.get(&url).timeout(Duration::from_secs(5));
    if let Some(t) = token {
        req = req.header("authorization", t);
    }
    let creds: RoleCredentials = fetch_json(req, "the ECS container credentials endpoint").await?;
    Ok(Some(Credentials {
        access_key_id: creds.access_key_id,
        secret_access_key: creds.secret_access_key,
        session_token: creds.token,
        source: "ECS container credentials",
    }))
}

/// EC2 instance role through IMDSv2. A host that is not on EC2 answers nothing: the short
/// timeouts keep that from delaying the boot error.
async fn from_imds(env: &Env, http: &reqwest::Client) -> Result<Option<Credentials>, AwsError> {
    let base = env
        .get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .unwrap_or_else(|| IMDS_DEFAULT.into());
    let base = base.trim_end_matches('/');
    let quick = Duration::from_secs(1);
    let Ok(resp) = http
        .put(format!("{base}/latest/api/token"))
        .header("x-aws-ec2-metadata-token-ttl-seconds", "300")
        .timeout(quick)
        .send()
        .await
    else {
        return Ok(None);
    };
    if !resp.status().is_success() {
        return Ok(None);
    }
    let token = resp.text().await.unwrap_or_default();
    let roles_url = format!("{base}/latest/meta-data/iam/security-credentials/");
    let role = http
        .get(&roles_url)
        .header("x-aws-ec2-metadata-token", &token)
        .timeout(quick)
        .send()
        .await
        .ok()
        .filter(|r| r.status().is_success());
    let Some(role) = role else { return Ok(None) };
    let role = role.text().await.unwrap_or_default();
    let Some(role) = role.lines().next().map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let req = http
        .get(format!("{roles_url}{role}"))
        .header("x-aws-ec2-metadata-token", &token)
        .timeout(Duration::from_secs(5));
    let creds: RoleCredentials = fetch_json(req, "the EC2 instance metadata service").await?;
    Ok(Some(Credentials {
        access_key_id: creds.access_key_id,
        secret_access_key: creds.secret_access_key,
        session_token: creds.token,
        source: "EC2 instance role",
    }))
}

async fn fetch_json<T: for<'de> Deserialize<'de>>(
    req: reqwest::RequestBuilder,
    what: &str,
) -> Result<T, AwsError> {
    let resp = req
        .send()
        .await
        .map_err(|e| AwsError::Credentials(format!("{what} did not answer: {e}")))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(AwsError::Credentials(format!(
            "{what} answered HTTP {status}"
        )));
    }
    // The body holds credentials: never echo it, even in a parse error.
    resp.json().await.map_err(|_| {
        AwsError::Credentials(format!(
            "{what} answered something that is not credentials JSON"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs)
    }

    #[test]
    fn env_credentials_need_both_halves() {
        assert!(from_env(&env(&[("AWS_ACCESS_KEY_ID", "a")])).is_none());
        let c = from_env(&env(&[
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "b"),
            ("AWS_SESSION_TOKEN", "t"),
        ]))
        .unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.session_token.as_deref()),
            ("a", Some("t"))
        );
    }

    #[test]
    fn shared_file_reads_the_chosen_profile() {
        let dir = std::env::temp_dir().join(format!("asgard-aws-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials");
        std::fs::write(
            &file,
            "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n# other\n[ops]\naws_access_key_id=O\naws_secret_access_key=OS\naws_session_token = OT\n",
        )
        .unwrap();
        let f = file.to_string_lossy().into_owned();
        let d = from_shared_file(&env(&[("AWS_SHARED_CREDENTIALS_FILE", &f)]))
            .unwrap()
            .unwrap();
        assert_eq!(d.access_key_id, "D");
        let o = from_shared_file(&env(&[
            ("AWS_SHARED_CREDENTIALS_FILE", &f),
            ("AWS_PROFILE", "ops"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            (o.access_key_id.as_str(), o.session_token.as_deref()),
            ("O", Some("OT"))
        );
        let none = from_shared_file(&env(&[
            ("AWS_SHARED_CREDENTIALS_FILE", &f),
            ("AWS_PROFILE", "missing"),
        ]))
        .unwrap();
        assert!(none.is_none());
        std::fs::remove_dir_all(dir).ok();
    }
}
