//! Opaque credentials: a type prefix plus 32 CSPRNG bytes in hex. Stored
//! only as SHA-256 (they are high-entropy, so a fast hash is enough) and
//! identified later by a short display prefix. Changing a prefix here
//! invalidates every credential of that kind.

use rand::RngCore;
use sha2::{Digest, Sha256};

pub const SESSION_PREFIX: &str = "asg_sess_";
pub const PAT_PREFIX: &str = "asg_pat_";
/// Project keys are `asg_` + hex; hex never contains `_`, so a project key can
/// never be mistaken for a PAT or a session token.
pub const KEY_PREFIX: &str = "asg_";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Session,
    Pat,
    ProjectKey,
}

pub fn generate(kind: Kind) -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    let prefix = match kind {
        Kind::Session => SESSION_PREFIX,
        Kind::Pat => PAT_PREFIX,
        Kind::ProjectKey => KEY_PREFIX,
    };
    format!("{prefix}{}", hex::encode(b))
}

/// Classify a presented token by shape (not by lookup).
pub fn classify(token: &str) -> Option<Kind> {
    let body = |p: &str| {
        token
            .strip_prefix(p)
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    if body(SESSION_PREFIX).is_some() {
        Some(Kind::Session)
    } else if body(PAT_PREFIX).is_some() {
        Some(Kind::Pat)
    } else if body(KEY_PREFIX).is_some() {
        Some(Kind::ProjectKey)
    } else {
        None
    }
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What is shown later to identify a credential: its type prefix and the
/// first 8 characters of the random part.
pub fn display_prefix(token: &str) -> String {
    let cut = match classify(token) {
        Some(Kind::Session) => SESSION_PREFIX.len(),
        Some(Kind::Pat) => PAT_PREFIX.len(),
        _ => KEY_PREFIX.len(),
    };
    token.chars().take(cut + 8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_never_collide() {
        for k in [Kind::Session, Kind::Pat, Kind::ProjectKey] {
            let t = generate(k);
            assert_eq!(classify(&t), Some(k), "{t}");
            assert_eq!(hash(&t).len(), 64);
            assert!(display_prefix(&t).len() < t.len() / 2);
        }
        assert_eq!(classify("asg_xyz"), None);
        assert_eq!(classify(""), None);
        assert_eq!(classify(&format!("asg_pat_{}", "g".repeat(64))), None);
    }
}
