//! The master key: exactly 64 hex characters, a fingerprint
//! stored in the database so a different key is refused at boot, and the
//! SQLite-only rule that a missing key is generated once into `<db>.key`
//! (written only once the boot goes ahead; see `app::resolve_key`).

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

    /// Read `<db file>.key`; `None` when there is none yet. Nothing is
    /// created here: a key is written only once the boot is known to go
    /// ahead (`write_new_file`), so a refused boot leaves no stray key.
    pub fn load_file(path: &Path) -> std::io::Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(text.trim()).map(Some).map_err(|m| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {m}", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Write this key to a new file (mode 0600). Refuses to overwrite, so
    /// two writers can never replace each other's key.
    pub fn write_new_file(&self, path: &Path) -> std::io::Result<()> {
        write_private(path, self.to_hex().as_bytes())
    }

    /// Stage this key as a replacement for `path`: written now to
    /// `<path>.new` with mode 0600, moved over `path` by
    /// `StagedKeyFile::commit`. Staging first means a disk problem stops a
    /// rotation before the database changes; the rename makes the swap
    /// atomic, and the file never exists with wider permissions.
    pub fn stage_file(&self, path: &Path) -> std::io::Result<StagedKeyFile> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".new");
        let tmp = std::path::PathBuf::from(tmp);
        // A leftover from an interrupted rotation holds no key in use.
        match std::fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        write_private(&tmp, self.to_hex().as_bytes())?;
        Ok(StagedKeyFile {
            tmp,
            path: path.to_path_buf(),
            done: false,
        })
    }
}

/// A key file written beside its destination, not yet in place. Dropped
/// without `commit`, it removes itself.
pub struct StagedKeyFile {
    tmp: std::path::PathBuf,
    path: std::path::PathBuf,
    done: bool,
}

impl StagedKeyFile {
    pub fn commit(mut self) -> std::io::Result<()> {
        std::fs::rename(&self.tmp, &self.path)?;
        self.done = true;
        // Persist the rename itself, so a crash cannot bring the old key back.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for StagedKeyFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
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

    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    fn temp_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("asgard-key-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn key_file_is_private_and_never_overwritten() {
        let dir = temp_dir();
        let p = dir.join("a.db.key");
        assert!(MasterKey::load_file(&p).unwrap().is_none());
        assert!(!p.exists(), "loading creates nothing");
        let k1 = MasterKey::generate();
        k1.write_new_file(&p).unwrap();
        assert!(MasterKey::generate().write_new_file(&p).is_err());
        let k2 = MasterKey::load_file(&p).unwrap().unwrap();
        assert_eq!(k1.fingerprint(), k2.fingerprint());
        assert_eq!(mode(&p), 0o600);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn staged_replacement_is_private_atomic_and_cleaned_up() {
        let dir = temp_dir();
        let p = dir.join("a.db.key");
        std::fs::write(&p, "old\n").unwrap();
        let new = MasterKey::generate();
        // Abandoned: the destination is untouched and the temp file is gone.
        drop(new.stage_file(&p).unwrap());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old\n");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        // Committed: the new key, mode 0600, whatever the old file's mode.
        new.stage_file(&p).unwrap().commit().unwrap();
        let back = MasterKey::load_file(&p).unwrap().unwrap();
        assert_eq!(back.fingerprint(), new.fingerprint());
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
