//! Private file-system helpers: directories 0700, files 0600, durable atomic replacement.
//!
//! Why: a case holds personal data and the audit log of who looked at it; nobody but the
//! account that runs vigie should read either. Modes are set at creation (no window where
//! a file exists with wider permissions) and tightened again on directories that already
//! existed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Mode of every directory vigie creates under the data root.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file vigie creates under the data root.
pub const FILE_MODE: u32 = 0o600;

/// Create `dir` and its missing parents with mode 0700, and make sure `dir` itself is 0700.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(dir)?;
    #[cfg(unix)]
    {
        let mode = fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode != DIR_MODE {
            fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
        }
    }
    Ok(())
}

/// Options that create files with mode 0600.
pub fn private_open_options() -> OpenOptions {
    let mut opts = OpenOptions::new();
    #[cfg(unix)]
    opts.mode(FILE_MODE);
    opts
}

/// A suffix unique to this process and call, for temporary file names.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Sync a directory so that a file created or renamed in it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Write `bytes` to a fresh private temporary file next to `path` (`.<name>.<tag>.<n>`)
/// and sync it; returns the directory and the temporary file's path.
fn synced_temp_beside<'a>(
    path: &'a Path,
    tag: &str,
    bytes: &[u8],
) -> io::Result<(&'a Path, std::path::PathBuf)> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let tmp = dir.join(format!(".{name}.{tag}.{}", unique_suffix()));
    let mut f = private_open_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok((dir, tmp))
}

/// Replace `path` with `bytes` atomically and durably: write a temporary file beside it,
/// sync it, rename it over `path`, sync the directory. Readers see the old or the new
/// content, never half of either.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (dir, tmp) = synced_temp_beside(path, "tmp", bytes)?;
    fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Create `path` with `bytes` only if it does not exist yet; durable, and safe against a
/// second process doing the same at the same time (exactly one content wins; the other
/// caller gets `AlreadyExists`).
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (dir, tmp) = synced_temp_beside(path, "new", bytes)?;
    // A hard link fails if the target exists: the first writer wins, atomically.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    linked?;
    sync_dir(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn dirs_and_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_private_dir_all(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let f = dir.join("f");
        write_atomic(&f, b"x").unwrap();
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let g = dir.join("g");
        write_new(&g, b"1").unwrap();
        assert_eq!(
            write_new(&g, b"2").unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(fs::read(&g).unwrap(), b"1");
        assert_eq!(
            fs::metadata(&g).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn existing_dir_is_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("open");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir_all(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
