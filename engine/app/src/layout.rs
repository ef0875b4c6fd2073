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

/// The file format version of tube files. Version 2 adds `run_id`.
pub const TUBE_FORMAT: u32 = 2;

/// The per-frame boxes of every track of one source: what a synopsis needs, and what
/// redaction masks unselected objects by (boxes looked up by track id).
///
/// Why a run id: track ids are numbered per analysis run (`--force` renumbers them), so
/// boxes are only meaningful next to the index rows of the same run. `vigie analyze`
/// writes this file (atomically) *before* committing the rows, both carrying the run's id;
/// [`DerivedLayout::read_tubes`] compares the two and refuses with
/// [`InterruptedAnalysis`] when they differ. Files written before runs were named
/// (format 1) have no `run_id`: they are accepted next to index rows that have none
/// either (both from before the change), and refused next to rows of a named run (the
/// rows were re-written since, so the boxes are another run's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TubeFile {
    /// Absent in files written before the format was versioned (read as 1).
    #[serde(default = "tube_format_1")]
    pub format_version: u32,
    pub source_id: String,
    /// The analysis run these boxes come from ([`vigie_index::SourceRecord::run_id`]);
    /// `None` in files of format 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Working resolution the boxes are in (width, height).
    pub frame_size: (u32, u32),
    pub tubes: Vec<Tube>,
}

fn tube_format_1() -> u32 {
    1
}

/// What [`DerivedLayout::tubes_agree`] reads of a tube file: the rest is skipped without
/// being kept (a long source's boxes are megabytes).
#[derive(Deserialize)]
struct TubeHead {
    source_id: String,
    #[serde(default)]
    run_id: Option<String>,
}

/// A new analysis run id: 128 random bits, hex.
///
/// Why random: the id must be known before the index commit (the tube file carrying it
/// is written first), so the audit entry's sequence (appended after the commit, in the
/// order concurrent sources finish) cannot serve; the run's start time is not unique
/// (two runs in the same millisecond, shards on several nodes, a frozen test clock); a
/// hash of the results would give two runs with equal boxes the same id, hiding nothing
/// but explaining less. 128 random bits never repeat in practice.
pub fn new_run_id() -> Result<String, AppError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        AppError::BadInput(format!(
            "no random source to name the analysis run ({e}); check the system's entropy source \
             (getrandom) and run `vigie analyze` again"
        ))
    })?;
    Ok(hex::encode(bytes))
}

/// A source's tube file is not of the analysis run its index rows come from: the last
/// analysis of the source stopped between writing its boxes and committing its rows (or
/// the rows were re-written since). Masks placed with these boxes would follow another
/// run's track ids, possibly leaving a person clear, so every reader of the tubes refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the analysis of source {source_id} was interrupted: its per-frame boxes (tube file, run \
     {}) are not of the run its index rows come from (run {}), so nothing can be masked or \
     drawn with them; run `vigie analyze --force {source_id}`",
    run_name(tubes_run),
    run_name(index_run)
)]
pub struct InterruptedAnalysis {
    pub source_id: String,
    /// The run of the index rows (`None`: not in the index, or analysed before runs were
    /// named).
    pub index_run: Option<String>,
    /// The run of the tube file (`None`: written before runs were named).
    pub tubes_run: Option<String>,
}

fn run_name(run: &Option<String>) -> String {
    run.clone().unwrap_or_else(|| "unnamed".into())
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

    /// Write a source's tube file atomically (temporary file, fsync, rename, fsync of the
    /// directory): a reader sees the previous file or this one, never a mix.
    pub fn write_tubes(&self, file: &TubeFile) -> Result<PathBuf, AppError> {
        let dir = self.tubes_dir();
        vigie_audit::create_private_dir_all(&dir).map_err(AppError::io(&dir))?;
        let path = self.tube_file(&file.source_id);
        let bytes = serde_json::to_vec(file).expect("a tube file serialises");
        vigie_audit::write_atomic(&path, &bytes).map_err(AppError::io(&path))?;
        Ok(path)
    }

    /// Read a source's tube file, checked against the case's index: refused with
    /// [`InterruptedAnalysis`] when it is not of the run the index rows come from (see
    /// [`TubeFile`] for files written before runs were named).
    pub fn read_tubes(&self, source_id: &str) -> Result<TubeFile, AppError> {
        let file = self.read_tube_file(source_id)?;
        let index = self.existing_index()?;
        check_run(&index, file)
    }

    /// [`DerivedLayout::read_tubes`] with the index already open.
    pub fn read_tubes_in(
        &self,
        index: &vigie_index::Index,
        source_id: &str,
    ) -> Result<TubeFile, AppError> {
        check_run(index, self.read_tube_file(source_id)?)
    }

    /// Whether `source_id`'s last analysis completed: its rows are in `index` and its tube
    /// file is readable and of the same run. `vigie analyze` re-analyses a source for
    /// which this is false instead of calling it "already analysed".
    pub fn analysis_complete(
        &self,
        index: &vigie_index::Index,
        source_id: &str,
    ) -> Result<bool, AppError> {
        if !index.is_analysed(source_id)? {
            return Ok(false);
        }
        Ok(self.tubes_of_run(source_id, index.run_id(source_id)?.as_deref()))
    }

    /// Whether `source_id`'s tube file is readable and of run `run` (what its index row
    /// names). Reads the file: call it without holding the index.
    pub fn tubes_of_run(&self, source_id: &str, run: Option<&str>) -> bool {
        let Ok(bytes) = std::fs::read(self.tube_file(source_id)) else {
            return false;
        };
        let Ok(head) = serde_json::from_slice::<TubeHead>(&bytes) else {
            return false;
        };
        head.source_id == source_id && head.run_id.as_deref() == run
    }

    /// The tube file as written, not checked against the index.
    fn read_tube_file(&self, source_id: &str) -> Result<TubeFile, AppError> {
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

/// `file` if it is of the run `index` holds for its source.
fn check_run(index: &vigie_index::Index, file: TubeFile) -> Result<TubeFile, AppError> {
    let index_run = index.run_id(&file.source_id)?;
    if index_run != file.run_id {
        return Err(InterruptedAnalysis {
            source_id: file.source_id,
            index_run,
            tubes_run: file.run_id,
        }
        .into());
    }
    Ok(file)
}
