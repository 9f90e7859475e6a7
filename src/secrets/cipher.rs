//! AEAD sealing. AES-256-GCM under a subkey derived per purpose
//! with HKDF-SHA256 from the master key, a fresh random 96-bit nonce per
//! seal, and caller-supplied associated data that binds a ciphertext to its
//! row (e.g. `secret|proj-2026-0001|db|3`), so rows cannot be swapped.
//!
//! Byte layout of a sealed value (stable; changing it breaks stored data):
//! `[0x01 version][12-byte nonce][ciphertext || 16-byte tag]`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::MasterKey;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// What a subkey is for. Each gets an independent key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Secrets,
    TfState,
    RunLogs,
    OidcCookies,
}

impl Purpose {
    fn info(self) -> &'static [u8] {
        match self {
            Purpose::Secrets => b"asgard/v1/secrets",
            Purpose::TfState => b"asgard/v1/tf-state",
            Purpose::RunLogs => b"asgard/v1/run-logs",
            Purpose::OidcCookies => b"asgard/v1/oidc-cookies",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("could not open sealed value (wrong key, wrong row binding, or tampered data)")]
pub struct OpenError;

/// Seals and opens values for one purpose.
pub struct Cipher {
    aead: Aes256Gcm,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher([redacted])")
    }
}

impl Cipher {
    pub fn new(master: &MasterKey, purpose: Purpose) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(b"asgard-hkdf-salt-v1"), master.bytes());
        let mut sub = Zeroizing::new([0u8; 32]);
        hk.expand(purpose.info(), sub.as_mut_slice())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let aead = Aes256Gcm::new_from_slice(sub.as_slice()).expect("32-byte key");
        Cipher { aead }
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encryption cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(OpenError);
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
        self.aead
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> MasterKey {
        MasterKey::from_hex(&hex::encode([b; 32])).unwrap()
    }

    #[test]
    fn round_trip_and_fresh_nonce() {
        let c = Cipher::new(&key(1), Purpose::Secrets);
        let a = c.seal(b"hunter2", b"row-1");
        let b = c.seal(b"hunter2", b"row-1");
        assert_ne!(a, b, "each seal uses a fresh nonce");
        assert_eq!(c.open(&a, b"row-1").unwrap().as_slice(), b"hunter2");
        assert!(!a.windows(7).any(|w| w == b"hunter2"));
    }

    #[test]
    fn wrong_aad_wrong_key_wrong_purpose_tamper_all_fail() {
        let c = Cipher::new(&key(1), Purpose::Secrets);
        let sealed = c.seal(b"value", b"row-1");
        assert_eq!(c.open(&sealed, b"row-2"), Err(OpenError));
        assert_eq!(
            Cipher::new(&key(2), Purpose::Secrets).open(&sealed, b"row-1"),
            Err(OpenError)
        );
        assert_eq!(
            Cipher::new(&key(1), Purpose::TfState).open(&sealed, b"row-1"),
            Err(OpenError)
        );
        let mut t = sealed.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert_eq!(c.open(&t, b"row-1"), Err(OpenError));
        assert_eq!(c.open(&sealed[..10], b"row-1"), Err(OpenError));
        let mut v = sealed;
        v[0] = 9;
        assert_eq!(c.open(&v, b"row-1"), Err(OpenError));
    }
}
