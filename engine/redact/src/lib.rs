//! Redaction of exported frames: what the query did not select is covered.
//!
//! Why: an export handed to a court, a lawyer or the press must disclose only what the
//! procedure needs (directive 2016/680, data minimisation). Every person, every plate zone
//! and anything else that moves but was not selected is covered with an **opaque** fill
//! (never a blur or a pixelation, which can be reversed) in every frame where it appears.
//!
//! What is covered, for a frame at `pts_ms` of any size ([`Redactor::plan`]):
//! - every track that is not selected, from its per-frame boxes (working pixels, scaled to
//!   the output), interpolated linearly between detections and held for
//!   [`RedactParams::hold_ms`] before its first and after its last one, grown by a margin;
//! - persons and other classes (`moving_object`, bicycles, ...) whole; vehicles that carry
//!   a plate (car, motorcycle, bus, truck) on their plate where it is located in that
//!   frame and on their lower part where it is not ([`VehicleMask::Plate`], the default:
//!   the plan covers the lower part, [`PlateMasker::refine`] replaces it by the plates a
//!   [`PlateLocator`] found), on their lower part ([`VehicleMask::LowerPart`]), or whole
//!   ([`VehicleMask::Whole`]);
//! - where such a mask overlaps a selected object, the mask wins: it is drawn last;
//! - with the motion mask on ([`MotionMasker`]): foreground pixels of the background model
//!   (connected blobs above a minimum area, dilated) outside the selected objects' boxes —
//!   what the detector missed — and outside the boxes of unselected vehicles that carry a
//!   plate while they move ([`FramePlan::explained`]): their motion is theirs, and the
//!   plate rule covers them; filling it would hide the vehicle whole. Only the box
//!   explains motion (grown by the mask's cell size and dilation), not the blob it
//!   touches: an undetected person walking beside the vehicle is still filled outside
//!   the vehicle's box. A vehicle that does not move explains nothing (a pedestrian
//!   passing in front of a parked car is filled).
//!
//! [`apply`] fills the rectangles and cells; [`draw_mark`] burns the visible mark
//! ("PROCEDURE <n> · vigie · REDACTED <k> objects") in a corner. Nothing here decodes,
//! encodes or writes: the application layer does, and records the parameters
//! ([`RedactParams`], serialisable) and the figures ([`Tally::figures`]).
//!
//! Only the object tracks (allowlisted detector) and the motion mask are used: no face
//! detection, ever.

#![forbid(unsafe_code)]

mod mark;
mod motion;
mod plan;
mod plates;

pub use mark::{draw_mark, mark_text, text_size};
pub use motion::{MotionCells, MotionMasker};
pub use plan::{
    apply, class_of, sampling_interval_ms, Applied, FramePlan, Mask, ObjectClass, Rect, Redactor,
    TrackBoxes, VehicleInFrame,
};
pub use plates::{FoundPlate, PlateFigures, PlateLocator, PlateMasker, PlateParams};

use serde::{Deserialize, Serialize};

/// The opaque fill (dark grey: visibly a mask, not footage).
pub const FILL_RGB: [u8; 3] = [16, 16, 16];

/// What is wrong with a redaction request; each message names the fix.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RedactError {
    #[error("invalid redaction setting {name} = {value} (expected {expected})")]
    InvalidParam {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "the per-frame boxes were computed on a {0}x{1} frame, which cannot be scaled; \
         re-run `vigie analyze` on this source"
    )]
    BadFrameSize(u32, u32),
    #[error(
        "track {track_id}'s boxes are not in time order (at {pts_ms} ms): the tube file is \
         damaged; re-run `vigie analyze` on this source"
    )]
    Unordered { track_id: u64, pts_ms: i64 },
    #[error(
        "track {0} is not a track of this source, so it cannot be kept clear; list the \
         source's tracks with `vigie search --source SOURCE`"
    )]
    UnknownTrack(u64),
    #[error("invalid motion-mask setting: {0}")]
    Motion(#[from] vigie_motion::MotionConfigError),
}

/// How vehicles that carry a plate are covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VehicleMask {
    /// The plate, where the plate detector locates it in that frame ([`PlateMasker`]);
    /// the lower part where it does not (or where no detector ran).
    #[serde(rename = "plate_or_lower_part")]
    Plate,
    /// The lower part of the box (where the plate is), [`RedactParams::vehicle_lower_share`].
    LowerPart,
    /// The whole vehicle.
    Whole,
}

/// The motion mask: what moves but was not detected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MotionParams {
    /// A pixel is foreground when it differs from the background by more than this many
    /// grey levels (and by `k_sigma` standard deviations).
    pub min_diff: f32,
    pub k_sigma: f32,
    /// Blobs smaller than this share of the frame are left (camera noise).
    pub min_area_frac: f32,
    /// Cells of the model grid added around each blob.
    pub dilate: u32,
    /// Width of the grey image the background model runs on.
    pub model_width: u32,
    /// Motion inside the box of an unselected vehicle that carries a plate and is moving
    /// is explained by it and left to its own rule (the plate, or the lower part), not
    /// filled: only the box (grown by the mask's own cell size and dilation), never the
    /// whole blob, so an undetected person beside the vehicle stays covered. `false` in
    /// entries recorded before this setting: moving vehicles were then covered whole.
    #[serde(default)]
    pub moving_vehicles_explain: bool,
}

impl Default for MotionParams {
    fn default() -> Self {
        Self {
            min_diff: 14.0,
            k_sigma: 2.5,
            min_area_frac: 0.0008,
            dilate: 1,
            model_width: 192,
            moving_vehicles_explain: true,
        }
    }
}

/// Redaction parameters (recorded with every redacted export).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedactParams {
    /// Margin added on each side of a box, as a share of its width (left, right) and
    /// height (top, bottom).
    pub margin: f32,
    /// Least margin, output pixels.
    pub margin_min_px: u32,
    /// How long a box is held before a track's first and after its last detection, ms
    /// (about one sampling interval of the analysis: see [`sampling_interval_ms`]).
    pub hold_ms: i64,
    pub vehicles: VehicleMask,
    /// Share of a vehicle's box height covered from the bottom with
    /// [`VehicleMask::LowerPart`].
    pub vehicle_lower_share: f32,
    /// The motion mask (`None`: off).
    pub motion: Option<MotionParams>,
    pub fill_rgb: [u8; 3],
    /// How located plates are covered ([`VehicleMask::Plate`]).
    #[serde(default)]
    pub plates: PlateParams,
}

impl Default for RedactParams {
    fn default() -> Self {
        Self {
            margin: 0.10,
            margin_min_px: 2,
            hold_ms: 200,
            vehicles: VehicleMask::Plate,
            vehicle_lower_share: 0.5,
            motion: Some(MotionParams::default()),
            fill_rgb: FILL_RGB,
            plates: PlateParams::default(),
        }
    }
}

impl RedactParams {
    pub fn validate(&self) -> Result<(), RedactError> {
        fn check(
            name: &'static str,
            value: impl ToString,
            ok: bool,
            expected: &'static str,
        ) -> Result<(), RedactError> {
            if ok {
                Ok(())
            } else {
                Err(RedactError::InvalidParam {
                    name,
                    value: value.to_string(),
                    expected,
                })
            }
        }
        check(
            "margin",
            self.margin,
            (0.0..=1.0).contains(&self.margin),
            "0 to 1",
        )?;
        check(
            "margin_min_px",
            self.margin_min_px,
            self.margin_min_px <= 256,
            "0 to 256",
        )?;
        check(
            "hold_ms",
            self.hold_ms,
            (0..=10_000).contains(&self.hold_ms),
            "0 to 10000",
        )?;
        check(
            "vehicle_lower_share",
            self.vehicle_lower_share,
            self.vehicle_lower_share > 0.0 && self.vehicle_lower_share <= 1.0,
            "> 0, <= 1",
        )?;
        if let Some(m) = &self.motion {
            check("motion.dilate", m.dilate, m.dilate <= 16, "0 to 16")?;
            motion::config(m).validate()?;
        }
        self.plates.validate()
    }
}

/// Running figures of one export (frames seen, objects covered, pixels filled).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    frames: u64,
    frames_masked: u64,
    objects: std::collections::BTreeSet<u64>,
    track_pixels: u64,
    motion_pixels: u64,
    total_pixels: u64,
}

/// What a redaction covered, for the audit entry and the operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Distinct tracks covered in at least one frame.
    pub objects_redacted: u64,
    pub redacted_tracks: Vec<u64>,
    pub frames: u64,
    /// Frames where at least one pixel was filled.
    pub frames_with_masks: u64,
    /// Share of all pixels of all frames filled (tracks and motion).
    pub masked_pixel_share: f64,
    /// Share of all pixels of all frames filled by the motion mask.
    pub motion_masked_pixel_share: f64,
}

impl Tally {
    /// Count one frame.
    pub fn add(&mut self, plan: &FramePlan, applied: &Applied) {
        self.frames += 1;
        self.total_pixels += u64::from(plan.width) * u64::from(plan.height);
        if applied.track_pixels + applied.motion_pixels > 0 {
            self.frames_masked += 1;
        }
        self.track_pixels += applied.track_pixels;
        self.motion_pixels += applied.motion_pixels;
        self.objects.extend(
            plan.masks
                .iter()
                .filter(|m| !m.rect.is_empty())
                .map(|m| m.track_id),
        );
    }

    pub fn figures(&self) -> Figures {
        let share = |n: u64| {
            if self.total_pixels == 0 {
                0.0
            } else {
                n as f64 / self.total_pixels as f64
            }
        };
        Figures {
            objects_redacted: self.objects.len() as u64,
            redacted_tracks: self.objects.iter().copied().collect(),
            frames: self.frames,
            frames_with_masks: self.frames_masked,
            masked_pixel_share: share(self.track_pixels + self.motion_pixels),
            motion_masked_pixel_share: share(self.motion_pixels),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_settings_are_named() {
        RedactParams::default().validate().unwrap();
        let p = RedactParams {
            margin: 2.0,
            ..Default::default()
        };
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("margin = 2") && e.contains("0 to 1"), "{e}");
        let p = RedactParams {
            motion: Some(MotionParams {
                model_width: 4,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("model_width"));
    }

    #[test]
    fn parameters_serialise_for_the_audit_entry() {
        let v = serde_json::to_value(RedactParams::default()).unwrap();
        assert_eq!(v["vehicles"], "plate_or_lower_part");
        assert_eq!(v["plates"]["accept_score"], 0.3f32 as f64);
        assert_eq!(v["fill_rgb"], serde_json::json!([16, 16, 16]));
        assert_eq!(v["motion"]["min_diff"], 14.0);
    }
}
