//! OIDC single sign-on settings: all of issuer, client id, client
//! secret and redirect URI, or none. A partial configuration refuses the boot
//! rather than silently leaving SSO off.

use super::{ConfigError, Secret, env_err};

#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub admin_groups: Vec<String>,
    pub groups_claim: String,
}

pub(super) fn load_oidc(
    get: &dyn Fn(&str) -> Option<String>,
    public_url: Option<&str>,
) -> Result<Option<OidcConfig>, ConfigError> {
    let domain = get("ASGARD_OIDC_DOMAIN");
    let issuer = get("ASGARD_OIDC_ISSUER");
    let client_id = get("ASGARD_OIDC_CLIENT_ID");
    let client_secret = get("ASGARD_OIDC_CLIENT_SECRET");
    let redirect = get("ASGARD_OIDC_REDIRECT_URI");
    let any =
        domain.is_some() || issuer.is_some() || client_id.is_some() || client_secret.is_some();
    if !any {
        return Ok(None);
    }
    let issuer = match (issuer, domain) {
        (Some(i), _) => {
            if !(i.starts_with("https://") || i.starts_with("http://")) {
                return Err(env_err("ASGARD_OIDC_ISSUER", "must be an http(s) URL"));
            }
            i
        }
        (None, Some(d)) => {
            if d.contains("://") || d.contains('/') {
                return Err(env_err(
                    "ASGARD_OIDC_DOMAIN",
                    "must be a bare host like tenant.eu.auth0.com (use ASGARD_OIDC_ISSUER for a full URL)",
                ));
            }
            format!("https://{d}/")
        }
        (None, None) => {
            return Err(env_err(
                "ASGARD_OIDC_DOMAIN",
                "OIDC is partially configured: set ASGARD_OIDC_DOMAIN or ASGARD_OIDC_ISSUER",
            ));
        }
    };
    let client_id = client_id.ok_or_else(|| {
        env_err(
            "ASGARD_OIDC_CLIENT_ID",
            "OIDC is partially configured: client id missing",
        )
    })?;
    let client_secret = client_secret.ok_or_else(|| {
        env_err(
            "ASGARD_OIDC_CLIENT_SECRET",
            "OIDC is partially configured: client secret missing",
        )
    })?;
    let redirect_uri = match redirect {
        Some(r) => r,
        None => match public_url {
            Some(p) => format!("{p}/api/auth/oidc/callback"),
            None => {
                return Err(env_err(
                    "ASGARD_OIDC_REDIRECT_URI",
                    "OIDC is partially configured: set the redirect URI (or ASGARD_PUBLIC_URL)",
                ));
            }
        },
    };
    let scopes = get("ASGARD_OIDC_SCOPES")
        .unwrap_or_else(|| "openid email profile".into())
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect::<Vec<_>>();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(env_err("ASGARD_OIDC_SCOPES", "must include `openid`"));
    }
    let admin_groups = get("ASGARD_OIDC_ADMIN_GROUPS")
        .map(|s| {
            s.split(',')
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(OidcConfig {
        issuer,
        client_id,
        client_secret: Secret::new(client_secret),
        redirect_uri,
        scopes,
        admin_groups,
        groups_claim: get("ASGARD_OIDC_GROUPS_CLAIM").unwrap_or_else(|| "groups".into()),
    }))
}
