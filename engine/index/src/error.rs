//! Typed errors of the index and of the query parser.
//!
//! Each message names the problem and the fix; paths come last (they may be sensitive).

use std::path::PathBuf;

/// Errors opening, writing or reading an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("no track index for this case yet (run `vigie analyze` first): {}", path.display())]
    Missing { path: PathBuf },
    #[error(
        "index schema version {found} is newer than this vigie supports ({supported}): upgrade \
         vigie; the index was left untouched: {}",
        path.display()
    )]
    SchemaTooNew {
        found: i64,
        supported: i64,
        path: PathBuf,
    },
    #[error(
        "this file is not a vigie track index (application id {found:#x}); point vigie at the \
         case's derived/index.sqlite: {}",
        path.display()
    )]
    NotAnIndex { found: i64, path: PathBuf },
    #[error("invalid track {track_id} of source {source_id}: {problem} (fix the describer output; nothing was written)")]
    InvalidTrack {
        source_id: String,
        track_id: u64,
        problem: String,
    },
    #[error("invalid source record: {problem} (nothing was written)")]
    InvalidSource { problem: String },
    #[error("corrupt row in the track index: {problem} (rebuild it with `vigie analyze --force`)")]
    Corrupt { problem: String },
    #[error("track index database error: {source}{}", path_suffix(path))]
    Sqlite {
        #[source]
        source: rusqlite::Error,
        path: Option<PathBuf>,
    },
    /// Test-only fault injection (see `Index::fail_after_tracks`).
    #[error("injected failure after {after} tracks (test only)")]
    Injected { after: usize },
}

fn path_suffix(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| format!(": {}", p.display()))
        .unwrap_or_default()
}

impl From<rusqlite::Error> for IndexError {
    fn from(source: rusqlite::Error) -> Self {
        IndexError::Sqlite { source, path: None }
    }
}

/// A malformed query: which flag, what was given, what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {flag} {given:?}: {expected}")]
pub struct QueryError {
    /// The flag at fault, e.g. `--colour`.
    pub flag: &'static str,
    /// What the operator typed.
    pub given: String,
    /// What would have been accepted.
    pub expected: String,
}

impl QueryError {
    pub(crate) fn new(flag: &'static str, given: &str, expected: impl Into<String>) -> Self {
        QueryError {
            flag,
            given: given.to_string(),
            expected: expected.into(),
        }
    }
}
