//! Where derived data live inside a case, defined once.
//!
//! Everything under `<case>/derived` is erased at closure; everything under
//! `<case>/exports` too (its hashes stay in the disclosure entries). Writers and readers
//! (analysis, search, synopsis, clip, the web interface) take paths from here only.
//!
//! The index schema and its migrations are `vigie_index`'s (`vigie_index::SCHEMA_VERSION`,
//! migrations run in `Index::open`): a new column or table is a new migration step there,
//! and the layer opens the index only through [`DerivedLayout::open_index`] and
//! [`DerivedLayout::existing_index`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
pub use vigie_pipeline::Tube;

use crate::error::AppError;

/// The file format version of tube files.
pub const TUBE_FORMAT: u32 = 1;

/// The per-frame boxes of every track of one source: what a synopsis needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TubeFile {
    /// Absent in files written before the format was versioned (read as 1).
    #[serde(default = "tube_format_1")]
    pub format_version: u32,
    pub source_id: String,
    /// Working resolution the boxes are in (width, height).
    pub frame_size: (u32, u32),
    pub tubes: Vec<Tube>,
}

fn tube_format_1() -> u32 {
    1
}

/// The directories and files of one case's derived data.
#[derive(Debug, Clone)]
pub struct DerivedLayout {
    case_dir: PathBuf,
}

impl DerivedLayout {
    pub fn new(case_dir: &Path) -> Self {
        Self {
            case_dir: case_dir.to_owned(),
        }
    }
    /// `<case>/derived`.
    pub fn derived(&self) -> PathBuf {
        self.case_dir.join("derived")
    }
    /// `<case>/exports`.
    pub fn exports(&self) -> PathBuf {
        self.case_dir.join("exports")
    }
    /// The track index.
    pub fn index_path(&self) -> PathBuf {
        self.derived().join(vigie_index::INDEX_FILE_NAME)
    }
    /// Thumbnails (`thumbnails/<name>`, referenced relative to `derived/`).
    pub fn thumbnails(&self) -> PathBuf {
        self.derived().join("thumbnails")
    }
    /// Tube files, one per source.
    pub fn tubes_dir(&self) -> PathBuf {
        self.derived().join("tubes")
    }
    pub fn tube_file(&self, source_id: &str) -> PathBuf {
        self.tubes_dir().join(format!("{source_id}.json"))
    }
    /// Scratch space of the synopsis renderer.
    pub fn synopsis_work(&self) -> PathBuf {
        self.derived()
    }

    /// Create `derived/` if needed.
    pub fn ensure_derived(&self) -> Result<PathBuf, AppError> {
        let d = self.derived();
        vigie_audit::create_private_dir_all(&d).map_err(AppError::io(&d))?;
        Ok(d)
    }

    /// The index, created (and migrated) if needed.
    pub fn open_index(&self) -> Result<vigie_index::Index, AppError> {
        self.ensure_derived()?;
        Ok(vigie_index::Index::open(&self.index_path())?)
    }

    /// The index, which must exist (`vigie analyze` creates it).
    pub fn existing_index(&self) -> Result<vigie_index::Index, AppError> {
        let p = self.index_path();
        if !p.exists() {
            return Err(AppError::NoIndex);
        }
        Ok(vigie_index::Index::open_existing(&p)?)
    }

    /// Write a source's tube file atomically.
    pub fn write_tubes(&self, file: &TubeFile) -> Result<PathBuf, AppError> {
        let dir = self.tubes_dir();
        vigie_audit::create_private_dir_all(&dir).map_err(AppError::io(&dir))?;
        let path = self.tube_file(&file.source_id);
        let bytes = serde_json::to_vec(file).expect("a tube file serialises");
        vigie_audit::write_atomic(&path, &bytes).map_err(AppError::io(&path))?;
        Ok(path)
    }

    /// Read a source's tube file.
    pub fn read_tubes(&self, source_id: &str) -> Result<TubeFile, AppError> {
        let path = self.tube_file(source_id);
        let bytes = std::fs::read(&path).map_err(|_| AppError::NoTubes {
            source_id: source_id.to_owned(),
        })?;
        let file: TubeFile =
            serde_json::from_slice(&bytes).map_err(|e| AppError::DamagedDerived {
                what: "tube file".into(),
                why: e.to_string(),
                path: path.clone(),
            })?;
        if file.source_id != source_id {
            return Err(AppError::DamagedDerived {
                what: "tube file".into(),
                why: format!("it belongs to another source ({})", file.source_id),
                path,
            });
        }
        Ok(file)
    }
}
