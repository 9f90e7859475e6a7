//! The pending half of a sign-in. `begin` makes `state`, `nonce` and a PKCE
//! verifier, stores them server-side (state only as a hash, the verifier
//! sealed) for 10 minutes, and builds the authorization URL. `take` removes
//! the row in the same statement that reads it, so a state works once.
//! Each pending login is also bound to the browser that started it (a
//! random cookie whose hash is stored), which stops login CSRF: a victim
//! cannot be made to finish an attacker's sign-in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;
use zeroize::Zeroizing;

use super::{Failure, Oidc, PENDING_TTL, Provider, Reason};
use crate::error::Result;
use crate::store::Store;

/// Cookie binding a pending sign-in to its browser.
pub const BROWSER_COOKIE: &str = "asgard_oidc";
/// Bound on pending sign-ins kept at once (the routes are unauthenticated).
const MAX_PENDING: i64 = 20_000;

/// 32 random bytes, base64url.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// Whether a cookie value looks like one we issued.
pub fn well_formed_token(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn hash(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// PKCE S256: base64url(SHA-256(verifier)).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A `return_to` is a path on this site: it starts with one `/`, and has no
/// backslash, whitespace, control or non-ASCII characters (browsers drop tabs
/// and newlines and treat `\` as `/`, which would turn `/\evil` or
/// `/<TAB>/evil` into `//evil`, another host).
pub fn valid_return_to(s: &str) -> bool {
    s.starts_with('/')
        && !s.starts_with("//")
        && s.len() <= 2048
        && s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'\\')
}

pub fn authorization_url(
    provider: &Provider,
    oidc: &Oidc,
    state: &str,
    nonce: &str,
    challenge: &str,
) -> Url {
    let mut u = provider.authorization_endpoint.clone();
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &oidc.config.client_id)
        .append_pair("redirect_uri", &oidc.config.redirect_uri)
        .append_pair("scope", &oidc.config.scopes.join(" "))
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    u
}

fn aad(state_hash: &str) -> Vec<u8> {
    format!("oidc-login|{state_hash}").into_bytes()
}

/// Store a new pending sign-in for `browser`; returns the IdP URL to send
/// the browser to.
pub async fn begin(
    oidc: &Oidc,
    store: &Store,
    provider: &Provider,
    browser: &str,
    return_to: &str,
) -> Result<Url, Failure> {
    let now = store.clock().now();
    on_pool!(store.write(), |p| {
        sqlx::query("DELETE FROM oidc_logins WHERE expires_at <= $1")
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })
    .map_err(crate::error::Error::from)?;
    let pending: i64 = on_pool!(store.read(), |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM oidc_logins"
    )
    .fetch_one(p)
    .await)
    .map_err(crate::error::Error::from)?;
    if pending >= MAX_PENDING {
        tracing::warn!(
            pending,
            "oidc: too many pending sign-ins; refusing new ones"
        );
        return Err(Failure::new(
            Reason::Busy,
            "too many sign-ins are in progress on this server",
        ));
    }
    let state = random_token();
    let nonce = random_token();
    let verifier = Zeroizing::new(random_token());
    let state_hash = hash(&state);
    let sealed = oidc.cipher.seal(verifier.as_bytes(), &aad(&state_hash));
    let expires_at = now + chrono::Duration::from_std(PENDING_TTL).unwrap_or_default();
    on_pool!(store.write(), |p| {
        sqlx::query(
            "INSERT INTO oidc_logins (state_hash, browser_hash, nonce, verifier, return_to, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&state_hash)
        .bind(hash(browser))
        .bind(&nonce)
        .bind(&sealed)
        .bind(return_to)
        .bind(now)
        .bind(expires_at)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })
    .map_err(crate::error::Error::from)?;
    Ok(authorization_url(
        provider,
        oidc,
        &state,
        &nonce,
        &challenge(&verifier),
    ))
}

#[derive(sqlx::FromRow)]
struct Row {
    browser_hash: String,
    nonce: String,
    verifier: Vec<u8>,
    return_to: String,
    expires_at: DateTime<Utc>,
}

/// A pending sign-in, taken out of the store.
pub struct Pending {
    pub browser_hash: String,
    pub nonce: String,
    pub verifier: Zeroizing<String>,
    pub return_to: String,
    pub expires_at: DateTime<Utc>,
}

/// Remove and return the pending sign-in for `state` (single use).
pub async fn take(oidc: &Oidc, store: &Store, state: &str) -> Result<Option<Pending>> {
    let state_hash = hash(state);
    let row: Option<Row> = on_pool!(store.write(), |p| sqlx::query_as(
        "DELETE FROM oidc_logins WHERE state_hash = $1
         RETURNING browser_hash, nonce, verifier, return_to, expires_at"
    )
    .bind(&state_hash)
    .fetch_optional(p)
    .await)?;
    let Some(r) = row else { return Ok(None) };
    let Ok(plain) = oidc.cipher.open(&r.verifier, &aad(&state_hash)) else {
        tracing::warn!(
            "oidc: a pending sign-in's verifier could not be opened; treating it as unknown"
        );
        return Ok(None);
    };
    let verifier = Zeroizing::new(String::from_utf8_lossy(&plain).into_owned());
    Ok(Some(Pending {
        browser_hash: r.browser_hash,
        nonce: r.nonce,
        verifier,
        return_to: r.return_to,
        expires_at: r.expires_at,
    }))
}

/// A taken sign-in is still usable by this browser at `now`.
pub fn check(p: &Pending, browser: Option<&str>, now: DateTime<Utc>) -> Result<(), Failure> {
    if now >= p.expires_at {
        return Err(Failure::new(
            Reason::ExpiredState,
            "sign-in links are valid for 10 minutes",
        ));
    }
    let same = browser
        .map(|b| bool::from(hash(b).as_bytes().ct_eq(p.browser_hash.as_bytes())))
        .unwrap_or(false);
    if !same {
        return Err(Failure::new(
            Reason::OtherBrowser,
            "the sign-in must finish in the browser that started it (with cookies enabled)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_rules() {
        for ok in [
            "/",
            "/projects/p-1?tab=keys#x",
            "/a/b%2F%2Fc",
            "/api/auth/me",
        ] {
            assert!(valid_return_to(ok), "{ok}");
        }
        for bad in [
            "",
            "projects",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            " /x",
            "/caf\u{e9}",
            "/a b",
        ] {
            assert!(!valid_return_to(bad), "{bad:?}");
        }
        assert!(!valid_return_to(&format!("/{}", "a".repeat(3000))));
    }

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let t = random_token();
        assert!(well_formed_token(&t) && t != random_token());
        assert!(!well_formed_token("short") && !well_formed_token(&"a;".repeat(22)[..43]));
    }

    fn pending(expires_at: DateTime<Utc>, browser: &str) -> Pending {
        Pending {
            browser_hash: hash(browser),
            nonce: "n".into(),
            verifier: Zeroizing::new("v".into()),
            return_to: "/".into(),
            expires_at,
        }
    }

    #[test]
    fn expiry_and_browser_binding() {
        let now = Utc::now();
        let p = pending(now + chrono::Duration::minutes(5), "b1");
        assert!(check(&p, Some("b1"), now).is_ok());
        assert_eq!(
            check(&p, Some("b2"), now).unwrap_err().reason,
            Reason::OtherBrowser
        );
        assert_eq!(
            check(&p, None, now).unwrap_err().reason,
            Reason::OtherBrowser
        );
        let old = pending(now - chrono::Duration::seconds(1), "b1");
        assert_eq!(
            check(&old, Some("b1"), now).unwrap_err().reason,
            Reason::ExpiredState
        );
    }
}
