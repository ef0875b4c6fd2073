//! COCO object detection for CCTV frames (NanoDet-m, 416x416, 416x352 or 512x288 by the
//! source's shape: [`choice`]).
//!
//! Why its own crate: detection is one stage with one job (frame in, boxes out). It
//! depends on `vigie-policy` for the model session and never on ONNX Runtime directly,
//! so it cannot load anything that is not on the compiled allowlist.
//!
//! Pipeline: [`preprocess`] (resize to the network size as the manifest says: NanoDet
//! letterboxed, aspect kept, centred, black padding; BGR, mean/std, NCHW) ->
//! session run -> [`gfl`] decoding (per stride 8/16/32: sigmoid class scores, 4 x 11-bin
//! distance distributions, expectation x stride from the cell's centre prior) -> per-class
//! [`nms`] -> boxes mapped back to frame pixels (`bbox_in_frame`: minus the padding
//! offset, divided by the scale, clipped to the frame; [`preprocess::Geometry`]). Classes outside the
//! configured set (by default the CCTV classes: person, bicycle, car, motorcycle, bus,
//! truck) are dropped before NMS.
//!
//! [`crops`] runs the same network on windows of the frame at scale 1 (where things move,
//! for small objects), boxes mapped back exactly and merged.
//!
//! [`eval`] measures precision and recall against Pascal VOC boxes; [`still`] loads JPEG
//! and PNG stills for tests, evaluation and `vigie detect IMAGE`.

pub mod choice;
pub mod crops;
mod detector;
mod error;
pub mod eval;
pub mod gfl;
pub mod nms;
pub mod preprocess;
pub mod still;

use serde::Serialize;

pub use choice::{
    detector_model_for, CpuFeatures, DetectorModel, InputChoice, Precision, PrecisionChoice,
};
pub use detector::{nms_groups, Detector, DetectorConfig, CCTV_CLASSES};
pub use error::DetectError;

/// An axis-aligned box: top-left corner and size, in the pixels of the space its name
/// says (`bbox_in_frame`: the frame given to the detector).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

/// One detected object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// Index in the model's label list (COCO-80 order for NanoDet).
    pub class_id: u16,
    pub label: &'static str,
    /// Class score in [0, 1].
    pub score: f32,
    pub bbox_in_frame: BBox,
}

impl From<BBox> for vigie_core::BBox {
    fn from(b: BBox) -> Self {
        vigie_core::BBox {
            x: b.x,
            y: b.y,
            w: b.w,
            h: b.h,
        }
    }
}

impl From<vigie_core::BBox> for BBox {
    fn from(b: vigie_core::BBox) -> Self {
        BBox {
            x: b.x,
            y: b.y,
            w: b.w,
            h: b.h,
        }
    }
}

/// The detector's output in the pipeline's shared type (the label becomes an owned
/// string; the COCO class id is dropped: downstream stages work by label).
impl From<Detection> for vigie_core::Detection {
    fn from(d: Detection) -> Self {
        vigie_core::Detection {
            bbox_in_frame: d.bbox_in_frame.into(),
            label: d.label.to_string(),
            score: d.score,
        }
    }
}
