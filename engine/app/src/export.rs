//! Exports belong to the case.
//!
//! A bare file name (`-o track12.mp4`) lands in the case's `exports/` directory, which
//! closure erases. An explicit path (`-o /media/usb/track12.mp4`, `-o ./t.mp4`) is honoured,
//! and the disclosure entry records the destination, its hash and that it lies outside the
//! case: closure cannot erase it, so the erasure entry lists it among the copies its
//! holders must erase. An explicit path into vigie's data folder other than the case's
//! `exports/` (its `reports/`, kept at closure; another case; the machine's logs) is
//! refused: such a copy would outlive the closure without being listed.

use std::path::{Component, Path, PathBuf};

use vigie_audit::event::FileHash;

use crate::error::AppError;
use crate::layout::DerivedLayout;

/// Where one export file is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportTarget {
    pub path: PathBuf,
    /// Inside the case's directory (erased at closure).
    pub inside_case: bool,
}

impl ExportTarget {
    /// Resolve `requested`: a bare name goes to `<case>/exports/`; any other path stays
    /// where the operator put it.
    pub fn resolve(layout: &DerivedLayout, requested: &Path) -> Result<Self, AppError> {
        let mut comps = requested.components();
        let bare = match (comps.next(), comps.next()) {
            (Some(Component::Normal(_)), None) => true,
            (None, _) => {
                return Err(AppError::BadExport(
                    "empty output name: give a file name (e.g. -o track12.mp4)".into(),
                ))
            }
            _ => false,
        };
        if bare {
            let dir = layout.exports();
            vigie_audit::create_private_dir_all(&dir).map_err(AppError::io(&dir))?;
            return Ok(Self {
                path: dir.join(requested),
                inside_case: true,
            });
        }
        if requested
            .file_name()
            .is_none_or(|n| n.to_string_lossy().trim().is_empty())
        {
            return Err(AppError::BadExport(format!(
                "{} names a directory, not a file; add a file name",
                requested.display()
            )));
        }
        let parent = match requested.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let parent = parent.canonicalize().map_err(|e| {
            AppError::BadExport(format!(
                "the directory of {} cannot be used ({e}); create it first",
                requested.display()
            ))
        })?;
        let path = parent.join(requested.file_name().expect("checked above"));
        // Inside the case means inside its `exports/`, which closure erases. Anywhere else
        // in the data root (the case's `reports/` or `evidence/`, which closure keeps,
        // another case, the machine's logs) an export would outlive the closure unlisted,
        // or mix with another case's or the installation's records: refused.
        let exports = layout.exports();
        let canonical = |p: &Path| p.canonicalize().ok();
        if canonical(&exports).is_some_and(|e| path.starts_with(e)) {
            return Ok(Self {
                path,
                inside_case: true,
            });
        }
        let case_dir = exports.parent(); // <root>/cases/<id>
        let data_root = case_dir
            .and_then(Path::parent) // <root>/cases
            .filter(|c| c.file_name().is_some_and(|n| n == "cases"))
            .and_then(Path::parent) // <root>
            .or(case_dir)
            .and_then(canonical);
        if let Some(root) = data_root.filter(|r| path.starts_with(r)) {
            return Err(AppError::BadExport(format!(
                "{} is inside vigie's data folder {} but not in the case's exports/ (which closure erases): give a bare file name (-o {}) to write it there, or a path outside {}",
                path.display(),
                root.display(),
                requested
                    .file_name()
                    .expect("checked above")
                    .to_string_lossy(),
                root.display()
            )));
        }
        Ok(Self {
            path,
            inside_case: false,
        })
    }

    /// A sibling file of this export (`.json` index, `.vtt`), same place, same status.
    pub fn sibling(&self, extension: &str) -> Self {
        Self {
            path: self.path.with_extension(extension),
            inside_case: self.inside_case,
        }
    }

    /// The written file's hash, for the disclosure entry.
    pub fn hash(&self) -> Result<FileHash, AppError> {
        let (sha256, size_bytes) = vigie_evidence::hash_file(&self.path, |_| {})?;
        Ok(FileHash {
            path: self.path.display().to_string(),
            sha256,
            size_bytes,
            inside_case: self.inside_case,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_go_to_the_case_and_paths_stay() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("home");
        let case = root.join("cases/C-1");
        std::fs::create_dir_all(&case).unwrap();
        let layout = DerivedLayout::new(&case);
        let t = ExportTarget::resolve(&layout, Path::new("t12.mp4")).unwrap();
        assert!(t.inside_case);
        assert_eq!(t.path, case.join("exports/t12.mp4"));
        let out = d.path().join("usb");
        std::fs::create_dir_all(&out).unwrap();
        let t = ExportTarget::resolve(&layout, &out.join("t12.mp4")).unwrap();
        assert!(!t.inside_case);
        assert_eq!(t.path, out.canonicalize().unwrap().join("t12.mp4"));
        assert!(ExportTarget::resolve(&layout, Path::new("")).is_err());
        assert!(ExportTarget::resolve(&layout, &d.path().join("missing/t.mp4")).is_err());
        assert_eq!(t.sibling("vtt").path.extension().unwrap(), "vtt");
        // An explicit path into exports/ is the case's; anywhere else in the data root
        // (kept at closure, or another case's) is refused.
        let t = ExportTarget::resolve(&layout, &case.join("exports/t.mp4")).unwrap();
        assert!(t.inside_case);
        for elsewhere in [
            "cases/C-1/reports",
            "cases/C-1",
            "cases/C-2/exports",
            "machine",
        ] {
            let dir = root.join(elsewhere);
            std::fs::create_dir_all(&dir).unwrap();
            let err = ExportTarget::resolve(&layout, &dir.join("hidden.png")).unwrap_err();
            assert!(err.to_string().contains("exports/"), "{elsewhere}: {err}");
        }
    }
}
