//! vigie's application layer: the one door every front end goes through.
//!
//! Why: vigie exists because a market leader was used outside its legal frame. Its promise
//! is that every use of footage happens inside one authorised case and leaves a trace.
//! When each CLI command entered the case, built its audit payload and laid out derived
//! data on its own, that promise was a convention each new command (and a web interface)
//! had to remember. Here it is a type:
//!
//! - [`EnteredCase`]: the permission for every use of footage or results. It exists only
//!   for an open, authorised, unexpired case, an [`Operator`] and a reason; it holds the
//!   case's lock shared for as long as it lives (so closure cannot erase under it), and
//!   re-checks the authorisation during long work ([`EnteredCase::checkpoint`]).
//! - [`Administration`]: lifecycle and oversight (open, close, purge, report, audit,
//!   alerts), which also works on closed and expired cases.
//! - [`Measurement`]: the one documented door for benchmarks and evaluations on files
//!   outside any case; it writes a machine-log entry naming each file's SHA-256 and what
//!   is computed *before* anything is computed.
//!
//! Detections, tracks and plate reads are produced only by functions taking one of these
//! permissions ([`analyze`], [`plates`], [`measure`]); the CLI does not even depend on the
//! crates that produce them (a test over `cargo metadata` checks it).
//!
//! The layer also owns, in one place: the layout of derived data ([`layout`]), where
//! exports go and how they are recorded ([`export`]), the typed audit events
//! (`vigie_audit::event`), progress and cancellation ([`progress`]), and the
//! classification of every error into an exit code and an alert ([`error`]).

#![forbid(unsafe_code)]

pub mod accounts;
pub mod admin;
pub mod analyze;
pub mod app;
pub mod bench;
pub mod bench_web;
pub mod clock;
pub mod clock_read;
pub mod coverage;
pub mod detect_eval;
pub mod entered;
pub mod error;
pub mod eval_colour;
pub mod evidence;
pub mod export;
pub mod layout;
pub mod ledger;
pub mod measure;
pub mod nodes;
pub mod operator;
pub mod oversight;
pub mod plates;
pub mod progress;
pub mod redact;
pub mod results;
pub mod shard;
pub mod synopsis;
pub mod timing;
pub mod view;

pub use app::App;
pub use entered::EnteredCase;
pub use error::{AppError, ErrorClass};
pub use measure::Measurement;
pub use operator::Operator;
pub use progress::{CancelToken, NoProgress, Progress};

/// Types front ends need to build requests and print results, re-exported so that a
/// front end depends on this crate alone.
pub mod types {
    pub use vigie_audit::event::{Event, ExportKind, FileHash, RunningWork};
    pub use vigie_audit::{Action, Entry, EntryRef, Verification, VerifyStatus};
    pub use vigie_case::{
        CaseMeta, CaseStatus, ClosureSummary, OpenRequest, PurgeSummary, Report, ReportFiles,
        WhenBusy,
    };
    pub use vigie_core::{Alert, AlertKind, SamplingMode, TrackSummary};
    pub use vigie_decode::{DecodeReport, ExportReport, OutputSize};
    pub use vigie_evidence::SourceRecord;
    pub use vigie_index::{Query, QueryArgs, SearchResult};
    pub use vigie_synopsis::{Figures, IndexEntry, MAX_OBJECT_SPEED};

    pub use crate::export::ExportTarget;
    // Measurement results (see `bench`).
    pub use vigie_detect::eval::ClassCounts;
    pub use vigie_detect::Detection as NanodetDetection;
    pub use vigie_plate::eval::{
        EvalReport as PlateEvalReport, Failure as PlateFailure, SampleResult as PlateSampleResult,
    };
    pub use vigie_track::eval::MotMetrics;
}
