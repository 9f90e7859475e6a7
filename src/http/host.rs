//! The host named by a `Host` header (or the authority of an `Origin`),
//! parsed with `http`'s URI authority parser rather than split by hand: a
//! hand split takes `localhost:1@evil.com` or `[::1]x` for loopback.

use std::net::IpAddr;

use axum::http::uri::Authority;

/// The lower-cased host of an authority (`host[:port]`), IPv6 without its
/// brackets; `None` when it is not a well-formed authority, has user info
/// (`user@host` never belongs in `Host`) or a port that is not a number.
pub fn host_of_authority(authority: &str) -> Option<String> {
    if authority.contains('@') {
        return None;
    }
    let a: Authority = authority.parse().ok()?;
    // `Authority` accepts any text after the last `:` of a host; a port is digits.
    if let Some(p) = a.port()
        && !p.as_str().bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let host = a.host();
    let bare = match host.strip_prefix('[') {
        Some(rest) => {
            let inner = rest.strip_suffix(']')?;
            // Inside brackets only an IPv6 address is meaningful here.
            inner.parse::<std::net::Ipv6Addr>().ok()?;
            inner
        }
        None => host,
    };
    (!bare.is_empty()).then(|| bare.to_ascii_lowercase())
}

/// Whether a `Host` value names this machine (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback(host: &str) -> bool {
    // A bare IPv6 address ("::1") is not an authority; accept it whole.
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    host_of_authority(host)
        .is_some_and(|h| h == "localhost" || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities() {
        for (a, h) in [
            ("localhost", "localhost"),
            ("LocalHost:8080", "localhost"),
            ("127.0.0.1:1", "127.0.0.1"),
            ("[::1]:80", "::1"),
            ("[::1]", "::1"),
            ("asgard.example.com", "asgard.example.com"),
        ] {
            assert_eq!(host_of_authority(a).as_deref(), Some(h), "{a}");
        }
        for bad in [
            "",
            "localhost:1@evil.com",
            "user@localhost",
            "[::1]x",
            "[::1]:x",
            "localhost:abc",
            "[evil.com]",
            "local host",
            "localhost/evil",
            "[::1",
        ] {
            assert_eq!(host_of_authority(bad), None, "{bad}");
        }
    }

    #[test]
    fn loopback() {
        for h in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "[::1]:80",
            "::1",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "example.com",
            "evil.localhost.example:80",
            "localhost.evil.com",
            "10.0.0.1:8080",
            "localhost:1@evil.com",
            "[::1]x",
            "127.0.0.1.evil.com",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
