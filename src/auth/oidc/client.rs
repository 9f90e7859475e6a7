//! HTTP calls to the identity provider. One client: 10 s per call (5 s to
//! connect), redirects never followed (a token endpoint that redirects is
//! refused, so the client secret and code never travel to another host),
//! bodies capped at 1 MiB.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;

use super::discovery::{Provider, TokenAuth};
use super::{Failure, Reason};
use crate::config::OidcConfig;

const MAX_BODY: usize = 1024 * 1024;

pub fn build() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("asgard/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// Why an IdP call failed, for logs and for picking the failure reason.
#[derive(Debug)]
pub enum CallError {
    /// Connection, timeout or a body we could not read.
    Transport(String),
    /// The IdP answered with a non-success status.
    Status(u16, Vec<u8>),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Transport(m) => write!(f, "{m}"),
            CallError::Status(s, _) => write!(f, "HTTP {s}"),
        }
    }
}

async fn body(resp: reqwest::Response) -> Result<(u16, Vec<u8>), CallError> {
    let status = resp.status().as_u16();
    let mut resp = resp;
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| CallError::Transport(describe(&e)))?
    {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(CallError::Transport("response larger than 1 MiB".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((status, out))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        // reqwest's Display names the URL, never credentials.
        e.to_string()
    }
}

/// GET a JSON document (discovery, JWKS, userinfo with a bearer token).
pub async fn get(
    http: &reqwest::Client,
    url: &url::Url,
    bearer: Option<&str>,
) -> Result<Vec<u8>, CallError> {
    let mut req = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| CallError::Transport(describe(&e)))?;
    let (status, bytes) = body(resp).await?;
    if (200..300).contains(&status) {
        Ok(bytes)
    } else {
        Err(CallError::Status(status, bytes))
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub id_token: Option<String>,
    pub access_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// RFC 6749 §2.3.1: client id and secret are form-encoded before Basic.
fn basic_auth(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

/// Exchange the authorization code (with the PKCE verifier) for tokens.
/// When the provider refuses the client authentication method
/// (`invalid_client`) and discovery lists another one, that one is tried: a
/// failed client authentication does not redeem the code.
pub async fn exchange_code(
    http: &reqwest::Client,
    provider: &Provider,
    cfg: &OidcConfig,
    code: &str,
    verifier: &str,
) -> Result<TokenResponse, Failure> {
    let methods = &provider.token_auth;
    for (i, method) in methods.iter().enumerate() {
        let (status, bytes) = token_request(http, provider, cfg, code, verifier, *method).await?;
        if (200..300).contains(&status) {
            return serde_json::from_slice::<TokenResponse>(&bytes).map_err(|_| {
                Failure::new(
                    Reason::BadToken,
                    "the token endpoint's answer is not a valid token response",
                )
            });
        }
        if (300..400).contains(&status) {
            tracing::warn!(
                status,
                "oidc: the token endpoint answered with a redirect; refused"
            );
            return Err(Failure::new(
                Reason::IdpUnreachable,
                "the token endpoint answered with a redirect, which Asgard does not follow",
            ));
        }
        let err = serde_json::from_slice::<OAuthError>(&bytes).ok();
        if let Some(e) = &err
            && e.error == "invalid_client"
            && i + 1 < methods.len()
        {
            tracing::info!(method = ?method, "oidc: the token endpoint refused this client authentication method; trying the next");
            continue;
        }
        return Err(match err {
            Some(e) if (400..500).contains(&status) => {
                tracing::info!(status, error = %e.error, "oidc: the token endpoint refused the code");
                Failure::new(
                    Reason::CodeRejected,
                    format!(
                        "the token endpoint said `{}`{}",
                        clip(&e.error, 64),
                        e.error_description
                            .map(|d| format!(": {}", clip(&d, 200)))
                            .unwrap_or_default()
                    ),
                )
            }
            _ => unreachable_idp("token endpoint", &format!("HTTP {status}")),
        });
    }
    Err(Failure::new(
        Reason::CodeRejected,
        "no client authentication method was accepted",
    ))
}

async fn token_request(
    http: &reqwest::Client,
    provider: &Provider,
    cfg: &OidcConfig,
    code: &str,
    verifier: &str,
    method: TokenAuth,
) -> Result<(u16, Vec<u8>), Failure> {
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &cfg.redirect_uri),
        ("code_verifier", verifier),
    ];
    let mut req = http
        .post(provider.token_endpoint.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    match method {
        TokenAuth::Basic => {
            req = req.header(
                reqwest::header::AUTHORIZATION,
                basic_auth(&cfg.client_id, cfg.client_secret.expose()),
            );
        }
        TokenAuth::Post => {
            form.push(("client_id", &cfg.client_id));
            form.push(("client_secret", cfg.client_secret.expose()));
        }
    }
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let resp = req
        .body(encoded)
        .send()
        .await
        .map_err(|e| unreachable_idp("token endpoint", &describe(&e)))?;
    body(resp)
        .await
        .map_err(|e| unreachable_idp("token endpoint", &e.to_string()))
}

/// The userinfo claims (JSON only; a signed/encrypted userinfo is ignored).
pub async fn userinfo(
    http: &reqwest::Client,
    endpoint: &url::Url,
    access_token: &str,
) -> Result<Value, Failure> {
    let bytes = get(http, endpoint, Some(access_token))
        .await
        .map_err(|e| unreachable_idp("userinfo endpoint", &e.to_string()))?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| {
        Failure::new(
            Reason::BadToken,
            "the userinfo endpoint did not answer with JSON",
        )
    })?;
    if !v.is_object() {
        return Err(Failure::new(
            Reason::BadToken,
            "the userinfo endpoint did not answer with a JSON object",
        ));
    }
    Ok(v)
}

fn unreachable_idp(what: &str, why: &str) -> Failure {
    tracing::warn!(
        endpoint = what,
        error = why,
        "oidc: identity provider call failed"
    );
    Failure::new(
        Reason::IdpUnreachable,
        format!("the identity provider's {what} failed ({why})"),
    )
}

/// At most `n` characters, for echoing IdP-supplied text.
pub fn clip(s: &str, n: usize) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_form_encodes_first() {
        // "a b" -> "a+b", ":" -> "%3A" (RFC 6749 §2.3.1)
        let h = basic_auth("a b", "s:e");
        let raw = STANDARD.decode(h.strip_prefix("Basic ").unwrap()).unwrap();
        assert_eq!(raw, b"a+b:s%3Ae");
    }

    #[test]
    fn clip_drops_control_chars() {
        assert_eq!(clip("a\nb", 10), "ab");
        assert_eq!(clip("abcdef", 3), "abc…");
    }
}
