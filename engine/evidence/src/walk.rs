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
    #[error("cannot list directory: {path}")]
    List {
        path: PathBuf,
        #[source]
        source: walkdir::Error,
    },
}

/// The files found under the operator's paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walked {
    /// Named explicitly, or found in a directory with a video extension.
    pub files: Vec<PathBuf>,
    /// Found in a directory without a video extension: to identify by content.
    pub other: Vec<PathBuf>,
}

/// Expand files and directories (recursively): sorted, de-duplicated.
pub fn walk_sources(paths: &[PathBuf]) -> Result<Walked, WalkError> {
    let mut other = Vec::new();
    let files = collect_inner(paths, &mut other)?;
    other.sort();
    other.dedup();
    Ok(Walked { files, other })
}

/// Expand files and directories (recursively) into a sorted, de-duplicated file list
/// (video extensions only inside directories).
pub fn collect_sources(paths: &[PathBuf]) -> Result<Vec<PathBuf>, WalkError> {
    collect_inner(paths, &mut Vec::new())
}

fn collect_inner(paths: &[PathBuf], other: &mut Vec<PathBuf>) -> Result<Vec<PathBuf>, WalkError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|_| WalkError::NotFound(p.clone()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            for entry in walkdir::WalkDir::new(p).follow_links(true) {
                let entry = entry.map_err(|source| WalkError::List {
                    path: p.clone(),
                    source,
                })?;
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
    Ok(out)
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
        let w = walk_sources(&[dir.path().to_owned()]).unwrap();
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
}
