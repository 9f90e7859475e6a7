//! `/api/auth/oidc/*`: `login` sends the browser to the identity
//! provider, `callback` finishes the sign-in. Both are public and answer
//! browsers, so every failure is an HTML page with a fitting status (4xx for
//! anything about the request or the provider's answer; 503 while discovery
//! has not succeeded; 502 when the provider cannot be reached) and never
//! sets a session cookie.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::extract::{ClientIp, came_over_tls};
use super::middleware::RequestId;
use super::{Api, AppState};
use crate::audit::{self, Event};
use crate::auth::oidc::{Failure, Reason, callback, flow};
use crate::auth::sessions;

pub fn routes(api: Api) -> Api {
    api.get("/api/auth/oidc/login", login)
        .doc("Start single sign-on: redirects the browser to the identity provider")
        .public()
        .query(&["return_to"])
        .status(302)
        .get("/api/auth/oidc/callback", callback)
        .doc(
            "The identity provider's redirect back; creates the session and redirects to return_to",
        )
        .public()
        .query(&["code", "state", "error", "error_description"])
        .status(302)
}

/// Query parameters; a repeated or undecodable parameter is refused.
fn parse_query(q: Option<&str>) -> Result<HashMap<String, String>, Failure> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
        if out.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(Failure::new(
                Reason::BadRequest,
                "a query parameter is repeated",
            ));
        }
    }
    Ok(out)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .find_map(|part| {
            let (k, v) = part.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A sentence for the page: escaped, first letter upper-cased, and
/// `backticked` parts shown as code.
fn sentence(s: &str) -> String {
    let s = s.trim().trim_end_matches('.');
    let mut chars = s.chars();
    let s = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    let parts: Vec<String> = s.split('`').map(escape).collect();
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i % 2 == 1 && i + 1 < parts.len() {
            out.push_str(&format!("<code>{p}</code>"));
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(p);
        }
    }
    out.push('.');
    out
}

/// The error page. `data-code` carries the stable code for tests and
/// support; the reference is the request id in the server log.
pub fn error_page(system_name: &str, f: &Failure, request_id: Option<&str>) -> Response {
    let r = f.reason;
    let name = escape(system_name);
    let reference = request_id
        .map(|id| format!(" · Reference: <code>{}</code>", escape(id)))
        .unwrap_or_default();
    let retry = match r {
        Reason::NotConfigured | Reason::AccountDisabled | Reason::LinkRefused => String::new(),
        _ => "<a href=\"/api/auth/oidc/login\">Try single sign-on again</a> · ".into(),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Sign-in failed · {name}</title></head><body>\
<main id=\"sso-error\" data-code=\"{code}\"><h1>{title}</h1><p>{detail}</p><p>{hint}</p>\
<p>{retry}<a href=\"/\">Back to {name}</a></p>\
<p><small>Error code: <code>{code}</code>{reference}</small></p></main></body></html>",
        code = r.code(),
        title = escape(r.title()),
        detail = sentence(&f.detail),
        hint = escape(r.hint()),
    );
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if r == Reason::NotReady {
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
    }
    resp
}

fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn secure(app: &AppState, headers: &HeaderMap, peer: std::net::IpAddr) -> bool {
    app.config.force_https || came_over_tls(headers, Some(peer), &app.config.trusted_proxies)
}

async fn login(
    State(app): State<AppState>,
    ClientIp { peer, .. }: ClientIp,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    rid: Option<Extension<RequestId>>,
) -> Response {
    let rid = rid.map(|Extension(r)| r.0);
    let fail = |f: Failure| error_page(&app.config.system_name, &f, rid.as_deref());
    let Some(oidc) = app.oidc.as_ref() else {
        return fail(Failure::new(
            Reason::NotConfigured,
            "this Asgard has no identity provider configured",
        ));
    };
    let params = match parse_query(q.as_deref()) {
        Ok(p) => p,
        Err(f) => return fail(f),
    };
    let return_to = params.get("return_to").map(String::as_str).unwrap_or("/");
    if !flow::valid_return_to(return_to) {
        return fail(Failure::new(
            Reason::BadReturnTo,
            "`return_to` must be a path on this site (like /projects), not another site",
        ));
    }
    let provider = match oidc.ready() {
        Ok(p) => p,
        Err(f) => return fail(f),
    };
    let browser = cookie(&headers, flow::BROWSER_COOKIE)
        .filter(|v| flow::well_formed_token(v))
        .map(str::to_string)
        .unwrap_or_else(flow::random_token);
    match flow::begin(oidc, &app.store, &provider, &browser, return_to).await {
        Ok(url) => {
            let c = format!(
                "{}={browser}; HttpOnly; SameSite=Lax; Path=/api/auth/oidc/; Max-Age={}{}",
                flow::BROWSER_COOKIE,
                crate::auth::oidc::PENDING_TTL.as_secs(),
                if secure(&app, &headers, peer) {
                    "; Secure"
                } else {
                    ""
                }
            );
            redirect(url.as_str(), &[c])
        }
        Err(f) => fail(f),
    }
}

async fn callback(
    State(app): State<AppState>,
    ClientIp { ip, peer }: ClientIp,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    rid: Option<Extension<RequestId>>,
) -> Response {
    let rid = rid.map(|Extension(r)| r.0);
    let fail = |f: Failure| error_page(&app.config.system_name, &f, rid.as_deref());
    let Some(oidc) = app.oidc.as_ref() else {
        return fail(Failure::new(
            Reason::NotConfigured,
            "this Asgard has no identity provider configured",
        ));
    };
    let params = match parse_query(q.as_deref()) {
        Ok(p) => p,
        Err(f) => return fail(f),
    };
    let browser = cookie(&headers, flow::BROWSER_COOKIE);
    let done = match callback::complete(oidc, &app.store, &params, browser, ip).await {
        Ok(d) => d,
        Err(f) => return fail(f),
    };
    let session = match sessions::create(&app.store, &done.user.id).await {
        Ok(s) => s,
        Err(e) => return fail(e.into()),
    };
    let actor = format!(
        "user:{}",
        done.user.email.as_deref().unwrap_or(&done.user.username)
    );
    let logged = audit::record_now(
        &app.store,
        Event::system(&actor, "auth.login")
            .target(&done.user.id)
            .data(json!({"method": "oidc"})),
    )
    .await;
    if let Err(e) = logged {
        // No audit entry, no session: end the one just made.
        let _ = sessions::end(&app.store, &session.token).await;
        return fail(e.into());
    }
    tracing::info!(user_id = %done.user.id, "oidc: signed in");
    let c = super::auth::session_cookie(
        &session.token,
        sessions::IDLE.num_seconds(),
        secure(&app, &headers, peer),
    );
    redirect(&done.return_to, &[c])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_escapes_and_uses_the_reason_status() {
        let f = Failure::new(Reason::IdpRefused, "the provider said <script>");
        let r = error_page("A<b>", &f, Some("rid\"1"));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.headers().get(header::SET_COOKIE).is_none());
        let r = error_page("x", &Failure::new(Reason::NotReady, "later"), None);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "10");
        assert!(escape("<a href=\"x\">'").find(['<', '"', '\'']).is_none());
    }

    #[test]
    fn sentences() {
        assert_eq!(
            sentence("the IdP said `x<y`."),
            "The IdP said <code>x&lt;y</code>."
        );
        assert_eq!(sentence("odd ` tick"), "Odd ` tick.");
        assert_eq!(sentence(""), ".");
    }

    #[test]
    fn query_parsing() {
        let p = parse_query(Some("code=a%20b&state=s")).unwrap();
        assert_eq!(p["code"], "a b");
        assert!(parse_query(Some("state=a&state=b")).is_err());
        assert!(parse_query(None).unwrap().is_empty());
    }

    #[test]
    fn cookie_lookup() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; asgard_oidc=xyz"),
        );
        assert_eq!(cookie(&h, "asgard_oidc"), Some("xyz"));
        assert_eq!(cookie(&h, "asgard"), None);
    }
}
