//! Motion analysis without any model: background subtraction, foreground masks, the
//! motion gate and the moving-blob detector.
//!
//! Why: CCTV footage is mostly static. A per-pixel background model on a small grey image
//! costs well under a millisecond a frame and tells the pipeline (a) whether a frame needs
//! the (expensive) object detector at all — the *motion gate* — and (b) which pixels
//! inside a detector's box belong to the object, so colours are measured on the object and
//! not on the road behind it. Without any model, the same mask's connected components are
//! a usable detector (`--detector motion`), e.g. for footage where NanoDet misses small or
//! unusual objects.
//!
//! The background model is a per-pixel running Gaussian (mean and variance, as in
//! Wren et al.'s Pfinder), updated fast where the scene is background and slowly where it is
//! foreground, so a parked car is absorbed after a while and lighting drifts are followed.

#![forbid(unsafe_code)]

mod blobs;
mod model;

pub use blobs::{find_blobs, Blob};
pub use model::{BackgroundModel, ForegroundMask, MotionConfig, MotionConfigError};

use vigie_core::{BBox, Detection, RgbFrame};

/// The model-free detector: moving blobs as detections labelled `moving_object`.
pub struct MotionDetector {
    model: BackgroundModel,
    min_blob_frac: f32,
}

impl MotionDetector {
    pub fn new(cfg: MotionConfig) -> Result<Self, MotionConfigError> {
        let min_blob_frac = cfg.min_blob_frac;
        Ok(Self {
            model: BackgroundModel::new(cfg)?,
            min_blob_frac,
        })
    }

    /// Update the background with `frame` and return the moving blobs as detections
    /// (boxes in `frame` pixels) together with the foreground mask.
    pub fn detect(&mut self, frame: &RgbFrame) -> (Vec<Detection>, &ForegroundMask) {
        let mask = self.model.apply(frame);
        let min_area = (self.min_blob_frac * (mask.width * mask.height) as f32).max(2.0) as usize;
        let blobs = find_blobs(mask, min_area);
        let (sx, sy) = mask.scale_to(frame.width, frame.height);
        let dets = blobs
            .iter()
            .map(|b| Detection {
                bbox_in_frame: BBox {
                    x: b.x0 as f32 * sx,
                    y: b.y0 as f32 * sy,
                    w: (b.x1 - b.x0 + 1) as f32 * sx,
                    h: (b.y1 - b.y0 + 1) as f32 * sy,
                },
                label: "moving_object".into(),
                // Confidence grows with how solid the blob is (filled share of its box).
                score: (0.5 + 0.5 * b.fill()).min(1.0),
            })
            .collect();
        (dets, self.model.mask())
    }
}
