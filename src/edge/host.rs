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
    // `Authority` is lenient (it takes `[::1]x` for `[::1]`): the text must
    // be exactly host, then optionally `:` and a port of digits.
    let port = a.port();
    let rebuilt_len = a.host().len() + port.as_ref().map_or(0, |p| p.as_str().len() + 1);
    if rebuilt_len != authority.len() || !authority.starts_with(a.host()) {
        return None;
    }
    if port.is_some_and(|p| !p.as_str().bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    // The host itself through the URL standard's host parser: a domain is
    // lower-cased, IPv4 and IPv6 addresses are written canonically.
    match url::Host::parse(a.host()).ok()? {
        url::Host::Domain(d) if !d.is_empty() => Some(d),
        url::Host::Domain(_) => None,
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(ip.to_string()),
    }
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
            ("[0:0:0:0:0:0:0:1]:1", "::1"),
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
