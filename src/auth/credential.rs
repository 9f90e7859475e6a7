//! The one place a presented credential is read out of request headers.
//! `/api` (the auth middleware, `/metrics`, logout) and `/mcp` all call this,
//! so the door that authenticates a token and the code that later acts on it
//! (logout ending "the current session") can never disagree about which
//! token the caller sent.
//!
//! `Authorization` follows RFC 7235: the scheme is case-insensitive and is
//! separated from the token by one or more spaces (tabs tolerated). A
//! present `Authorization` header wins over the cookie, also when it is not
//! a usable Bearer: the caller meant to send that credential, not the cookie.

use http::{HeaderMap, header};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "asgard_session";

/// Where a token came from: cookie-borne tokens get the same-origin rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Bearer,
    Cookie,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential<'a> {
    pub token: &'a str,
    pub source: Source,
}

/// What the `Authorization` header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorization<'a> {
    Absent,
    Bearer(&'a str),
    /// Present, but not `Bearer <token>` (another scheme, no token, not ASCII).
    Unusable,
}

impl<'a> Credential<'a> {
    /// The Bearer token, else the session cookie; `None` when neither is
    /// usable.
    pub fn from_headers(headers: &'a HeaderMap) -> Option<Credential<'a>> {
        match authorization(headers) {
            Authorization::Bearer(token) => Some(Credential {
                token,
                source: Source::Bearer,
            }),
            Authorization::Unusable => None,
            Authorization::Absent => session_cookie(headers).map(|token| Credential {
                token,
                source: Source::Cookie,
            }),
        }
    }

    pub fn via_cookie(&self) -> bool {
        self.source == Source::Cookie
    }
}

/// The `Authorization` header alone (for `/mcp`, which never reads cookies).
pub fn authorization(headers: &HeaderMap) -> Authorization<'_> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Authorization::Absent;
    };
    let Ok(v) = v.to_str() else {
        return Authorization::Unusable;
    };
    parse_bearer(v).map_or(Authorization::Unusable, Authorization::Bearer)
}

fn is_ws(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `Bearer <token>`: scheme compared without case, any run of spaces
/// between, surrounding spaces ignored. The token is one word.
fn parse_bearer(v: &str) -> Option<&str> {
    let v = v.trim_matches(is_ws);
    let (scheme, rest) = v.split_once(is_ws)?;
    let token = rest.trim_start_matches(is_ws);
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(is_ws))
        .then_some(token)
}

/// The first non-empty `asgard_session` cookie.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .filter_map(|part| {
            let (name, value) = part.split_once('=')?;
            (name.trim() == SESSION_COOKIE).then(|| value.trim())
        })
        .find(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn bearer_forms() {
        for v in [
            "Bearer tok",
            "bearer tok",
            "BEARER tok",
            "BeArEr tok",
            "Bearer  tok",
            "Bearer \t tok",
            "  Bearer tok  ",
        ] {
            let h = headers(&[("authorization", v)]);
            assert_eq!(
                Credential::from_headers(&h),
                Some(Credential {
                    token: "tok",
                    source: Source::Bearer
                }),
                "{v:?}"
            );
        }
        for v in [
            "Bearer",
            "Bearer ",
            "Basic dXNlcjpwdw==",
            "Bearertok",
            "Bearer a b",
            "tok",
        ] {
            let h = headers(&[("authorization", v), ("cookie", "asgard_session=c")]);
            assert_eq!(Credential::from_headers(&h), None, "{v:?}");
            assert_eq!(authorization(&h), Authorization::Unusable, "{v:?}");
        }
        assert_eq!(authorization(&HeaderMap::new()), Authorization::Absent);
    }

    #[test]
    fn cookie_forms() {
        for c in [
            "asgard_session=c",
            "a=1; asgard_session=c",
            "a=1;asgard_session = c ;b=2",
            "asgard_session=; asgard_session=c",
        ] {
            let h = headers(&[("cookie", c)]);
            assert_eq!(
                Credential::from_headers(&h),
                Some(Credential {
                    token: "c",
                    source: Source::Cookie
                }),
                "{c:?}"
            );
        }
        let h = headers(&[("cookie", "x_asgard_session=c; asgard_sessionx=d")]);
        assert_eq!(Credential::from_headers(&h), None);
        // Two Cookie headers: the second is read too.
        let h = headers(&[("cookie", "a=1"), ("cookie", "asgard_session=c")]);
        assert_eq!(Credential::from_headers(&h).map(|c| c.token), Some("c"));
    }
}
