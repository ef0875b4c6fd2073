//! Evidence opened once: hashed through the handle that every later read goes through.
//!
//! Why: hashing a path and then decoding the same path opens it twice, and a file renamed
//! over it in between would be processed while the audit log records the registered
//! file's hash (time of check, time of use). [`OpenedEvidence`] opens the file once,
//! read-only, refusing a symbolic link swapped in at the last component, hashes it through
//! that handle and keeps the handle open. Decoders are given [`OpenedEvidence::decode_path`]
//! (`/proc/self/fd/N`): on Linux opening it reopens the very inode that was hashed, even
//! when the directory entry has since been replaced. The file's identity (device, inode,
//! size, modification time) is taken when hashing and compared by
//! [`OpenedEvidence::check_unchanged`] once the work is done, which catches a change
//! written into the file itself while it was being read.

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::hash::{hash_reader, HashError};

/// What identifies a file's bytes without reading them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_s: i64,
    pub mtime_ns: i64,
    /// The change time: any write sets it, and no unprivileged program can set it back
    /// (unlike the modification time, which `touch -d` restores after a same-size edit).
    pub ctime_s: i64,
    pub ctime_ns: i64,
    /// Links to the inode: a file renamed over the evidence's name unlinks the hashed
    /// inode, which changes its change time without changing a byte of it.
    pub nlink: u64,
}

impl FileIdentity {
    /// The identity in `meta` (of a handle, `File::metadata`, or of a name).
    pub fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_s: meta.mtime(),
            mtime_ns: meta.mtime_nsec(),
            ctime_s: meta.ctime(),
            ctime_ns: meta.ctime_nsec(),
            nlink: meta.nlink(),
        }
    }

    /// The bytes may have changed from `self` to `now`: another inode or size, another
    /// modification time, or another change time that no change of the inode's links
    /// explains.
    pub fn may_differ(&self, now: &Self) -> bool {
        (self.dev, self.ino, self.size, self.mtime_s, self.mtime_ns)
            != (now.dev, now.ino, now.size, now.mtime_s, now.mtime_ns)
            || ((self.ctime_s, self.ctime_ns) != (now.ctime_s, now.ctime_ns)
                && self.nlink == now.nlink)
    }
}

impl std::fmt::Display for FileIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "device {} inode {}, {} bytes, modified {}.{:09}",
            self.dev, self.ino, self.size, self.mtime_s, self.mtime_ns
        )
    }
}

/// A file opened read-only once by its name, refusing a symbolic link (and a link swapped
/// in between the look and the open), not hashed: for work that hashes beside its reading
/// (a player's first frames) through the same handle ([`PinnedFile::read_path`]).
#[derive(Debug)]
pub struct PinnedFile {
    file: File,
    identity: FileIdentity,
}

impl PinnedFile {
    pub fn open(path: &Path) -> Result<Self, HashError> {
        let open_err = |source| HashError::Open {
            path: path.to_path_buf(),
            source,
        };
        // What the name is *now*: a link is refused, and the handle must be this inode
        // (a link swapped in between the look and the open would give another one).
        let named = std::fs::symlink_metadata(path).map_err(open_err)?;
        if named.file_type().is_symlink() {
            return Err(HashError::Symlink {
                path: path.to_path_buf(),
            });
        }
        // `File::open` is read-only: evidence is never opened for writing.
        let file = File::open(path).map_err(open_err)?;
        let before = file.metadata().map_err(open_err)?;
        if (before.dev(), before.ino()) != (named.dev(), named.ino()) {
            return Err(HashError::Symlink {
                path: path.to_path_buf(),
            });
        }
        if !before.is_file() {
            return Err(HashError::NotAFile {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            file,
            identity: FileIdentity::of(&before),
        })
    }

    /// `/proc/self/fd/N`: the opened inode, whatever became of the name, for a decoder
    /// and a hash alike. Valid while `self` lives.
    pub fn read_path(&self) -> PathBuf {
        fd_path(&self.file)
    }

    /// Device, inode, size and times when it was opened.
    pub fn identity(&self) -> FileIdentity {
        self.identity
    }
}

fn fd_path(file: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// A file opened read-only once, hashed through its handle, and kept open.
#[derive(Debug)]
pub struct OpenedEvidence {
    path: PathBuf,
    file: File,
    sha256: String,
    size_bytes: u64,
    identity: FileIdentity,
}

impl OpenedEvidence {
    /// Open `path` read-only (refusing a symbolic link), hash it through the handle, and
    /// keep the handle. `on_bytes` is told each chunk hashed.
    pub fn open(path: &Path, on_bytes: impl FnMut(u64)) -> Result<Self, HashError> {
        let PinnedFile { file, identity } = PinnedFile::open(path)?;
        let (sha256, size_bytes) =
            hash_reader(&file, on_bytes).map_err(|source| HashError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        let opened = Self {
            path: path.to_path_buf(),
            file,
            sha256,
            size_bytes,
            identity,
        };
        // Written to while it was being hashed: the hash is of no one version.
        opened.check_unchanged()?;
        Ok(opened)
    }

    /// The name it was opened by (for messages and records; never reopen it by this name).
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// SHA-256 of the bytes read through the handle, lower-case hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }
    /// Device, inode, size and modification time when it was hashed.
    pub fn identity(&self) -> FileIdentity {
        self.identity
    }
    /// The open handle (read-only).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The path a decoder opens: `/proc/self/fd/N`, which reopens the hashed inode
    /// whatever became of the name (and is UTF-8 whatever the name's bytes). Valid while
    /// `self` lives.
    pub fn decode_path(&self) -> PathBuf {
        fd_path(&self.file)
    }

    /// Refuse when the file's identity changed since it was hashed: bytes written into
    /// it while it was read, so the results of the work are of unknown bytes.
    pub fn check_unchanged(&self) -> Result<(), HashError> {
        let now = self.file.metadata().map_err(|source| HashError::Read {
            path: self.path.clone(),
            source,
        })?;
        let now = FileIdentity::of(&now);
        if self.identity.may_differ(&now) || now.size != self.size_bytes {
            return Err(HashError::ChangedDuringProcessing {
                path: self.path.clone(),
                before: Box::new(self.identity),
                after: Box::new(now),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_through_the_hashed_inode_after_another_file_is_renamed_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.avi");
        std::fs::write(&path, b"registered footage").unwrap();
        let opened = OpenedEvidence::open(&path, |_| {}).unwrap();
        let swap = dir.path().join("swap.avi");
        std::fs::write(&swap, b"other bytes").unwrap();
        std::fs::rename(&swap, &path).unwrap();
        // The name now holds other bytes; the decode path still reads the hashed ones.
        assert_eq!(std::fs::read(&path).unwrap(), b"other bytes");
        assert_eq!(
            std::fs::read(opened.decode_path()).unwrap(),
            b"registered footage"
        );
        assert_eq!(
            opened.sha256(),
            crate::hash_file(&opened.decode_path(), |_| {}).unwrap().0
        );
        // The hashed file itself did not change.
        opened.check_unchanged().unwrap();
    }

    #[test]
    fn a_change_written_into_the_file_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.avi");
        std::fs::write(&path, b"registered footage").unwrap();
        let opened = OpenedEvidence::open(&path, |_| {}).unwrap();
        opened.check_unchanged().unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b" and more").unwrap();
        let e = opened.check_unchanged().unwrap_err();
        assert!(
            matches!(e, HashError::ChangedDuringProcessing { .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("evidence changed during processing"));
    }

    #[test]
    fn a_symbolic_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("other.avi");
        std::fs::write(&target, b"other bytes").unwrap();
        let link = dir.path().join("a.avi");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = OpenedEvidence::open(&link, |_| {}).unwrap_err();
        assert!(matches!(e, HashError::Symlink { .. }), "{e:?}");
    }
}
