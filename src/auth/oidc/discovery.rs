//! Provider discovery (`/.well-known/openid-configuration`) and the signing
//! keys (JWKS). Discovery runs in the background with backoff until it
//! succeeds; keys are refetched when a token names a `kid` we do not know
//! (key rotation), at most once per `REFETCH_COOLDOWN`, and refreshed when
//! older than `MAX_KEY_AGE`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::{Oidc, client};

const REFETCH_COOLDOWN: Duration = Duration::from_secs(10);
const MAX_KEY_AGE: Duration = Duration::from_secs(3600);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAuth {
    Basic,
    Post,
}

/// What discovery told us about the provider.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The issuer exactly as the provider spells it (what `iss` must equal).
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub userinfo_endpoint: Option<Url>,
    pub jwks_uri: Url,
    /// Client authentication methods to try, in order.
    pub token_auth: Vec<TokenAuth>,
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    jwks_uri: String,
    #[serde(default)]
    response_types_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
}

/// The discovery document's URL for an issuer.
pub fn well_known(issuer: &str) -> Result<Url, String> {
    let base = issuer.trim_end_matches('/');
    Url::parse(&format!("{base}/.well-known/openid-configuration"))
        .map_err(|e| format!("the issuer is not a valid URL: {e}"))
}

/// Validate a discovery document against the configured issuer.
pub fn parse_metadata(configured_issuer: &str, body: &[u8]) -> Result<Provider, String> {
    let m: Metadata = serde_json::from_slice(body)
        .map_err(|e| format!("the discovery document is not valid: {e}"))?;
    if m.issuer.trim_end_matches('/') != configured_issuer.trim_end_matches('/') {
        return Err(format!(
            "the discovery document names issuer `{}`, not the configured `{configured_issuer}` (check ASGARD_OIDC_ISSUER / ASGARD_OIDC_DOMAIN)",
            client::clip(&m.issuer, 200)
        ));
    }
    let allow_http = configured_issuer.starts_with("http://");
    let endpoint = |name: &str, v: &str| -> Result<Url, String> {
        let u = Url::parse(v).map_err(|e| format!("{name} is not a valid URL: {e}"))?;
        match u.scheme() {
            "https" => Ok(u),
            "http" if allow_http => Ok(u),
            _ => Err(format!("{name} must be an https URL")),
        }
    };
    if let Some(rt) = &m.response_types_supported
        && !rt.iter().any(|t| t == "code")
    {
        return Err("the provider does not support the authorization code flow".into());
    }
    if let Some(cc) = &m.code_challenge_methods_supported
        && !cc.iter().any(|c| c == "S256")
    {
        return Err("the provider does not support PKCE with S256".into());
    }
    // Basic first (the OAuth default); Post as a fallback when both are listed,
    // because some providers (Auth0) enforce the one method set per client.
    let token_auth: Vec<TokenAuth> = match &m.token_endpoint_auth_methods_supported {
        None => vec![TokenAuth::Basic],
        Some(list) => [
            ("client_secret_basic", TokenAuth::Basic),
            ("client_secret_post", TokenAuth::Post),
        ]
        .into_iter()
        .filter(|(name, _)| list.iter().any(|a| a == name))
        .map(|(_, t)| t)
        .collect(),
    };
    if token_auth.is_empty() {
        return Err(
            "the provider's token endpoint accepts neither client_secret_basic nor client_secret_post"
                .into(),
        );
    }
    Ok(Provider {
        authorization_endpoint: endpoint("authorization_endpoint", &m.authorization_endpoint)?,
        token_endpoint: endpoint("token_endpoint", &m.token_endpoint)?,
        userinfo_endpoint: m
            .userinfo_endpoint
            .as_deref()
            .map(|u| endpoint("userinfo_endpoint", u))
            .transpose()?,
        jwks_uri: endpoint("jwks_uri", &m.jwks_uri)?,
        token_auth,
        issuer: m.issuer,
    })
}

/// The signature keys of a JWKS. Keys meant for encryption, symmetric keys,
/// and keys this build cannot use are skipped rather than failing the set.
pub fn parse_jwks(body: &[u8]) -> Result<Vec<Jwk>, String> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<Value>,
    }
    let set: Set =
        serde_json::from_slice(body).map_err(|e| format!("the JWKS is not valid: {e}"))?;
    let keys: Vec<Jwk> = set
        .keys
        .into_iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
        .filter(|k| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .filter(|k| !matches!(k.algorithm, AlgorithmParameters::OctetKey(_)))
        .filter(|k| jsonwebtoken::DecodingKey::from_jwk(k).is_ok())
        .collect();
    if keys.is_empty() {
        return Err("the JWKS has no usable signature keys".into());
    }
    Ok(keys)
}

#[derive(Default)]
struct KeyState {
    keys: Vec<Jwk>,
    fetched_at: Option<Instant>,
}

/// The provider's current signing keys.
#[derive(Default)]
pub struct KeyCache {
    state: tokio::sync::RwLock<KeyState>,
}

impl KeyCache {
    pub async fn keys(&self) -> Vec<Jwk> {
        self.state.read().await.keys.clone()
    }

    async fn replace(&self, keys: Vec<Jwk>) {
        let mut s = self.state.write().await;
        s.keys = keys;
        s.fetched_at = Some(Instant::now());
    }

    /// Refetch the JWKS unless it was fetched within the cooldown (`force`:
    /// a token named an unknown key) or is younger than `MAX_KEY_AGE`.
    /// Returns whether the keys were refreshed. A failed fetch keeps the old
    /// keys.
    pub async fn refresh(&self, http: &reqwest::Client, provider: &Provider, force: bool) -> bool {
        let mut s = self.state.write().await;
        let age = s.fetched_at.map(|t| t.elapsed());
        let due = match age {
            None => true,
            Some(a) if force => a >= REFETCH_COOLDOWN,
            Some(a) => a >= MAX_KEY_AGE,
        };
        if !due {
            return false;
        }
        s.fetched_at = Some(Instant::now());
        match fetch_keys(http, provider).await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "oidc: signing keys refreshed");
                s.keys = keys;
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "oidc: could not refresh the signing keys; keeping the old ones");
                false
            }
        }
    }
}

async fn fetch_keys(http: &reqwest::Client, provider: &Provider) -> Result<Vec<Jwk>, String> {
    let body = client::get(http, &provider.jwks_uri, None)
        .await
        .map_err(|e| format!("fetching the JWKS at {}: {e}", provider.jwks_uri))?;
    parse_jwks(&body)
}

async fn discover(oidc: &Oidc) -> Result<(Provider, Vec<Jwk>), String> {
    let url = well_known(&oidc.config.issuer)?;
    let body = client::get(&oidc.http, &url, None)
        .await
        .map_err(|e| format!("fetching {url}: {e}"))?;
    let provider = parse_metadata(&oidc.config.issuer, &body)?;
    let keys = fetch_keys(&oidc.http, &provider).await?;
    Ok((provider, keys))
}

/// Discover until it works, with exponential backoff (1 s doubling to 30 s).
pub async fn run(oidc: Arc<Oidc>) {
    let mut delay = Duration::from_secs(1);
    let mut attempt = 1u32;
    loop {
        match discover(&oidc).await {
            Ok((provider, keys)) => {
                tracing::info!(issuer = %provider.issuer, keys = keys.len(), attempt,
                    "oidc: discovery succeeded; single sign-on is ready");
                oidc.keys.replace(keys).await;
                oidc.set_provider(provider);
                return;
            }
            Err(e) => {
                tracing::warn!(issuer = %oidc.config.issuer, error = %e, attempt,
                    retry_in_secs = delay.as_secs(),
                    "oidc: discovery failed; single sign-on is unavailable until it succeeds (local login still works)");
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_BACKOFF);
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(issuer: &str, extra: Value) -> Vec<u8> {
        let mut v = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
        });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn metadata_checks() {
        let p = parse_metadata(
            "https://idp.example/",
            &doc("https://idp.example", serde_json::json!({})),
        )
        .unwrap();
        assert_eq!(p.issuer, "https://idp.example");
        assert_eq!(p.token_auth, vec![TokenAuth::Basic]);
        assert!(
            parse_metadata(
                "https://other.example",
                &doc("https://idp.example", serde_json::json!({}))
            )
            .is_err()
        );
        let http = doc("http://127.0.0.1:9", serde_json::json!({}));
        assert!(parse_metadata("http://127.0.0.1:9", &http).is_ok());
        // an https issuer may not point at plain-http endpoints
        let mut mixed: Value =
            serde_json::from_slice(&doc("https://idp.example", serde_json::json!({}))).unwrap();
        mixed["token_endpoint"] = "http://idp.example/token".into();
        assert!(
            parse_metadata("https://idp.example", &serde_json::to_vec(&mixed).unwrap()).is_err()
        );
        let post = doc(
            "https://idp.example",
            serde_json::json!({"token_endpoint_auth_methods_supported": ["client_secret_post"]}),
        );
        assert_eq!(
            parse_metadata("https://idp.example", &post)
                .unwrap()
                .token_auth,
            vec![TokenAuth::Post]
        );
        let both = doc(
            "https://idp.example",
            serde_json::json!({"token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_post", "client_secret_basic"]}),
        );
        assert_eq!(
            parse_metadata("https://idp.example", &both)
                .unwrap()
                .token_auth,
            vec![TokenAuth::Basic, TokenAuth::Post]
        );
        let neither = doc(
            "https://idp.example",
            serde_json::json!({"token_endpoint_auth_methods_supported": ["private_key_jwt"]}),
        );
        assert!(parse_metadata("https://idp.example", &neither).is_err());
        let no_pkce = doc(
            "https://idp.example",
            serde_json::json!({"code_challenge_methods_supported": ["plain"]}),
        );
        assert!(parse_metadata("https://idp.example", &no_pkce).is_err());
    }

    #[test]
    fn jwks_skips_encryption_and_unknown_keys() {
        let body = serde_json::json!({"keys": [
            {"kty": "RSA", "use": "enc", "kid": "e", "n": "AQAB", "e": "AQAB"},
            {"kty": "weird", "kid": "w"},
            {"kty": "oct", "kid": "o", "k": "c2VjcmV0"},
            {"kty": "RSA", "use": "sig", "kid": "s", "alg": "RS256", "n": "AQAB", "e": "AQAB"},
        ]});
        let keys = parse_jwks(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].common.key_id.as_deref(), Some("s"));
        assert!(parse_jwks(br#"{"keys": []}"#).is_err());
    }
}
