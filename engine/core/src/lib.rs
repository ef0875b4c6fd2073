//! vigie's pure core: the types every stage agrees on.
//!
//! Why a separate crate: decode, evidence, case, detect and index all exchange the same
//! notions (a source's metadata, a decoded frame, a point in wall-clock time). Keeping them
//! here, free of FFmpeg, ONNX Runtime and the file system, means every other crate depends
//! *inward* on this one and can be tested without native libraries.

#![forbid(unsafe_code)]

pub mod alert;
pub mod classes;
pub mod clock;
pub mod font;
pub mod frame;
pub mod paths;
pub mod plate;
pub mod riders;
pub mod sampling;
pub mod source;
pub mod test_support;
pub mod time;
pub mod track;

pub use alert::{Alert, AlertKind, AlertSink, AlertSinkError, MemoryAlertSink};
pub use frame::RgbFrame;
pub use plate::PlateRead;
pub use sampling::{SamplingMode, SamplingModeParseError};
pub use source::{SourceMeta, StartTime, StartTimeOrigin, TimestampSource};
pub use time::{parse_wall_clock, WallClockParseError};
pub use track::{
    BBox, Colour, ColourParseError, ColourShare, Compass, CompassParseError, CrossingDirection,
    Detection, Edge, LineCrossing, ThumbnailAt, TrackSummary, ZoneVisit,
};
