//! Finishing a sign-in at the callback: take the pending login (single use),
//! check it belongs to this browser and is fresh, handle an IdP `error=`,
//! exchange the code with the PKCE verifier, verify the ID token, read the
//! profile (userinfo when the token lacks it) and link the account. The HTTP
//! layer turns the result into a session or an error page.

use std::collections::HashMap;
use std::net::IpAddr;

use serde_json::{Value, json};

use super::{Failure, Oidc, Reason, client, flow, idtoken, linking, profile};
use crate::audit::{self, Event};
use crate::auth::users::UserRow;
use crate::store::Store;

/// A finished sign-in.
pub struct Done {
    pub user: UserRow,
    pub return_to: String,
}

/// Finish the sign-in described by the callback's query `params`.
pub async fn complete(
    oidc: &Oidc,
    store: &Store,
    params: &HashMap<String, String>,
    browser: Option<&str>,
    ip: IpAddr,
) -> Result<Done, Failure> {
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let provider = oidc.ready()?;
    let Some(state) = get("state") else {
        return Err(match get("error") {
            Some(e) => idp_error(e, get("error_description")),
            None => Failure::new(Reason::BadRequest, "the callback has no `state` parameter"),
        });
    };
    let Some(pending) = flow::take(oidc, store, state).await? else {
        tracing::info!(%ip, "oidc: callback with an unknown, used or expired state");
        return Err(Failure::new(
            Reason::UnknownState,
            "the `state` of this callback does not match a sign-in in progress (each sign-in link works once)",
        ));
    };
    let result = async {
        flow::check(&pending, browser, store.clock().now())?;
        if let Some(e) = get("error") {
            return Err(idp_error(e, get("error_description")));
        }
        // RFC 9207: a response that names its issuer must name ours.
        if let Some(iss) = get("iss")
            && iss != provider.issuer
        {
            return Err(Failure::new(
                Reason::BadRequest,
                "the response names another identity provider (`iss`)",
            ));
        }
        let Some(code) = get("code") else {
            return Err(Failure::new(
                Reason::BadRequest,
                "the callback has no authorization `code`",
            ));
        };
        let tokens =
            client::exchange_code(&oidc.http, &provider, &oidc.config, code, &pending.verifier)
                .await?;
        let Some(id_token) = tokens.id_token.as_deref() else {
            return Err(Failure::new(
                Reason::BadToken,
                "the token endpoint returned no ID token (is the `openid` scope allowed?)",
            ));
        };
        let claims = idtoken::verify(oidc, &provider, id_token, &pending.nonce).await?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let groups_claim = &oidc.config.groups_claim;
        let want_groups = !oidc.config.admin_groups.is_empty();
        let userinfo = match (&provider.userinfo_endpoint, tokens.access_token.as_deref()) {
            (Some(ep), Some(at)) if profile::needs_userinfo(&claims, want_groups, groups_claim) => {
                let ui = client::userinfo(&oidc.http, ep, at).await?;
                if ui.get("sub").and_then(Value::as_str) != Some(sub.as_str()) {
                    return Err(Failure::new(
                        Reason::BadToken,
                        "the userinfo answer is about another subject (`sub`)",
                    ));
                }
                Some(ui)
            }
            _ => None,
        };
        let prof = profile::build(&sub, &claims, userinfo.as_ref(), groups_claim);
        if prof.unverified_email {
            tracing::info!(
                "oidc: the provider sent an unverified email; it is not used for linking or stored"
            );
        }
        let user =
            linking::sign_in(store, &provider.issuer, &prof, &oidc.config.admin_groups).await?;
        Ok(Done {
            user,
            return_to: pending.return_to.clone(),
        })
    }
    .await;
    if let Err(f) = &result {
        tracing::info!(%ip, code = f.reason.code(), detail = %audit::escape_untrusted(&f.detail), "oidc: sign-in failed");
        let who = format!("anonymous:{ip}");
        let _ = audit::record_now(
            store,
            Event::system(&who, "auth.login_failed")
                .outcome("denied")
                .data(json!({"method": "oidc", "reason": f.reason.code()})),
        )
        .await;
    }
    result
}

fn idp_error(error: &str, description: Option<&str>) -> Failure {
    let reason = if error == "access_denied" {
        Reason::AccessDenied
    } else {
        Reason::IdpRefused
    };
    Failure::new(
        reason,
        format!(
            "the identity provider answered `{}`{}",
            client::clip(error, 64),
            description
                .map(|d| format!(": {}", client::clip(d, 200)))
                .unwrap_or_default()
        ),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn idp_errors_are_classified() {
        assert_eq!(
            super::idp_error("access_denied", None).reason,
            super::Reason::AccessDenied
        );
        let f = super::idp_error("server_error", Some("bad\nthing"));
        assert_eq!(f.reason, super::Reason::IdpRefused);
        assert!(f.detail.contains("server_error") && f.detail.contains("badthing"));
    }
}
