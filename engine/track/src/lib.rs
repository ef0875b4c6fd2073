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
//! - [`classes`]: which labels may be one object (`car`/`truck`/`bus`: COCO has no van)
//!   and a track's label by majority of its detections.
//! - [`riders`]: the offline pass that makes a person riding a bicycle or motorcycle that
//!   vehicle's rider (one object, its box covering both).
//!
//! Optimal assignment everywhere uses `pathfinding`'s Kuhn-Munkres (Hungarian) solver.

mod assign;
pub mod classes;
mod config;
pub mod eval;
mod hota;
mod kalman;
pub mod link;
pub mod mot;
pub mod riders;
mod tracker;

pub use config::{ConfigError, TrackerConfig};
pub use tracker::{
    ActiveTrack, FinishReason, FinishedTrack, PointSource, TrackError, TrackPoint, TrackState,
    Tracker, TrackerStats,
};
