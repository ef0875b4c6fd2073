//! Expanding the operator's `PATH...` into the list of source files.
//!
//! Files named explicitly are always taken (a DVR export may have any extension); inside
//! directories, only files with a known video extension are taken, so exports' side files
//! (players, checksums, logs) are not mistaken for footage.

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

/// Expand files and directories (recursively) into a sorted, de-duplicated file list.
pub fn collect_sources(paths: &[PathBuf]) -> Result<Vec<PathBuf>, WalkError> {
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
                if entry.file_type().is_file() && is_video_extension(entry.path()) {
                    found.push(entry.into_path());
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
    fn missing_path_is_an_error() {
        let e = collect_sources(&[PathBuf::from("/no/such/dir")]).unwrap_err();
        assert!(e.to_string().contains("no such file"));
    }
}
