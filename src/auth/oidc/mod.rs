//! OIDC single sign-on: authorization code flow with PKCE S256,
//! `state` and `nonce` kept server-side (single use, 10 minutes), ID tokens
//! verified against the provider's JWKS (refetched on an unknown `kid`), and
//! users linked by `(issuer, sub)`.
//!
//! Discovery never blocks the boot: `Oidc::start` spawns a task that retries
//! with backoff; until it succeeds, sign-in answers "not ready" (503) while
//! local login keeps working.
//!
//! Layout: `discovery` (metadata + keys), `client` (HTTP calls to the IdP),
//! `flow` (pending logins, `return_to`, the authorization URL), `idtoken`
//! (signature + claim checks), `profile` (claims → profile), `linking` (who
//! the person is in Asgard), `callback` (the steps of the callback in order).
//! The HTTP door is `crate::http::oidc`.

pub mod callback;
pub mod client;
pub mod discovery;
pub mod flow;
pub mod idtoken;
pub mod linking;
pub mod profile;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::config::OidcConfig;
use crate::secrets::MasterKey;
use crate::secrets::cipher::{Cipher, Purpose};

pub use discovery::Provider;

/// Why a sign-in failed. Each maps to a status, a stable code and a message
/// the person sees; `Failure::detail` adds the specifics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    NotConfigured,
    NotReady,
    BadReturnTo,
    BadRequest,
    UnknownState,
    ExpiredState,
    OtherBrowser,
    IdpRefused,
    AccessDenied,
    CodeRejected,
    IdpUnreachable,
    BadToken,
    UnknownKey,
    ExpiredToken,
    NonceMismatch,
    AccountDisabled,
    LinkRefused,
    Busy,
    Internal,
}

impl Reason {
    pub fn status(self) -> u16 {
        match self {
            Reason::NotConfigured => 404,
            Reason::NotReady => 503,
            Reason::BadReturnTo
            | Reason::BadRequest
            | Reason::UnknownState
            | Reason::ExpiredState
            | Reason::OtherBrowser
            | Reason::IdpRefused
            | Reason::CodeRejected => 400,
            Reason::BadToken
            | Reason::UnknownKey
            | Reason::ExpiredToken
            | Reason::NonceMismatch => 401,
            Reason::AccessDenied | Reason::AccountDisabled | Reason::LinkRefused => 403,
            Reason::Busy => 429,
            Reason::IdpUnreachable => 502,
            Reason::Internal => 500,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Reason::NotConfigured => "sso_not_configured",
            Reason::NotReady => "sso_not_ready",
            Reason::BadReturnTo => "invalid_return_to",
            Reason::BadRequest => "invalid_callback",
            Reason::UnknownState => "unknown_state",
            Reason::ExpiredState => "expired_state",
            Reason::OtherBrowser => "browser_mismatch",
            Reason::IdpRefused => "idp_error",
            Reason::AccessDenied => "access_denied",
            Reason::CodeRejected => "code_rejected",
            Reason::IdpUnreachable => "idp_unreachable",
            Reason::BadToken => "invalid_id_token",
            Reason::UnknownKey => "unknown_signing_key",
            Reason::ExpiredToken => "expired_id_token",
            Reason::NonceMismatch => "nonce_mismatch",
            Reason::AccountDisabled => "account_disabled",
            Reason::LinkRefused => "account_link_refused",
            Reason::Busy => "too_many_sign_ins",
            Reason::Internal => "internal_error",
        }
    }

    /// The headline of the error page.
    pub fn title(self) -> &'static str {
        match self {
            Reason::NotConfigured => "Single sign-on is not configured",
            Reason::NotReady => "Single sign-on is not available yet",
            Reason::BadReturnTo => "That sign-in link is not allowed",
            Reason::BadRequest => "The sign-in response was incomplete",
            Reason::UnknownState => "This sign-in link is invalid or was already used",
            Reason::ExpiredState => "This sign-in took too long",
            Reason::OtherBrowser => "This sign-in was started in another browser",
            Reason::IdpRefused => "The identity provider reported an error",
            Reason::AccessDenied => "Sign-in was cancelled or denied",
            Reason::CodeRejected => "The identity provider rejected the sign-in",
            Reason::IdpUnreachable => "The identity provider could not be reached",
            Reason::BadToken => "The identity provider's answer could not be verified",
            Reason::UnknownKey => "The sign-in token was signed with an unknown key",
            Reason::ExpiredToken => "The sign-in token has expired",
            Reason::NonceMismatch => "The sign-in token does not belong to this sign-in",
            Reason::AccountDisabled => "Your Asgard account is disabled",
            Reason::LinkRefused => "Your account could not be linked",
            Reason::Busy => "Too many sign-ins in progress",
            Reason::Internal => "Something went wrong on our side",
        }
    }

    /// What the person (or an operator) should do next.
    pub fn hint(self) -> &'static str {
        match self {
            Reason::NotConfigured => "Sign in with your Asgard username and password.",
            Reason::NotReady => {
                "Asgard has not reached the identity provider yet and keeps retrying. Try again in a minute; operators: see the server log. Local sign-in still works."
            }
            Reason::BadReturnTo => {
                "Only paths on this Asgard site can follow a sign-in. Start again from the sign-in page."
            }
            Reason::UnknownState
            | Reason::ExpiredState
            | Reason::OtherBrowser
            | Reason::BadRequest
            | Reason::CodeRejected
            | Reason::NonceMismatch => "Start the sign-in again from the beginning.",
            Reason::IdpRefused | Reason::AccessDenied => {
                "Try again; if your organisation restricts access to Asgard, ask your identity administrator."
            }
            Reason::IdpUnreachable => "Try again in a moment; if it persists, tell an operator.",
            Reason::BadToken | Reason::UnknownKey | Reason::ExpiredToken => {
                "Try again. If it keeps failing, tell an operator: the identity provider's configuration or clock may be wrong."
            }
            Reason::AccountDisabled => "Ask an Asgard admin to re-enable your account.",
            Reason::LinkRefused => {
                "Ask an Asgard admin to sort out the existing account with your email address."
            }
            Reason::Busy => "Wait a few minutes and try again.",
            Reason::Internal => {
                "Try again; if it persists, tell an operator with the reference below."
            }
        }
    }
}

/// A failed sign-in step: the reason plus a sentence safe to show.
#[derive(Debug, Clone)]
pub struct Failure {
    pub reason: Reason,
    pub detail: String,
}

impl Failure {
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Failure {
            reason,
            detail: detail.into(),
        }
    }
}

impl From<crate::error::Error> for Failure {
    fn from(e: crate::error::Error) -> Self {
        tracing::error!(error = ?e, "oidc: internal error during sign-in");
        Failure::new(Reason::Internal, "a database operation failed")
    }
}

/// The SSO client: configuration, the HTTP client for IdP calls, and the
/// provider metadata and keys once discovery has succeeded.
pub struct Oidc {
    pub config: OidcConfig,
    pub(crate) http: reqwest::Client,
    pub(crate) cipher: Cipher,
    provider: RwLock<Option<Arc<Provider>>>,
    pub(crate) keys: discovery::KeyCache,
}

impl Oidc {
    /// Build the client and start discovery in the background.
    pub fn start(config: OidcConfig, master_key: &MasterKey) -> anyhow::Result<Arc<Oidc>> {
        let oidc = Arc::new(Oidc {
            http: client::build()?,
            cipher: Cipher::new(master_key, Purpose::OidcCookies),
            provider: RwLock::new(None),
            keys: discovery::KeyCache::default(),
            config,
        });
        tokio::spawn(discovery::run(oidc.clone()));
        Ok(oidc)
    }

    /// The provider, once discovery has succeeded.
    pub fn provider(&self) -> Option<Arc<Provider>> {
        self.provider.read().ok().and_then(|g| g.clone())
    }

    pub(crate) fn set_provider(&self, p: Provider) {
        if let Ok(mut g) = self.provider.write() {
            *g = Some(Arc::new(p));
        }
    }

    /// The provider or a "not ready" failure.
    pub fn ready(&self) -> Result<Arc<Provider>, Failure> {
        self.provider().ok_or_else(|| {
            Failure::new(
                Reason::NotReady,
                "the identity provider's discovery document has not been loaded yet",
            )
        })
    }
}

/// Lifetime of a pending sign-in (state, nonce, verifier).
pub const PENDING_TTL: Duration = Duration::from_secs(600);

/// Clock skew tolerated on `exp`, `iat` and `nbf`.
pub const LEEWAY_SECS: i64 = 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_is_4xx_or_named_5xx() {
        for r in [
            Reason::BadReturnTo,
            Reason::UnknownState,
            Reason::ExpiredState,
            Reason::AccessDenied,
            Reason::BadToken,
            Reason::UnknownKey,
            Reason::ExpiredToken,
            Reason::NonceMismatch,
            Reason::LinkRefused,
            Reason::AccountDisabled,
        ] {
            assert!((400..500).contains(&r.status()), "{r:?}");
            assert!(!r.code().is_empty() && !r.title().is_empty() && !r.hint().is_empty());
        }
        assert_eq!(Reason::NotReady.status(), 503);
    }
}
