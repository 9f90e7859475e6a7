//! The master key (SPEC §7.1): exactly 64 hex characters, a fingerprint
//! stored in the database so a different key is refused at boot, and the
//! SQLite-only rule that a missing key is generated once into `<db>.key`.

use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The 32-byte root key. Never implements Display; Debug prints a marker.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// Strict parse: 64 hex characters, nothing else (no whitespace, no prefix).
    pub fn from_hex(s: &str) -> Result<Self, String> {
        if s.len() != 64 {
            return Err(format!(
                "must be exactly 64 hex characters (32 bytes), got {} characters; generate one with `asgard keygen`",
                s.len()
            ));
        }
        let mut out = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(s, out.as_mut_slice()).map_err(|_| {
            "must contain only hex characters 0-9a-f; generate one with `asgard keygen`".to_string()
        })?;
        Ok(MasterKey(out))
    }

    pub fn generate() -> Self {
        let mut out = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(out.as_mut_slice());
        MasterKey(out)
    }

    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_slice()))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A stable, non-reversible identifier of this key, stored in the DB.
    pub fn fingerprint(&self) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_slice())
            .expect("HMAC takes any key length");
        mac.update(b"asgard master key fingerprint v1");
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// Load `<db file>.key`, or create it (mode 0600) with a fresh key.
    /// Returns the key and whether it was generated now.
    pub fn load_or_create_file(path: &Path) -> std::io::Result<(Self, bool)> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let key = Self::from_hex(text.trim()).map_err(|m| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{}: {m}", path.display()),
                    )
                })?;
                Ok((key, false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                write_private(path, key.to_hex().as_bytes())?;
                Ok((key, true))
            }
            Err(e) => Err(e),
        }
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_hex() {
        assert!(MasterKey::from_hex(&"ab".repeat(32)).is_ok());
        assert!(MasterKey::from_hex(&"AB".repeat(32)).is_ok());
        assert!(MasterKey::from_hex(&"ab".repeat(31)).is_err());
        assert!(MasterKey::from_hex(&format!(" {}", "a".repeat(63))).is_err());
        assert!(MasterKey::from_hex(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn fingerprint_differs_per_key_and_is_stable() {
        let a = MasterKey::from_hex(&"01".repeat(32)).unwrap();
        let b = MasterKey::from_hex(&"02".repeat(32)).unwrap();
        assert_eq!(
            a.fingerprint(),
            MasterKey::from_hex(&"01".repeat(32)).unwrap().fingerprint()
        );
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert!(!a.fingerprint().contains(&"01".repeat(8)));
    }

    #[test]
    fn key_file_is_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("asgard-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.db.key");
        let (k1, created) = MasterKey::load_or_create_file(&p).unwrap();
        assert!(created);
        let (k2, created2) = MasterKey::load_or_create_file(&p).unwrap();
        assert!(!created2);
        assert_eq!(k1.fingerprint(), k2.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
