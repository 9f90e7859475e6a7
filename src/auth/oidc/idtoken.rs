//! ID token verification (OIDC Core §3.1.3.7): the signature against the
//! provider's JWKS (asymmetric algorithms only; an unknown `kid` triggers one
//! JWKS refetch, which is how key rotation works), then the claims — `iss`,
//! `aud`, `azp`, `exp`, `iat`, `nbf`, `nonce`, `sub` — in `check_claims`,
//! a pure function.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::{Failure, LEEWAY_SECS, Oidc, Provider, Reason};

/// Accepted signature algorithms. HMAC (`HS*`, keyed with the client secret)
/// is refused: configure the provider to sign with RS256 or ES256.
const ALLOWED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

#[derive(Debug, PartialEq, Eq)]
pub enum SigError {
    Malformed,
    Algorithm(String),
    UnknownKey(Option<String>),
    BadSignature,
}

/// Verify the signature with one of `keys`; returns the claims.
pub fn verify_signature(token: &str, keys: &[Jwk]) -> Result<Value, SigError> {
    let header = decode_header(token).map_err(|_| SigError::Malformed)?;
    if !ALLOWED.contains(&header.alg) {
        return Err(SigError::Algorithm(format!("{:?}", header.alg)));
    }
    let candidates: Vec<&Jwk> = keys
        .iter()
        .filter(|k| match (&header.kid, &k.common.key_id) {
            (Some(want), Some(have)) => want == have,
            (Some(_), None) => false,
            (None, _) => true,
        })
        .filter(|k| {
            k.common
                .key_algorithm
                .is_none_or(|a| jsonwebtoken::jwk::KeyAlgorithm::from(header.alg) == a)
        })
        .collect();
    if candidates.is_empty() {
        return Err(SigError::UnknownKey(header.kid));
    }
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        if let Ok(data) = decode::<Value>(token, &key, &validation) {
            return Ok(data.claims);
        }
    }
    Err(SigError::BadSignature)
}

/// What the claims must say.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// Unix seconds.
    pub now: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ClaimError {
    Issuer,
    Audience,
    AuthorizedParty,
    Expired,
    MissingTime(&'static str),
    IssuedInFuture,
    NotYetValid,
    Nonce,
    Subject,
}

impl ClaimError {
    pub fn failure(&self) -> Failure {
        let (reason, detail) = match self {
            ClaimError::Issuer => (
                Reason::BadToken,
                "the ID token's issuer (`iss`) is not the configured provider",
            ),
            ClaimError::Audience => (
                Reason::BadToken,
                "the ID token was issued for another client (`aud`)",
            ),
            ClaimError::AuthorizedParty => (
                Reason::BadToken,
                "the ID token's authorized party (`azp`) is another client",
            ),
            ClaimError::Expired => (Reason::ExpiredToken, "the ID token's `exp` is in the past"),
            ClaimError::MissingTime(c) => {
                return Failure::new(
                    Reason::BadToken,
                    format!("the ID token has no valid `{c}` claim"),
                );
            }
            ClaimError::IssuedInFuture => (
                Reason::BadToken,
                "the ID token's `iat` is in the future (check the clocks)",
            ),
            ClaimError::NotYetValid => (Reason::BadToken, "the ID token is not valid yet (`nbf`)"),
            ClaimError::Nonce => (
                Reason::NonceMismatch,
                "the ID token's `nonce` does not match this sign-in",
            ),
            ClaimError::Subject => (
                Reason::BadToken,
                "the ID token has no usable subject (`sub`)",
            ),
        };
        Failure::new(reason, detail)
    }
}

fn time(c: &Value, name: &'static str) -> Result<Option<i64>, ClaimError> {
    match c.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or(ClaimError::MissingTime(name)),
    }
}

/// Check the claims of a signature-verified ID token; returns `sub`.
pub fn check_claims(c: &Value, e: &Expected) -> Result<String, ClaimError> {
    if c.get("iss").and_then(Value::as_str) != Some(e.issuer) {
        return Err(ClaimError::Issuer);
    }
    let aud: Vec<&str> = match c.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !aud.contains(&e.client_id) {
        return Err(ClaimError::Audience);
    }
    match c.get("azp").and_then(Value::as_str) {
        Some(azp) if azp != e.client_id => return Err(ClaimError::AuthorizedParty),
        None if aud.len() > 1 => return Err(ClaimError::AuthorizedParty),
        _ => {}
    }
    let exp = time(c, "exp")?.ok_or(ClaimError::MissingTime("exp"))?;
    if e.now >= exp + LEEWAY_SECS {
        return Err(ClaimError::Expired);
    }
    let iat = time(c, "iat")?.ok_or(ClaimError::MissingTime("iat"))?;
    if iat > e.now + LEEWAY_SECS {
        return Err(ClaimError::IssuedInFuture);
    }
    if let Some(nbf) = time(c, "nbf")?
        && nbf > e.now + LEEWAY_SECS
    {
        return Err(ClaimError::NotYetValid);
    }
    let nonce = c.get("nonce").and_then(Value::as_str).unwrap_or("");
    if nonce.is_empty() || !bool::from(nonce.as_bytes().ct_eq(e.nonce.as_bytes())) {
        return Err(ClaimError::Nonce);
    }
    match c.get("sub").and_then(Value::as_str) {
        Some(s) if !s.is_empty() && s.len() <= 255 => Ok(s.to_string()),
        _ => Err(ClaimError::Subject),
    }
}

/// Verify an ID token end to end; returns its claims.
pub async fn verify(
    oidc: &Oidc,
    provider: &Provider,
    token: &str,
    nonce: &str,
) -> Result<Value, Failure> {
    oidc.keys.refresh(&oidc.http, provider, false).await;
    let mut result = verify_signature(token, &oidc.keys.keys().await);
    if matches!(result, Err(SigError::UnknownKey(_))) {
        // Key rotation: the provider may have published a new key.
        oidc.keys.refresh(&oidc.http, provider, true).await;
        result = verify_signature(token, &oidc.keys.keys().await);
    }
    let claims = result.map_err(|e| {
        tracing::warn!(error = ?e, "oidc: ID token signature check failed");
        match e {
            SigError::UnknownKey(kid) => Failure::new(
                Reason::UnknownKey,
                format!(
                    "the ID token names signing key `{}`, which the provider does not publish",
                    super::client::clip(kid.as_deref().unwrap_or("(none)"), 80)
                ),
            ),
            SigError::Algorithm(a) => Failure::new(
                Reason::BadToken,
                format!("the ID token is signed with {a}, which Asgard does not accept (use RS256 or ES256)"),
            ),
            SigError::Malformed => Failure::new(Reason::BadToken, "the ID token is not a well-formed JWT"),
            SigError::BadSignature => Failure::new(Reason::BadToken, "the ID token's signature is not valid"),
        }
    })?;
    let expected = Expected {
        issuer: &provider.issuer,
        client_id: &oidc.config.client_id,
        nonce,
        // The provider stamped the token with the real time.
        now: chrono::Utc::now().timestamp(),
    };
    check_claims(&claims, &expected).map_err(|e| {
        tracing::warn!(error = ?e, "oidc: ID token claims rejected");
        e.failure()
    })?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    // Throwaway Ed25519 test keys (PKCS#8 DER, and the public `x`).
    const KEY_A: &str = "302e020100300506032b6570042204203ab599a2ae6c6fdb1dabb5f3e8c454564911041c800b574ef3c45a8e99d3aef7";
    const PUB_A: &str = "kXP5KQ_lGht90yRUtllTeYpoY8l7-mJqkpdL_SIlK6o";
    const KEY_B: &str = "302e020100300506032b6570042204207b90f57219b4905fa6e595abe453a267437ab25acaf64c558d4249799d8d2fc3";

    fn jwk(kid: &str, x: &str) -> Jwk {
        serde_json::from_value(
            json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": x, "use": "sig"}),
        )
        .unwrap()
    }

    fn sign(der_hex: &str, kid: Option<&str>, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::EdDSA);
        h.kid = kid.map(str::to_string);
        encode(
            &h,
            claims,
            &EncodingKey::from_ed_der(&hex::decode(der_hex).unwrap()),
        )
        .unwrap()
    }

    fn claims(now: i64) -> Value {
        json!({"iss": "https://idp", "aud": "asgard", "sub": "u1", "nonce": "n1", "iat": now, "exp": now + 300})
    }

    fn expected(now: i64) -> Expected<'static> {
        Expected {
            issuer: "https://idp",
            client_id: "asgard",
            nonce: "n1",
            now,
        }
    }

    #[test]
    fn signature_and_key_selection() {
        let keys = vec![jwk("a", PUB_A)];
        let c = claims(1000);
        assert_eq!(
            verify_signature(&sign(KEY_A, Some("a"), &c), &keys).unwrap(),
            c
        );
        assert_eq!(verify_signature(&sign(KEY_A, None, &c), &keys).unwrap(), c);
        // signed by a key the JWKS does not publish
        assert_eq!(
            verify_signature(&sign(KEY_B, Some("b"), &c), &keys),
            Err(SigError::UnknownKey(Some("b".into())))
        );
        // another key claiming a known kid
        assert_eq!(
            verify_signature(&sign(KEY_B, Some("a"), &c), &keys),
            Err(SigError::BadSignature)
        );
        // tampered payload
        let t = sign(KEY_A, Some("a"), &c);
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"sub":"admin"}"#,
        );
        parts[1] = &forged;
        assert_eq!(
            verify_signature(&parts.join("."), &keys),
            Err(SigError::BadSignature)
        );
        assert_eq!(
            verify_signature("not-a-jwt", &keys),
            Err(SigError::Malformed)
        );
    }

    #[test]
    fn hmac_and_none_are_refused() {
        let t = encode(
            &Header::new(Algorithm::HS256),
            &claims(1),
            &EncodingKey::from_secret(b"client-secret"),
        )
        .unwrap();
        assert!(matches!(
            verify_signature(&t, &[jwk("a", PUB_A)]),
            Err(SigError::Algorithm(_))
        ));
        let none = format!("{}.{}.", "eyJhbGciOiJub25lIn0", "e30");
        assert!(verify_signature(&none, &[jwk("a", PUB_A)]).is_err());
    }

    #[test]
    fn claim_checks() {
        let now = 10_000;
        assert_eq!(check_claims(&claims(now), &expected(now)).unwrap(), "u1");
        let with = |k: &str, v: Value| {
            let mut c = claims(now);
            c[k] = v;
            check_claims(&c, &expected(now))
        };
        assert_eq!(with("iss", json!("https://evil")), Err(ClaimError::Issuer));
        assert_eq!(with("aud", json!("other")), Err(ClaimError::Audience));
        assert_eq!(
            with("aud", json!(["asgard", "other"])),
            Err(ClaimError::AuthorizedParty)
        );
        assert_eq!(
            with("azp", json!("other")),
            Err(ClaimError::AuthorizedParty)
        );
        assert_eq!(with("exp", json!(now - 61)), Err(ClaimError::Expired));
        assert!(with("exp", json!(now - 30)).is_ok(), "within leeway");
        assert_eq!(
            with("exp", json!("soon")),
            Err(ClaimError::MissingTime("exp"))
        );
        assert_eq!(
            with("iat", json!(now + 3600)),
            Err(ClaimError::IssuedInFuture)
        );
        assert_eq!(
            with("iat", Value::Null),
            Err(ClaimError::MissingTime("iat"))
        );
        assert_eq!(with("nbf", json!(now + 3600)), Err(ClaimError::NotYetValid));
        assert_eq!(with("nonce", json!("other")), Err(ClaimError::Nonce));
        assert_eq!(with("nonce", Value::Null), Err(ClaimError::Nonce));
        assert_eq!(with("sub", json!("")), Err(ClaimError::Subject));
        let mut multi = claims(now);
        multi["aud"] = json!(["asgard", "api"]);
        multi["azp"] = json!("asgard");
        assert!(check_claims(&multi, &expected(now)).is_ok());
        assert_eq!(ClaimError::Expired.failure().reason, Reason::ExpiredToken);
        assert_eq!(ClaimError::Nonce.failure().reason, Reason::NonceMismatch);
    }
}
