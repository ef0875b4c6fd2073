//! The per-case track index and the search over it.
//!
//! Why SQLite, one file per case: a case is the legal unit (one procedure, one purge), so
//! its index lives inside it (`<case>/derived/index.sqlite`) and is erased with it; SQLite
//! gives atomic, crash-safe transactions and a cost-based planner in one embedded file,
//! with no server to run on an investigator's workstation.
//!
//! - [`store`]: opening, the schema version check, `write_source` (one transaction per
//!   source), `is_analysed` for resumable batches.
//! - [`query`]: flag strings -> validated [`Query`], with errors naming the bad flag.
//! - [`search`](mod@search): [`Query`] -> one parameterised SQL statement -> [`Hit`]s.
//! - [`render`]: table, CSV and HTML contact sheet (JSON is the serde form of
//!   [`SearchResult`]).
//! - [`synth`]: the deterministic synthetic index behind `vigie bench search`.
//!
//! The index stores descriptions of how objects looked and moved ([`TrackSummary`]); it
//! has no column for, and offers no query on, anything biometric.

#![forbid(unsafe_code)]

pub mod error;
mod lookup;
pub mod query;
pub mod render;
mod schema;
pub mod search;
pub mod store;
pub mod synth;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::{IndexError, QueryError};
pub use query::{
    ClassRule, ColourFilter, ColourPart, LineFilter, MinSize, Query, QueryArgs, COLOUR_MIN_SHARE,
    DEFAULT_LIMIT, MAX_LIMIT, RIDDEN_CLASSES, VEHICLE_CLASSES,
};
pub use schema::SCHEMA_VERSION;
pub use search::{Hit, SearchResult};
pub use store::{validate_source, Index, SourceClock, SourceInfo, SourceRecord};
pub use vigie_core::TrackSummary;

/// The index file's name inside a case's derived directory.
pub const INDEX_FILE_NAME: &str = "index.sqlite";

/// Open the existing index at `path` and run `query` (what `vigie search` does once the
/// case is entered and the consultation logged).
pub fn search(path: &Path, query: &Query) -> Result<SearchResult, IndexError> {
    Index::open_existing(path)?.search(query)
}
