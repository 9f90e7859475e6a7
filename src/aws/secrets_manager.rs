//! Secrets Manager `GetSecretValue` over its JSON protocol, signed with SigV4.

use super::sigv4::{self, Credentials};
use super::{AwsError, Env, credentials};
use serde::Deserialize;
use std::time::Duration;
use zeroize::Zeroizing;

/// Which boot value a secret holds; it decides which JSON field is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootSecret {
    /// Plain string, or JSON with a `url` field (what the `rds-postgres` service stores).
    DatabaseUrl,
    /// Plain string (what `secretsmanager-secret` stores), or JSON with a `key` field.
    MasterKey,
}

/// Reads one boot secret. Retries transient failures (network, 5xx, throttling) a few times,
/// so a task starting while its network comes up still boots.
pub async fn read_boot_secret(
    env: &Env,
    arn: &str,
    kind: BootSecret,
) -> Result<Zeroizing<String>, AwsError> {
    let target = Target::parse(arn, env)?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| AwsError::Credentials(format!("building the HTTP client: {e}")))?;
    let creds = credentials::resolve(env, &http).await?;
    let mut attempt = 0;
    let raw = loop {
        attempt += 1;
        match get_secret_value(&http, &target, &creds, arn).await {
            Err(e) if attempt < 3 && transient(&e) => {
                tokio::time::sleep(Duration::from_millis(250 * 4u64.pow(attempt - 1))).await;
            }
            other => break other?,
        }
    };
    extract(raw, kind)
}

fn transient(e: &AwsError) -> bool {
    match e {
        AwsError::Unreachable { .. } => true,
        AwsError::Refused { status, kind, .. } => {
            *status >= 500 || kind.contains("Throttling") || kind.contains("RequestLimitExceeded")
        }
        _ => false,
    }
}

struct Target {
    region: String,
    endpoint: url::Url,
}

impl Target {
    fn parse(arn: &str, env: &Env) -> Result<Self, AwsError> {
        let parts: Vec<&str> = arn.splitn(7, ':').collect();
        let ok = parts.len() == 7
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "secretsmanager"
            && !parts[3].is_empty()
            && parts[5] == "secret"
            && !parts[6].is_empty();
        if !ok {
            return Err(AwsError::BadArn(arn.to_string()));
        }
        let region = parts[3].to_string();
        let endpoint = match env
            .get("AWS_ENDPOINT_URL_SECRETS_MANAGER")
            .or_else(|| env.get("AWS_ENDPOINT_URL"))
        {
            Some(e) => e,
            None if parts[1] == "aws-cn" => {
                format!("https://secretsmanager.{region}.amazonaws.com.cn")
            }
            None => format!("https://secretsmanager.{region}.amazonaws.com"),
        };
        let endpoint = url::Url::parse(&endpoint).map_err(|e| AwsError::Unreachable {
            endpoint: endpoint.clone(),
            cause: format!("not a URL ({e})"),
        })?;
        Ok(Target { region, endpoint })
    }

    /// The `host` header as reqwest sends it: with the port only when the URL names one.
    fn host_header(&self) -> String {
        let host = self.endpoint.host_str().unwrap_or_default();
        match self.endpoint.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    secret_string: Option<String>,
    secret_binary: Option<String>,
}

async fn get_secret_value(
    http: &reqwest::Client,
    target: &Target,
    creds: &Credentials,
    arn: &str,
) -> Result<Zeroizing<String>, AwsError> {
    let body = serde_json::to_vec(&serde_json::json!({ "SecretId": arn }))
        .map_err(|e| AwsError::BadValue(e.to_string()))?;
    let headers = vec![
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        ("host".to_string(), target.host_header()),
        (
            "x-amz-target".to_string(),
            "secretsmanager.GetSecretValue".to_string(),
        ),
    ];
    // AWS checks the signing time against its own clock: always the real
    // time, never the app's (possibly fake) clock.
    let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let signed = sigv4::sign(
        &sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: headers.clone(),
            body: &body,
        },
        creds,
        &target.region,
        "secretsmanager",
        &amz_date,
    );
    let mut req = http.post(target.endpoint.clone()).body(body);
    for (k, v) in headers.iter().filter(|(k, _)| k != "host").chain(&signed) {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await.map_err(|e| AwsError::Unreachable {
        endpoint: target.endpoint.to_string(),
        cause: e.to_string(),
    })?;
    let status = resp.status();
    let bytes = Zeroizing::new(resp.bytes().await.map(|b| b.to_vec()).map_err(|e| {
        AwsError::Unreachable {
            endpoint: target.endpoint.to_string(),
            cause: e.to_string(),
        }
    })?);
    if !status.is_success() {
        // Error bodies carry a type and a message, never the secret: safe to show.
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| v.get(*n).and_then(|x| x.as_str()))
                .unwrap_or_default()
                .to_string()
        };
        let kind = field(&["__type", "code", "Code"]);
        let kind = kind.rsplit('#').next().unwrap_or_default().to_string();
        return Err(AwsError::Refused {
            status: status.as_u16(),
            kind: if kind.is_empty() {
                "error".into()
            } else {
                kind
            },
            message: field(&["message", "Message"]),
        });
    }
    let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| {
        AwsError::BadValue(
            "Secrets Manager answered something that is not GetSecretValue JSON".into(),
        )
    })?;
    if let Some(s) = answer.secret_string {
        return Ok(Zeroizing::new(s));
    }
    if let Some(b) = answer.secret_binary {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b.as_bytes())
            .map_err(|_| AwsError::BadValue("SecretBinary is not base64".into()))?;
        return String::from_utf8(raw)
            .map(Zeroizing::new)
            .map_err(|_| AwsError::BadValue("the secret is binary, not text".into()));
    }
    Err(AwsError::BadValue(
        "the secret has no value (no SecretString or SecretBinary)".into(),
    ))
}

/// Picks the value out of a plain or JSON secret. Errors never quote the secret.
fn extract(raw: Zeroizing<String>, kind: BootSecret) -> Result<Zeroizing<String>, AwsError> {
    let text = raw.trim();
    if !text.starts_with('{') {
        if text.is_empty() {
            return Err(AwsError::BadValue("the secret is empty".into()));
        }
        return Ok(Zeroizing::new(text.to_string()));
    }
    let fields: &[&str] = match kind {
        BootSecret::DatabaseUrl => &["url"],
        BootSecret::MasterKey => &["key"],
    };
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| {
        AwsError::BadValue("the secret starts with '{' but is not valid JSON".into())
    })?;
    fields
        .iter()
        .find_map(|f| v.get(*f).and_then(|x| x.as_str()))
        .map(|s| Zeroizing::new(s.trim().to_string()))
        .ok_or_else(|| {
            AwsError::BadValue(format!(
                "the secret is JSON without a string field `{}`; store the plain value or add that field",
                fields[0]
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_checked_and_give_the_region() {
        let env = Env::default();
        let t = Target::parse(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:asgard-db-AbCdEf",
            &env,
        )
        .unwrap();
        assert_eq!(t.region, "eu-west-1");
        assert_eq!(t.host_header(), "secretsmanager.eu-west-1.amazonaws.com");
        for bad in [
            "",
            "asgard-db",
            "arn:aws:s3:::bucket",
            "arn:aws:secretsmanager::123:secret:x",
            "arn:aws:secretsmanager:us-east-1:123:secret:",
        ] {
            assert!(
                matches!(Target::parse(bad, &env), Err(AwsError::BadArn(_))),
                "{bad}"
            );
        }
        let moto = Env::from_pairs(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5123")]);
        let t = Target::parse("arn:aws:secretsmanager:us-east-1:1:secret:x", &moto).unwrap();
        assert_eq!(t.host_header(), "127.0.0.1:5123");
    }

    #[test]
    fn values_come_plain_or_from_their_field() {
        let z = |s: &str| Zeroizing::new(s.to_string());
        assert_eq!(
            *extract(z(" abc \n"), BootSecret::MasterKey).unwrap(),
            "abc"
        );
        assert_eq!(
            *extract(
                z(r#"{"url":"postgres://x","user":"u"}"#),
                BootSecret::DatabaseUrl
            )
            .unwrap(),
            "postgres://x"
        );
        assert_eq!(
            *extract(z(r#"{"key":"k"}"#), BootSecret::MasterKey).unwrap(),
            "k"
        );
        let e = extract(z(r#"{"password":"hunter2"}"#), BootSecret::DatabaseUrl).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(
            extract(z("{not json hunter2"), BootSecret::DatabaseUrl)
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
        assert!(extract(z("  "), BootSecret::MasterKey).is_err());
    }
}
