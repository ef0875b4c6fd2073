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
//! [`ridden`] keeps a bicycle or motorcycle box the network scored under the threshold when
//! a person it is sure of sits on it (a rider is evidence that something is ridden there).
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
pub mod ridden;
pub mod still;
pub mod test_support;

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
    /// For a bicycle or motorcycle kept under the score threshold because a person the
    /// detector is sure of sits on it ([`ridden`]), that person's score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rider_score: Option<f32>,
}

impl Detection {
    /// The score tracking weighs this box by: its own, or for a weak two-wheeler kept for
    /// its rider ([`ridden`]), the rider's when higher.
    pub fn tracking_score(&self) -> f32 {
        self.rider_score.map_or(self.score, |r| r.max(self.score))
    }
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
/// string; the COCO class id is dropped: downstream stages work by label; the score is
/// [`Detection::tracking_score`]).
impl From<Detection> for vigie_core::Detection {
    fn from(d: Detection) -> Self {
        vigie_core::Detection {
            bbox_in_frame: d.bbox_in_frame.into(),
            label: d.label.to_string(),
            score: d.tracking_score(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_weighs_a_weak_ridden_box_by_its_rider_and_others_by_their_own_score() {
        let weak = Detection {
            class_id: 3,
            label: "motorcycle",
            score: 0.25,
            bbox_in_frame: BBox {
                x: 1.0,
                y: 2.0,
                w: 3.0,
                h: 4.0,
            },
            rider_score: Some(0.8),
        };
        let sure = Detection {
            rider_score: None,
            score: 0.7,
            ..weak.clone()
        };
        let core: vigie_core::Detection = weak.clone().into();
        assert_eq!((core.label.as_str(), core.score), ("motorcycle", 0.8));
        assert_eq!(vigie_core::Detection::from(sure).score, 0.7);
        // What the network said stays visible next to the rider's score.
        let json = serde_json::to_value(&weak).unwrap();
        assert_eq!(json["score"], 0.25);
        assert_eq!(json["rider_score"].as_f64().map(|s| s as f32), Some(0.8));
    }
}
