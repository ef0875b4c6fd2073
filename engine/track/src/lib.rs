//! `vigie-track`: link per-frame detections into tracks, and measure how well that works.
//!
//! Why a crate of its own: tracking is pure geometry over time (no pixels, no FFmpeg, no
//! model), so it can be tested exhaustively with property tests and scored against public
//! MOTChallenge ground truth, independently of the detector that feeds it.
//!
//! - [`Tracker`]: ByteTrack-style two-stage association with a constant-velocity Kalman
//!   filter, per-class matching and an explicit lifecycle (`new` -> `update` per frame ->
//!   `drain_finished` while running -> `finish` at end of stream).
//! - [`eval`]: MOTChallenge file parsing and CLEAR-MOT (MOTA, MOTP, ...) and IDF1 scores,
//!   matching the `motmetrics` Python package's rules exactly, and HOTA (TrackEval).
//! - [`link`]: the offline pass over a whole recording that joins fragments of one
//!   object (motion continuity, gap, size, colour names; never a biometric feature).
//! - [`mot`]: run the tracker over MOTChallenge detections and write MOTChallenge output.
//!
//! Optimal assignment everywhere uses `pathfinding`'s Kuhn-Munkres (Hungarian) solver.

mod assign;
mod config;
pub mod eval;
mod hota;
mod kalman;
pub mod link;
pub mod mot;
mod tracker;

pub use config::{ConfigError, TrackerConfig};
pub use tracker::{
    ActiveTrack, FinishReason, FinishedTrack, PointSource, TrackError, TrackPoint, TrackState,
    Tracker, TrackerStats,
};
