//! Detections made by hand, for the tests of this crate and of the crates above it.

use vigie_policy::{ids, Labels};

use crate::{BBox, Detection};

/// A detection of `label` (a COCO name: its class id is NanoDet's, 0 for a name COCO
/// lacks) scoring `score`, at `x, y, w, h` in frame pixels, kept on its own score.
pub fn det(label: &'static str, score: f32, x: f32, y: f32, w: f32, h: f32) -> Detection {
    let Labels::Inline(labels) = ids::NANODET_COCO_416.spec().labels else {
        unreachable!("NanoDet declares its labels")
    };
    Detection {
        class_id: labels.iter().position(|l| *l == label).unwrap_or(0) as u16,
        label,
        score,
        bbox_in_frame: BBox { x, y, w, h },
        rider_score: None,
    }
}
