//! Licence-plate reading for vehicle tracks and still images.
//!
//! Why its own crate: reading plates is one stage with one job (vehicle images in, a plate
//! string out) and it runs three models, all through `vigie-policy` (never ONNX Runtime
//! directly), so it can only run what the compiled allowlist names. A plate identifies a
//! vehicle, not a person: no biometric model is involved, and the searches over plates are
//! logged like every other consultation.
//!
//! Stages: [`clp`] (plate detector with corners) and/or [`text_det`] (PP-OCRv6 text
//! detector) propose regions; [`geom`] rectifies each into a 48 px strip; [`recognise`]
//! reads it restricted to the plate alphabet; [`reader`] ranks the regions of an image
//! and, across a track's frames, [`vote`]s character by character against the plate
//! formats of `vigie_core::plate`.

pub mod clp;
mod error;
pub mod eval;
pub mod geom;
pub mod overlay;
pub mod reader;
pub mod recognise;
pub mod text_det;
pub mod vote;

pub use error::PlateError;
pub use reader::{
    Candidate, ImageReading, Localiser, PlateReader, PlateReaderConfig, TrackImage, TrackPlate,
};
pub use recognise::{RecogniserConfig, Strip};
