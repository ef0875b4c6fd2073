//! Plates located on the vehicles that carry one, so that the vehicle itself can stay clear.
//!
//! Why: covering the lower half of every unselected car hides what an exported clip often
//! needs to show (colour, make, damage) and misses a plate placed high (some trucks and
//! vans). The plate detector finds the plate itself; only the plate (grown by a margin) is
//! then covered. The detector is a model, so it runs in the application layer
//! ([`PlateLocator`], implemented there over the allowlisted `clp-det`): this crate stays
//! pure and only decides, from what the locator found, what to cover.
//!
//! Fail-safe by construction: [`Redactor::plan`](crate::Redactor::plan) already covers
//! every plate-carrying vehicle's lower part; [`PlateMasker::refine`] replaces that mask
//! only when a plate is *located* in this very frame (a detection above
//! [`PlateParams::accept_score`], of a plausible size, inside the vehicle). Otherwise the
//! lower part stays, and every other candidate the detector proposed is covered too.
//! Conservative on the way:
//! - the detector runs on **every frame** a vehicle is in, on the frame being written (a
//!   moving car's plate moves: a position from another frame would leave it clear), except
//!   for a vehicle whose box has not moved by a pixel, whose last answer is reused for at
//!   most [`PlateParams::refresh_frames`] frames (a still vehicle's plate does not move);
//! - the plates located on a track in the last [`PlateParams::carry_frames`] frames are
//!   covered too, at the same place relative to the vehicle's box, so that a frame where
//!   the detector prefers a sticker to the plate still covers where the plate was;
//! - vehicles narrower than [`PlateParams::min_vehicle_width_px`] are not searched: their
//!   lower part is covered.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigie_core::BBox;

use crate::plan::{FramePlan, Mask, Rect};
use crate::RedactError;

/// One plate candidate a locator found, in the pixels of the image it was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoundPlate {
    /// The plate's 4 corners (any order).
    pub corners_px: [(f32, f32); 4],
    /// The detector's box.
    pub bbox_px: BBox,
    /// Plate probability, 0..1.
    pub score: f32,
}

impl FoundPlate {
    /// The smallest box holding both the detector's box and the corners.
    pub fn bounds(&self) -> BBox {
        let xs = self.corners_px.iter().map(|c| c.0);
        let ys = self.corners_px.iter().map(|c| c.1);
        let x0 = xs.clone().fold(self.bbox_px.x, f32::min);
        let x1 = xs.fold(self.bbox_px.x + self.bbox_px.w, f32::max);
        let y0 = ys.clone().fold(self.bbox_px.y, f32::min);
        let y1 = ys.fold(self.bbox_px.y + self.bbox_px.h, f32::max);
        BBox {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }
}

/// Where plates are in a region of an image: the plate detector, behind a trait so that
/// this crate does not link ONNX Runtime (the application layer implements it over the
/// allowlisted plate detector).
pub trait PlateLocator {
    type Error;
    /// Plate candidates inside `region` of the packed RGB24 image `rgb` (`width` x
    /// `height`), in image pixels, best first.
    fn locate(
        &mut self,
        rgb: &[u8],
        width: u32,
        height: u32,
        region: Rect,
    ) -> Result<Vec<FoundPlate>, Self::Error>;
}

/// How located plates are covered (recorded with the redaction parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateParams {
    /// A candidate counts as the vehicle's plate (and the lower part is uncovered) only
    /// from this score; weaker candidates are covered, but the lower part stays.
    pub accept_score: f32,
    /// Margin added on each side of a plate, as a share of its width (left, right) ...
    pub margin_width_share: f32,
    /// ... and of its height (top, bottom).
    pub margin_height_share: f32,
    /// Least margin, pixels.
    pub margin_min_px: u32,
    /// A plate found narrower than this many times its height is widened (centred) to
    /// it before the margin: the detector was trained on Chinese plates (about 3:1) and
    /// boxes a European plate (about 4.7:1) short of its ends.
    pub min_width_to_height: f32,
    /// Vehicles narrower than this (output pixels, margin included) are not searched: a
    /// plate would be a few pixels wide, below what the detector finds.
    pub min_vehicle_width_px: u32,
    /// A plate found is plausible when it is at most this share of the vehicle's width
    /// and ...
    pub max_width_share: f32,
    /// ... of its height.
    pub max_height_share: f32,
    /// A vehicle whose box has not moved reuses its last answer for at most this many
    /// frames (1: the detector runs on every frame).
    pub refresh_frames: u32,
    /// Plates located on a track stay covered (relative to its box) this many frames
    /// after the last frame they were located in.
    pub carry_frames: u32,
}

impl Default for PlateParams {
    fn default() -> Self {
        Self {
            accept_score: 0.3,
            margin_width_share: 0.15,
            margin_height_share: 0.4,
            margin_min_px: 3,
            min_width_to_height: 5.0,
            min_vehicle_width_px: 48,
            max_width_share: 0.8,
            max_height_share: 0.5,
            refresh_frames: 25,
            carry_frames: 12,
        }
    }
}

impl PlateParams {
    pub fn validate(&self) -> Result<(), RedactError> {
        let bad = |name: &'static str, value: String, expected: &'static str| {
            Err(RedactError::InvalidParam {
                name,
                value,
                expected,
            })
        };
        if !(self.accept_score > 0.0 && self.accept_score < 1.0) {
            return bad(
                "plates.accept_score",
                self.accept_score.to_string(),
                "> 0, < 1",
            );
        }
        for (name, v) in [
            ("plates.margin_width_share", self.margin_width_share),
            ("plates.margin_height_share", self.margin_height_share),
        ] {
            if !(0.0..=2.0).contains(&v) {
                return bad(name, v.to_string(), "0 to 2");
            }
        }
        for (name, v) in [
            ("plates.max_width_share", self.max_width_share),
            ("plates.max_height_share", self.max_height_share),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return bad(name, v.to_string(), "> 0, <= 1");
            }
        }
        if !(0.0..=20.0).contains(&self.min_width_to_height) {
            return bad(
                "plates.min_width_to_height",
                self.min_width_to_height.to_string(),
                "0 to 20",
            );
        }
        if self.margin_min_px > 64 {
            return bad(
                "plates.margin_min_px",
                self.margin_min_px.to_string(),
                "0 to 64",
            );
        }
        if !(1..=250).contains(&self.refresh_frames) {
            return bad(
                "plates.refresh_frames",
                self.refresh_frames.to_string(),
                "1 to 250",
            );
        }
        if self.carry_frames > 250 {
            return bad(
                "plates.carry_frames",
                self.carry_frames.to_string(),
                "0 to 250",
            );
        }
        Ok(())
    }
}

/// How plate-carrying vehicles were covered over an export, vehicle by frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlateFigures {
    /// (vehicle, frame) pairs: each unselected plate-carrying vehicle in each frame.
    pub vehicle_frames: u64,
    /// Covered on the located plate (the rest of the vehicle clear).
    pub located: u64,
    /// Of `located`: a still vehicle's last answer reused.
    pub located_reused: u64,
    /// Searched, no plate located: lower part covered (and any weaker candidate).
    pub lower_part: u64,
    /// Too small to search: lower part covered.
    pub lower_part_small: u64,
    /// Times the locator ran.
    pub locator_runs: u64,
}

/// A plate's place relative to its vehicle's box (fractions of its width and height).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Relative {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

#[derive(Debug, Clone)]
struct Memory {
    /// The vehicle's box when last searched, and the frame.
    vehicle: Rect,
    searched_frame: u64,
    /// That search's answer: plate rects (absolute) and whether one was located.
    rects: Vec<Rect>,
    located: bool,
    /// The plates last located, relative to the vehicle's box, and the frame.
    carried: Vec<Relative>,
    located_frame: u64,
}

/// Replaces the lower-part masks of a frame's plan by the located plates: one per export
/// (it remembers each track's last answers), fed every frame in order.
#[derive(Debug, Clone)]
pub struct PlateMasker {
    params: PlateParams,
    frame: u64,
    memory: BTreeMap<u64, Memory>,
    figures: PlateFigures,
}

fn grow(b: &BBox, p: &PlateParams, width: u32, height: u32) -> Rect {
    let wide = p.min_width_to_height * b.h;
    let b = &if b.w < wide {
        BBox {
            x: b.x - (wide - b.w) / 2.0,
            w: wide,
            ..*b
        }
    } else {
        *b
    };
    let mx = (b.w * p.margin_width_share).max(p.margin_min_px as f32);
    let my = (b.h * p.margin_height_share).max(p.margin_min_px as f32);
    let clip = |v: f32, max: u32| v.max(0.0).min(max as f32) as u32;
    Rect {
        x0: clip((b.x - mx).floor(), width),
        y0: clip((b.y - my).floor(), height),
        x1: clip((b.x + b.w + mx).ceil(), width),
        y1: clip((b.y + b.h + my).ceil(), height),
    }
}

fn relative(r: &Rect, v: &Rect) -> Relative {
    let (w, h) = ((v.x1 - v.x0).max(1) as f32, (v.y1 - v.y0).max(1) as f32);
    Relative {
        x0: (r.x0 as f32 - v.x0 as f32) / w,
        y0: (r.y0 as f32 - v.y0 as f32) / h,
        x1: (r.x1 as f32 - v.x0 as f32) / w,
        y1: (r.y1 as f32 - v.y0 as f32) / h,
    }
}

fn absolute(r: &Relative, v: &Rect, width: u32, height: u32) -> Rect {
    let (w, h) = ((v.x1 - v.x0) as f32, (v.y1 - v.y0) as f32);
    let clip = |p: f32, max: u32| p.max(0.0).min(max as f32) as u32;
    Rect {
        x0: clip((v.x0 as f32 + r.x0 * w).floor(), width),
        y0: clip((v.y0 as f32 + r.y0 * h).floor(), height),
        x1: clip((v.x0 as f32 + r.x1 * w).ceil(), width),
        y1: clip((v.y0 as f32 + r.y1 * h).ceil(), height),
    }
}

impl PlateMasker {
    pub fn new(params: PlateParams) -> Result<Self, RedactError> {
        params.validate()?;
        Ok(Self {
            params,
            frame: 0,
            memory: BTreeMap::new(),
            figures: PlateFigures::default(),
        })
    }

    pub fn params(&self) -> &PlateParams {
        &self.params
    }

    pub fn figures(&self) -> PlateFigures {
        self.figures
    }

    /// Search the plate of every plate-carrying vehicle of `plan` (`plan.vehicles`) in
    /// `rgb` (the frame the plan is for, packed RGB24 of `plan.width` x `plan.height`)
    /// and cover the plates located instead of the vehicle's lower part. Call once per
    /// frame, in order.
    pub fn refine<L: PlateLocator + ?Sized>(
        &mut self,
        plan: &mut FramePlan,
        rgb: &[u8],
        locator: &mut L,
    ) -> Result<(), L::Error> {
        self.frame += 1;
        let (width, height) = (plan.width, plan.height);
        let vehicles = plan.vehicles.clone();
        for v in &vehicles {
            self.figures.vehicle_frames += 1;
            let vw = v.rect.x1.saturating_sub(v.rect.x0);
            let vh = v.rect.y1.saturating_sub(v.rect.y0);
            let mut extra: Vec<Rect> = self
                .memory
                .get(&v.track_id)
                .filter(|m| self.frame - m.located_frame <= u64::from(self.params.carry_frames))
                .map(|m| {
                    m.carried
                        .iter()
                        .map(|r| absolute(r, &v.rect, width, height))
                        .collect()
                })
                .unwrap_or_default();
            if vw < self.params.min_vehicle_width_px || vh == 0 {
                self.figures.lower_part_small += 1;
                push_masks(plan, v.track_id, extra);
                continue;
            }
            let reuse = self.memory.get(&v.track_id).filter(|m| {
                m.vehicle == v.rect
                    && self.frame - m.searched_frame < u64::from(self.params.refresh_frames)
            });
            let (rects, located) = match reuse {
                Some(m) => {
                    if m.located {
                        self.figures.located_reused += 1;
                    }
                    (m.rects.clone(), m.located)
                }
                None => {
                    self.figures.locator_runs += 1;
                    let found = locator.locate(rgb, width, height, v.rect)?;
                    let (rects, accepted) = self.judge(&found, &v.rect, width, height);
                    let located = !accepted.is_empty();
                    let m = self.memory.entry(v.track_id).or_insert(Memory {
                        vehicle: v.rect,
                        searched_frame: self.frame,
                        rects: Vec::new(),
                        located: false,
                        carried: Vec::new(),
                        located_frame: 0,
                    });
                    m.vehicle = v.rect;
                    m.searched_frame = self.frame;
                    m.rects = rects.clone();
                    m.located = located;
                    if located {
                        m.carried = accepted.iter().map(|r| relative(r, &v.rect)).collect();
                        m.located_frame = self.frame;
                    }
                    (rects, located)
                }
            };
            if located {
                self.figures.located += 1;
                plan.masks.retain(|m| m.track_id != v.track_id);
            } else {
                self.figures.lower_part += 1;
            }
            extra.extend(rects);
            push_masks(plan, v.track_id, extra);
        }
        Ok(())
    }

    /// The rects to cover for what the locator found (every plausible candidate, grown by
    /// the margin), and those that count as the vehicle's plate.
    fn judge(
        &self,
        found: &[FoundPlate],
        vehicle: &Rect,
        width: u32,
        height: u32,
    ) -> (Vec<Rect>, Vec<Rect>) {
        let p = &self.params;
        let (vw, vh) = (
            (vehicle.x1 - vehicle.x0) as f32,
            (vehicle.y1 - vehicle.y0) as f32,
        );
        let (mut cover, mut accepted) = (Vec::new(), Vec::new());
        for f in found {
            let b = f.bounds();
            if !(b.w > 0.0 && b.h > 0.0 && b.x.is_finite() && b.y.is_finite()) {
                continue;
            }
            // A box as large as the vehicle is not a plate: the lower part stays, and
            // covering it would hide the vehicle for nothing.
            if b.w > p.max_width_share * vw || b.h > p.max_height_share * vh {
                continue;
            }
            let rect = grow(&b, p, width, height);
            if rect.is_empty() {
                continue;
            }
            let (cx, cy) = (b.x + b.w / 2.0, b.y + b.h / 2.0);
            let inside = cx >= vehicle.x0 as f32
                && cx < vehicle.x1 as f32
                && cy >= vehicle.y0 as f32
                && cy < vehicle.y1 as f32;
            let aspect = b.w / b.h;
            if inside && f.score >= p.accept_score && (0.7..=12.0).contains(&aspect) {
                accepted.push(rect);
            }
            cover.push(rect);
        }
        (cover, accepted)
    }
}

fn push_masks(plan: &mut FramePlan, track_id: u64, rects: Vec<Rect>) {
    for rect in rects {
        if !rect.is_empty() && !plan.masks.iter().any(|m| m.rect == rect) {
            plan.masks.push(Mask { track_id, rect });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Redactor, TrackBoxes};
    use crate::{RedactParams, VehicleMask};

    fn exact() -> RedactParams {
        RedactParams {
            margin: 0.0,
            margin_min_px: 0,
            hold_ms: 100,
            motion: None,
            vehicles: VehicleMask::Plate,
            ..Default::default()
        }
    }

    fn bb(x: f32, y: f32, w: f32, h: f32) -> BBox {
        BBox { x, y, w, h }
    }

    /// A locator answering from a list, counting its runs.
    struct Fixed(Vec<FoundPlate>, u32);
    impl PlateLocator for Fixed {
        type Error = ();
        fn locate(
            &mut self,
            _: &[u8],
            _: u32,
            _: u32,
            region: Rect,
        ) -> Result<Vec<FoundPlate>, ()> {
            self.1 += 1;
            Ok(self
                .0
                .iter()
                .filter(|f| {
                    let b = f.bounds();
                    b.x >= region.x0 as f32 && b.x + b.w <= region.x1 as f32
                })
                .copied()
                .collect())
        }
    }

    fn plate(x: f32, y: f32, w: f32, h: f32, score: f32) -> FoundPlate {
        FoundPlate {
            corners_px: [(x, y), (x + w, y), (x + w, y + h), (x, y + h)],
            bbox_px: bb(x, y, w, h),
            score,
        }
    }

    fn car(boxes: Vec<(i64, BBox)>) -> Redactor {
        let t = TrackBoxes {
            track_id: 7,
            label: "car".into(),
            boxes,
        };
        Redactor::new((200, 100), vec![t], &[], exact()).unwrap()
    }

    #[test]
    fn a_located_plate_replaces_the_lower_part() {
        let r = car(vec![(0, bb(50.0, 20.0, 100.0, 60.0))]);
        let mut plan = r.plan(0, 200, 100);
        assert_eq!(plan.vehicles.len(), 1);
        // Fail-safe: before refining, the lower half is covered.
        assert_eq!(plan.masks[0].rect.y0, 50);
        let mut m = PlateMasker::new(PlateParams::default()).unwrap();
        let mut loc = Fixed(vec![plate(90.0, 65.0, 20.0, 5.0, 0.8)], 0);
        m.refine(&mut plan, &[], &mut loc).unwrap();
        // 20x5 widened to 25x5 (5:1), grown by 15% of 25 = 3.75 and max(40% of 5, 3) = 3.
        assert_eq!(
            plan.masks,
            vec![Mask {
                track_id: 7,
                rect: Rect {
                    x0: 83,
                    y0: 62,
                    x1: 117,
                    y1: 73
                }
            }]
        );
        let f = m.figures();
        assert_eq!((f.vehicle_frames, f.located, f.lower_part), (1, 1, 0));
    }

    #[test]
    fn no_plate_weak_or_implausible_keeps_the_lower_part_and_covers_candidates() {
        let r = car(vec![(0, bb(50.0, 20.0, 100.0, 60.0))]);
        let mut m = PlateMasker::new(PlateParams::default()).unwrap();
        // Nothing found.
        let mut plan = r.plan(0, 200, 100);
        m.refine(&mut plan, &[], &mut Fixed(vec![], 0)).unwrap();
        assert_eq!(plan.masks.len(), 1);
        assert_eq!(plan.masks[0].rect.y0, 50);
        // A weak candidate high on the body: covered, and the lower part stays.
        let mut plan = r.plan(0, 200, 100);
        let mut m = PlateMasker::new(PlateParams::default()).unwrap();
        m.refine(
            &mut plan,
            &[],
            &mut Fixed(vec![plate(90.0, 25.0, 20.0, 5.0, 0.2)], 0),
        )
        .unwrap();
        assert_eq!(plan.masks.len(), 2);
        assert_eq!(plan.masks[0].rect.y0, 50);
        assert_eq!(plan.masks[1].rect.y0, 22);
        // A box the size of the vehicle is not a plate.
        let mut plan = r.plan(0, 200, 100);
        let mut m = PlateMasker::new(PlateParams::default()).unwrap();
        m.refine(
            &mut plan,
            &[],
            &mut Fixed(vec![plate(52.0, 20.0, 95.0, 55.0, 0.9)], 0),
        )
        .unwrap();
        assert_eq!(plan.masks.len(), 1);
        assert_eq!(m.figures().lower_part, 1);
    }

    #[test]
    fn small_vehicles_are_not_searched() {
        let r = car(vec![(0, bb(50.0, 20.0, 30.0, 20.0))]);
        let mut plan = r.plan(0, 200, 100);
        let mut m = PlateMasker::new(PlateParams::default()).unwrap();
        let mut loc = Fixed(vec![plate(60.0, 35.0, 8.0, 3.0, 0.9)], 0);
        m.refine(&mut plan, &[], &mut loc).unwrap();
        assert_eq!(loc.1, 0);
        assert_eq!(plan.masks.len(), 1);
        assert_eq!(m.figures().lower_part_small, 1);
    }

    #[test]
    fn a_still_vehicle_reuses_its_answer_a_moving_one_is_searched_each_frame() {
        let still = car(vec![(0, bb(50.0, 20.0, 100.0, 60.0))]);
        let mut m = PlateMasker::new(PlateParams {
            refresh_frames: 3,
            ..Default::default()
        })
        .unwrap();
        let mut loc = Fixed(vec![plate(90.0, 65.0, 20.0, 5.0, 0.8)], 0);
        for _ in 0..7 {
            let mut plan = still.plan(0, 200, 100);
            m.refine(&mut plan, &[], &mut loc).unwrap();
            assert_eq!(plan.masks.len(), 1);
        }
        assert_eq!(loc.1, 3, "frames 1, 4, 7");
        assert_eq!(m.figures().located_reused, 4);
        let moving = car(vec![
            (0, bb(0.0, 20.0, 100.0, 60.0)),
            (1000, bb(100.0, 20.0, 100.0, 60.0)),
        ]);
        let mut m = PlateMasker::new(PlateParams::default()).unwrap();
        let mut loc = Fixed(vec![], 0);
        for t in 0..5 {
            let mut plan = moving.plan(t * 40, 200, 100);
            m.refine(&mut plan, &[], &mut loc).unwrap();
        }
        assert_eq!(loc.1, 5);
    }

    #[test]
    fn plates_located_before_stay_covered_relative_to_the_box() {
        let r = car(vec![
            (0, bb(0.0, 20.0, 100.0, 60.0)),
            (1000, bb(100.0, 20.0, 100.0, 60.0)),
        ]);
        let mut m = PlateMasker::new(PlateParams::default()).unwrap();
        // Frame 1: the plate at 40..60 of a box at 0..100 (with the margin).
        let mut plan = r.plan(0, 200, 100);
        m.refine(
            &mut plan,
            &[],
            &mut Fixed(vec![plate(40.0, 65.0, 20.0, 5.0, 0.8)], 0),
        )
        .unwrap();
        // Frame 2, box moved by 10: the detector takes a sticker on the roof for the
        // plate; where the plate was (moved with the box) is still covered.
        let mut plan = r.plan(100, 200, 100);
        m.refine(
            &mut plan,
            &[],
            &mut Fixed(vec![plate(45.0, 25.0, 20.0, 5.0, 0.9)], 0),
        )
        .unwrap();
        let rects: Vec<Rect> = plan.masks.iter().map(|m| m.rect).collect();
        assert!(
            rects.iter().any(|r| r.x0 <= 47 && r.x1 >= 73 && r.y0 <= 62),
            "{rects:?}"
        );
        assert!(rects.iter().any(|r| r.y0 <= 22 && r.y1 >= 30), "{rects:?}");
    }

    #[test]
    fn bad_plate_settings_are_named() {
        PlateParams::default().validate().unwrap();
        let e = PlateParams {
            accept_score: 1.5,
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("accept_score"), "{e}");
    }
}
