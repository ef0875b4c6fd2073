//! Expanding the operator's `PATH...` into the list of source files.
//!
//! Files named explicitly are always taken (a DVR export may have any extension). Inside
//! directories, files with a known video extension are taken; every other file is
//! returned apart ([`Walked::other`]) for the caller to identify by content (a DVR export
//! named `.bin` or `.dat` is still footage; players, checksums and logs are not), so that
//! nothing is skipped without saying so.

use std::path::{Path, PathBuf};

/// Extensions taken when walking a directory (lower-case, without the dot).
pub const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "m4v", "mov", "mkv", "webm", "avi", "ts", "mts", "m2ts", "mpg", "mpeg", "h264", "264",
    "h265", "265", "hevc", "mjpeg", "mjpg", "flv", "3gp", "dav", "asf", "wmv",
];

pub fn is_video_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("no such file or directory (check the path): {0}")]
    NotFound(PathBuf),
    #[error("broken symbolic link: its target {target} does not exist (point the link at the footage, or name the footage itself): {path}")]
    BrokenSymlink { path: PathBuf, target: PathBuf },
    #[error("symbolic link loop: following the links comes back to {ancestor} (remove the looping link, or name the footage itself): {path}")]
    SymlinkLoop { path: PathBuf, ancestor: PathBuf },
    #[error("permission denied (give the account running vigie read access, or copy the footage somewhere readable): {path}")]
    PermissionDenied { path: PathBuf },
    #[error("cannot read this path (check the medium and the path): {path}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl WalkError {
    /// The path this error is about.
    pub fn path(&self) -> &Path {
        match self {
            WalkError::NotFound(path)
            | WalkError::BrokenSymlink { path, .. }
            | WalkError::SymlinkLoop { path, .. }
            | WalkError::PermissionDenied { path }
            | WalkError::Unreadable { path, .. } => path,
        }
    }

    /// Why `path` could not be read, from the I/O error and what is (not) there: a missing
    /// file, a link to nothing and a permission refusal call for different fixes.
    fn from_io(path: &Path, e: std::io::Error) -> Self {
        let path = path.to_path_buf();
        if let Ok(link) = std::fs::symlink_metadata(&path) {
            if link.file_type().is_symlink() && e.kind() == std::io::ErrorKind::NotFound {
                let target = std::fs::read_link(&path).unwrap_or_default();
                return WalkError::BrokenSymlink { path, target };
            }
        }
        // ELOOP has no stable `ErrorKind`: 40 on Linux.
        if e.raw_os_error() == Some(40) {
            return WalkError::SymlinkLoop {
                ancestor: path.clone(),
                path,
            };
        }
        match e.kind() {
            std::io::ErrorKind::NotFound => WalkError::NotFound(path),
            std::io::ErrorKind::PermissionDenied => WalkError::PermissionDenied { path },
            _ => WalkError::Unreadable { path, source: e },
        }
    }

    fn from_walkdir(root: &Path, e: walkdir::Error) -> Self {
        let path = e.path().unwrap_or(root).to_path_buf();
        if let Some(ancestor) = e.loop_ancestor() {
            return WalkError::SymlinkLoop {
                path,
                ancestor: ancestor.to_path_buf(),
            };
        }
        match e.into_io_error() {
            Some(io) => WalkError::from_io(&path, io),
            None => WalkError::Unreadable {
                path,
                source: std::io::Error::other("unreadable directory entry"),
            },
        }
    }
}

/// The files found under the operator's paths.
#[derive(Debug, Default)]
pub struct Walked {
    /// Named explicitly, or found in a directory with a video extension.
    pub files: Vec<PathBuf>,
    /// Found in a directory without a video extension: to identify by content.
    pub other: Vec<PathBuf>,
    /// Paths that could not be read (missing, broken or looping links, no permission),
    /// each with why. The walk goes on past them: one bad path does not cost the batch.
    pub failed: Vec<WalkError>,
}

/// Expand files and directories (recursively): sorted, de-duplicated. Never fails as a
/// whole: what cannot be read is in [`Walked::failed`].
pub fn walk_sources(paths: &[PathBuf]) -> Walked {
    let mut other = Vec::new();
    let mut failed = Vec::new();
    let files = collect_inner(paths, &mut other, &mut failed);
    other.sort();
    other.dedup();
    failed.sort_by(|a, b| a.path().cmp(b.path()));
    Walked {
        files,
        other,
        failed,
    }
}

/// Expand files and directories (recursively) into a sorted, de-duplicated file list
/// (video extensions only inside directories). Fails on the first path that cannot be
/// read; [`walk_sources`] goes on past it.
pub fn collect_sources(paths: &[PathBuf]) -> Result<Vec<PathBuf>, WalkError> {
    let mut failed = Vec::new();
    let files = collect_inner(paths, &mut Vec::new(), &mut failed);
    match failed.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(files),
    }
}

fn collect_inner(
    paths: &[PathBuf],
    other: &mut Vec<PathBuf>,
    failed: &mut Vec<WalkError>,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) => {
                failed.push(WalkError::from_io(p, e));
                continue;
            }
        };
        if meta.is_dir() {
            let mut found = Vec::new();
            for entry in walkdir::WalkDir::new(p).follow_links(true) {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        failed.push(WalkError::from_walkdir(p, e));
                        continue;
                    }
                };
                if entry.file_type().is_file() {
                    if is_video_extension(entry.path()) {
                        found.push(entry.into_path());
                    } else {
                        other.push(entry.into_path());
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_recursively_and_keeps_explicit_files() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("cam1/2024");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("a.MP4"), b"x").unwrap();
        std::fs::write(sub.join("b.h264"), b"x").unwrap();
        std::fs::write(sub.join("notes.txt"), b"x").unwrap();
        let odd = dir.path().join("export.bin");
        std::fs::write(&odd, b"x").unwrap();
        let got = collect_sources(&[dir.path().join("cam1"), odd.clone(), odd.clone()]).unwrap();
        assert_eq!(got, vec![sub.join("a.MP4"), sub.join("b.h264"), odd]);
    }

    #[test]
    fn other_files_in_directories_are_returned_apart() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cam.mp4"), b"x").unwrap();
        std::fs::write(dir.path().join("export.dat"), b"x").unwrap();
        std::fs::write(dir.path().join("readme.txt"), b"x").unwrap();
        let w = walk_sources(&[dir.path().to_owned()]);
        assert_eq!(w.files, vec![dir.path().join("cam.mp4")]);
        assert_eq!(
            w.other,
            vec![dir.path().join("export.dat"), dir.path().join("readme.txt")]
        );
    }

    #[test]
    fn missing_path_is_an_error() {
        let e = collect_sources(&[PathBuf::from("/no/such/dir")]).unwrap_err();
        assert!(e.to_string().contains("no such file"));
    }

    #[test]
    fn a_missing_path_next_to_a_good_one_costs_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.avi");
        std::fs::write(&good, b"x").unwrap();
        let missing = dir.path().join("missing.avi");
        let w = walk_sources(&[good.clone(), missing.clone()]);
        assert_eq!(w.files, vec![good]);
        assert_eq!(w.failed.len(), 1);
        assert!(matches!(&w.failed[0], WalkError::NotFound(p) if p == &missing));
    }

    #[test]
    fn a_broken_symlink_in_a_folder_is_named_and_the_rest_is_walked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.mp4"), b"x").unwrap();
        let link = dir.path().join("b.mp4");
        std::os::unix::fs::symlink(dir.path().join("gone.mp4"), &link).unwrap();
        let w = walk_sources(&[dir.path().to_owned()]);
        assert_eq!(w.files, vec![dir.path().join("a.mp4")]);
        assert_eq!(w.failed.len(), 1, "{:?}", w.failed);
        assert!(
            matches!(&w.failed[0], WalkError::BrokenSymlink { path, .. } if path == &link),
            "{:?}",
            w.failed
        );
        assert!(w.failed[0].to_string().contains("broken symbolic link"));
        // Named explicitly, too.
        let w = walk_sources(std::slice::from_ref(&link));
        assert!(matches!(&w.failed[0], WalkError::BrokenSymlink { .. }));
    }

    #[test]
    fn a_symlink_loop_is_named_and_the_rest_is_walked() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("cam");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("a.mp4"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path(), sub.join("up")).unwrap();
        let w = walk_sources(&[dir.path().to_owned()]);
        assert_eq!(w.files, vec![sub.join("a.mp4")]);
        assert!(
            w.failed
                .iter()
                .any(|e| matches!(e, WalkError::SymlinkLoop { .. })),
            "{:?}",
            w.failed
        );
        // A link to itself, named explicitly.
        let selfie = dir.path().join("self.mp4");
        std::os::unix::fs::symlink(&selfie, &selfie).unwrap();
        let w = walk_sources(&[selfie, sub.join("a.mp4")]);
        assert_eq!(w.files, vec![sub.join("a.mp4")]);
        assert!(matches!(&w.failed[0], WalkError::SymlinkLoop { .. }));
    }

    #[test]
    fn an_unreadable_directory_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::write(locked.join("a.mp4"), b"x").unwrap();
        std::fs::write(dir.path().join("b.mp4"), b"x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read_dir(&locked).is_ok() {
            // Running as root: permissions do not apply.
            return;
        }
        let w = walk_sources(&[dir.path().to_owned()]);
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(w.files, vec![dir.path().join("b.mp4")]);
        assert!(matches!(&w.failed[0], WalkError::PermissionDenied { .. }));
    }
}
