//! The SQLite database holds sealed secrets, password hashes and the audit
//! log, so its file is created owner-only (0600), like the key file. SQLite
//! gives its `-wal` and `-shm` files the database file's mode, so creating
//! the database file first is what makes all three private. Files left by
//! an older version with wider modes are tightened, with a warning.

use std::path::{Path, PathBuf};

use anyhow::Context;

const SIDE_FILES: [&str; 2] = ["-wal", "-shm"];

fn with_suffix(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Create `db` with mode 0600 if it does not exist; tighten it and its
/// `-wal`/`-shm` if they exist and are readable by others.
pub fn prepare(db: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(db)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| format!("creating database file {}", db.display()));
            }
        }
        let files =
            std::iter::once(db.to_path_buf()).chain(SIDE_FILES.iter().map(|s| with_suffix(db, s)));
        for f in files {
            let Ok(meta) = std::fs::metadata(&f) else {
                continue;
            };
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} private (mode 0600)", f.display()))?;
                tracing::warn!(file = %f.display(), old_mode = format!("{mode:o}"),
                    "the database file was readable by others; its mode is now 0600");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_private_and_tightens() {
        let dir = std::env::temp_dir().join(format!("asgard-pf-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("a.db");
        prepare(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        let wal = with_suffix(&db, "-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).unwrap();
        prepare(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&wal), 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
