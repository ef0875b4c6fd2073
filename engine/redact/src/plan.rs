//! Which rectangles to fill in a frame: tracks' boxes interpolated, held, scaled, grown.

use std::collections::BTreeSet;

use vigie_core::BBox;

use crate::motion::MotionCells;
use crate::{RedactError, RedactParams, VehicleMask};

/// The per-frame boxes of one track (as in a tube file), with its class label.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackBoxes {
    pub track_id: u64,
    /// Class label (`person`, `car`, `moving_object`, ...).
    pub label: String,
    /// (pts_ms, box in working pixels), time-ordered.
    pub boxes: Vec<(i64, BBox)>,
}

/// How an object class is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectClass {
    /// Covered whole.
    Person,
    /// A vehicle that carries a plate: its lower part, or whole ([`VehicleMask`]).
    PlateVehicle,
    /// Anything else (`moving_object`, bicycles, unknown labels): covered whole.
    Other,
}

/// The class of a label.
pub fn class_of(label: &str) -> ObjectClass {
    match label {
        "person" => ObjectClass::Person,
        "car" | "motorcycle" | "bus" | "truck" => ObjectClass::PlateVehicle,
        _ => ObjectClass::Other,
    }
}

/// A rectangle of output pixels, `[x0, x1) x [y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Rect {
    pub fn is_empty(&self) -> bool {
        self.x1 <= self.x0 || self.y1 <= self.y0
    }
    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x0 && x < self.x1 && y >= self.y0 && y < self.y1
    }
    pub fn area(&self) -> u64 {
        if self.is_empty() {
            0
        } else {
            u64::from(self.x1 - self.x0) * u64::from(self.y1 - self.y0)
        }
    }
    pub fn intersects(&self, o: &Rect) -> bool {
        !self.is_empty()
            && !o.is_empty()
            && self.x0 < o.x1
            && o.x0 < self.x1
            && self.y0 < o.y1
            && o.y0 < self.y1
    }
}

/// One track covered in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    pub track_id: u64,
    pub rect: Rect,
}

/// An unselected plate-carrying vehicle in one frame, with [`VehicleMask::Plate`]: its
/// lower part is already in [`FramePlan::masks`] (fail-safe);
/// [`PlateMasker::refine`](crate::PlateMasker::refine) replaces it by the plate where one
/// is located in this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VehicleInFrame {
    pub track_id: u64,
    /// The whole vehicle's box with the margin, clipped: where its plate is searched.
    pub rect: Rect,
}

/// What to do to one frame of `width` x `height`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FramePlan {
    pub width: u32,
    pub height: u32,
    /// Rectangles to fill (tracks not selected). Drawn last: they win over selected
    /// objects.
    pub masks: Vec<Mask>,
    /// The selected objects' boxes (with the margin): the motion mask leaves them clear.
    pub clear: Vec<Rect>,
    /// The boxes of unselected plate-carrying vehicles that move (grown by the motion
    /// mask's cell size and dilation, see [`MotionParams::moving_vehicles_explain`]): the
    /// motion there is theirs, so the motion mask leaves them to their own masks (the
    /// plate, or the lower part). Only these pixels: the rest of a blob that touches
    /// them is filled.
    ///
    /// [`MotionParams::moving_vehicles_explain`]: crate::MotionParams::moving_vehicles_explain
    pub explained: Vec<Rect>,
    /// The plate-carrying vehicles whose plate may be searched (covered on their lower
    /// part until then).
    pub vehicles: Vec<VehicleInFrame>,
}

impl FramePlan {
    /// Distinct tracks covered (a vehicle may have several rectangles: plate candidates).
    pub fn objects(&self) -> usize {
        let ids: BTreeSet<u64> = self
            .masks
            .iter()
            .filter(|m| !m.rect.is_empty())
            .map(|m| m.track_id)
            .collect();
        ids.len()
    }
}

/// What [`apply`] filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Pixels filled by track masks (not counting those the motion mask had filled).
    pub track_pixels: u64,
    /// Pixels filled by the motion mask.
    pub motion_pixels: u64,
}

/// A track moves at `t` when its box, between `t - MOVING_WINDOW_MS` and
/// `t + MOVING_WINDOW_MS` (within its detections), moves an edge by more than
/// `MOVING_MIN_SHARE` of its larger side and at least `MOVING_MIN_PX` working pixels: a
/// detector's jitter on a parked car stays below.
const MOVING_WINDOW_MS: i64 = 1_000;
const MOVING_MIN_SHARE: f32 = 0.04;
const MOVING_MIN_PX: f32 = 2.0;

/// The typical interval between a source's analysed frames (median gap between a track's
/// consecutive boxes), ms: how long a box should be held past a track's ends.
pub fn sampling_interval_ms(tracks: &[TrackBoxes]) -> Option<i64> {
    let mut gaps: Vec<i64> = tracks
        .iter()
        .flat_map(|t| t.boxes.windows(2).map(|w| w[1].0 - w[0].0))
        .filter(|g| *g > 0)
        .collect();
    if gaps.is_empty() {
        return None;
    }
    let mid = gaps.len() / 2;
    Some(*gaps.select_nth_unstable(mid).1)
}

/// The tracks of one source and what is selected: gives each frame's plan.
#[derive(Debug, Clone)]
pub struct Redactor {
    frame_size: (u32, u32),
    tracks: Vec<(TrackBoxes, ObjectClass)>,
    selected: BTreeSet<u64>,
    params: RedactParams,
}

fn lerp(a: &BBox, b: &BBox, t: f32) -> BBox {
    BBox {
        x: a.x + (b.x - a.x) * t,
        y: a.y + (b.y - a.y) * t,
        w: a.w + (b.w - a.w) * t,
        h: a.h + (b.h - a.h) * t,
    }
}

impl Redactor {
    /// `frame_size`: the working size the boxes are in. `selected`: tracks left clear
    /// (each must be one of `tracks`).
    pub fn new(
        frame_size: (u32, u32),
        tracks: Vec<TrackBoxes>,
        selected: &[u64],
        params: RedactParams,
    ) -> Result<Self, RedactError> {
        params.validate()?;
        if frame_size.0 == 0 || frame_size.1 == 0 {
            return Err(RedactError::BadFrameSize(frame_size.0, frame_size.1));
        }
        for t in &tracks {
            if let Some(w) = t.boxes.windows(2).find(|w| w[1].0 < w[0].0) {
                return Err(RedactError::Unordered {
                    track_id: t.track_id,
                    pts_ms: w[1].0,
                });
            }
        }
        for id in selected {
            if !tracks.iter().any(|t| t.track_id == *id) {
                return Err(RedactError::UnknownTrack(*id));
            }
        }
        Ok(Self {
            frame_size,
            tracks: tracks
                .into_iter()
                .filter(|t| !t.boxes.is_empty())
                .map(|t| {
                    let c = class_of(&t.label);
                    (t, c)
                })
                .collect(),
            selected: selected.iter().copied().collect(),
            params,
        })
    }

    pub fn params(&self) -> &RedactParams {
        &self.params
    }

    pub fn selected(&self) -> impl Iterator<Item = u64> + '_ {
        self.selected.iter().copied()
    }

    /// A track's box at `pts_ms` (working pixels): interpolated between detections, held
    /// for `hold_ms` past its ends, `None` outside.
    pub fn box_at(&self, t: &TrackBoxes, pts_ms: i64) -> Option<BBox> {
        let b = &t.boxes;
        let (first, last) = (b.first()?, b.last()?);
        if pts_ms < first.0 {
            return (first.0 - pts_ms <= self.params.hold_ms).then_some(first.1);
        }
        if pts_ms >= last.0 {
            return (pts_ms - last.0 <= self.params.hold_ms).then_some(last.1);
        }
        let i = b.partition_point(|(p, _)| *p <= pts_ms);
        let (p0, b0) = &b[i - 1];
        let (p1, b1) = &b[i];
        if *p0 == pts_ms || p1 == p0 {
            return Some(*b0);
        }
        Some(lerp(b0, b1, (pts_ms - p0) as f32 / (p1 - p0) as f32))
    }

    /// Whether a track's box moves around `pts_ms` (see `MOVING_WINDOW_MS`): a vehicle
    /// that does not move explains no motion.
    fn moving_at(&self, t: &TrackBoxes, pts_ms: i64) -> bool {
        let (Some(first), Some(last)) = (t.boxes.first(), t.boxes.last()) else {
            return false;
        };
        let at = |p: i64| self.box_at(t, p.clamp(first.0, last.0));
        let (Some(a), Some(b)) = (at(pts_ms - MOVING_WINDOW_MS), at(pts_ms + MOVING_WINDOW_MS))
        else {
            return false;
        };
        let shift = [
            (a.x - b.x).abs(),
            (a.y - b.y).abs(),
            (a.x + a.w - b.x - b.w).abs(),
            (a.y + a.h - b.y - b.h).abs(),
        ]
        .into_iter()
        .fold(0.0f32, f32::max);
        let side = a.w.max(a.h).max(b.w).max(b.h);
        shift > (MOVING_MIN_SHARE * side).max(MOVING_MIN_PX)
    }

    /// The unselected tracks present (boxes held included) at some time in
    /// `[from_ms, to_ms]`: what an export of that span covers.
    pub fn objects_between(&self, from_ms: i64, to_ms: i64) -> Vec<u64> {
        let h = self.params.hold_ms;
        self.tracks
            .iter()
            .filter(|(t, _)| !self.selected.contains(&t.track_id))
            .filter(|(t, _)| {
                let (a, b) = (t.boxes[0].0 - h, t.boxes[t.boxes.len() - 1].0 + h);
                a <= to_ms && b >= from_ms
            })
            .map(|(t, _)| t.track_id)
            .collect()
    }

    /// Whether an unselected vehicle that carries a plate is present at some time in
    /// `[from_ms, to_ms]` with [`VehicleMask::Plate`]: whether an export of that span needs
    /// the plate detector.
    pub fn plates_to_locate(&self, from_ms: i64, to_ms: i64) -> bool {
        self.params.vehicles == VehicleMask::Plate
            && self.objects_between(from_ms, to_ms).iter().any(|id| {
                self.tracks
                    .iter()
                    .any(|(t, c)| t.track_id == *id && *c == ObjectClass::PlateVehicle)
            })
    }

    /// A working-pixel box in output pixels, grown by the margin and clipped.
    fn to_rect(&self, b: &BBox, full_h: f32, sx: f32, sy: f32, w: u32, h: u32) -> Rect {
        let p = &self.params;
        let mx = (b.w * sx * p.margin).max(p.margin_min_px as f32);
        let my = (full_h * sy * p.margin).max(p.margin_min_px as f32);
        let clip = |v: f32, max: u32| v.max(0.0).min(max as f32) as u32;
        Rect {
            x0: clip((b.x * sx - mx).floor(), w),
            y0: clip((b.y * sy - my).floor(), h),
            x1: clip(((b.x + b.w) * sx + mx).ceil(), w),
            y1: clip(((b.y + b.h) * sy + my).ceil(), h),
        }
    }

    /// The working frame size the tracks' boxes are in.
    pub fn frame_size(&self) -> (u32, u32) {
        self.frame_size
    }

    /// What to fill in a crop of the working frame at `pts_ms` (a thumbnail): the crop's
    /// top-left corner `(x, y)` and size, in working pixels; rectangles in crop pixels.
    pub fn plan_crop(&self, pts_ms: i64, x: u32, y: u32, width: u32, height: u32) -> FramePlan {
        let full = self.plan(pts_ms, self.frame_size.0, self.frame_size.1);
        let shift = |r: &Rect| Rect {
            x0: r.x0.clamp(x, x + width) - x,
            y0: r.y0.clamp(y, y + height) - y,
            x1: r.x1.clamp(x, x + width) - x,
            y1: r.y1.clamp(y, y + height) - y,
        };
        FramePlan {
            width,
            height,
            masks: full
                .masks
                .iter()
                .map(|m| Mask {
                    track_id: m.track_id,
                    rect: shift(&m.rect),
                })
                .filter(|m| !m.rect.is_empty())
                .collect(),
            clear: full
                .clear
                .iter()
                .map(shift)
                .filter(|r| !r.is_empty())
                .collect(),
            explained: full
                .explained
                .iter()
                .map(shift)
                .filter(|r| !r.is_empty())
                .collect(),
            vehicles: full
                .vehicles
                .iter()
                .map(|v| VehicleInFrame {
                    track_id: v.track_id,
                    rect: shift(&v.rect),
                })
                .filter(|v| !v.rect.is_empty())
                .collect(),
        }
    }

    /// How far a moving vehicle's box explains motion beyond its edges, output pixels
    /// (x, y): what the motion mask adds around an object by itself, its cells
    /// ([`MotionParams::model_width`] across the frame) and their dilation. `None` when
    /// no motion mask runs or vehicles explain none.
    ///
    /// [`MotionParams::model_width`]: crate::MotionParams::model_width
    pub fn explain_margin_px(&self, width: u32, height: u32) -> Option<(f32, f32)> {
        let m = self
            .params
            .motion
            .as_ref()
            .filter(|m| m.moving_vehicles_explain)?;
        // The model's grid, as vigie-motion sizes it.
        let cells_x = m.model_width.min(width).max(1);
        let cells_y = ((u64::from(height) * u64::from(cells_x)) / u64::from(width.max(1))).max(1);
        let n = (m.dilate + 1) as f32;
        Some((
            (n * width as f32 / cells_x as f32).ceil(),
            (n * height as f32 / cells_y as f32).ceil(),
        ))
    }

    /// What to fill in the frame at `pts_ms`, of `width` x `height` pixels.
    pub fn plan(&self, pts_ms: i64, width: u32, height: u32) -> FramePlan {
        let sx = width as f32 / self.frame_size.0 as f32;
        let sy = height as f32 / self.frame_size.1 as f32;
        let mut plan = FramePlan {
            width,
            height,
            ..Default::default()
        };
        let explain_px = self.explain_margin_px(width, height);
        for (t, class) in &self.tracks {
            let Some(b) = self.box_at(t, pts_ms) else {
                continue;
            };
            if self.selected.contains(&t.track_id) {
                plan.clear
                    .push(self.to_rect(&b, b.h, sx, sy, width, height));
                continue;
            }
            let part = match (class, self.params.vehicles) {
                (ObjectClass::PlateVehicle, VehicleMask::LowerPart | VehicleMask::Plate) => {
                    let share = self.params.vehicle_lower_share;
                    BBox {
                        y: b.y + b.h * (1.0 - share),
                        h: b.h * share,
                        ..b
                    }
                }
                _ => b,
            };
            let rect = self.to_rect(&part, b.h, sx, sy, width, height);
            if let Some((gx, gy)) = explain_px.filter(|_| {
                *class == ObjectClass::PlateVehicle
                    && self.params.vehicles != VehicleMask::Whole
                    && self.moving_at(t, pts_ms)
            }) {
                let clip = |v: f32, max: u32| v.max(0.0).min(max as f32) as u32;
                let r = Rect {
                    x0: clip((b.x * sx).floor() - gx, width),
                    y0: clip((b.y * sy).floor() - gy, height),
                    x1: clip(((b.x + b.w) * sx).ceil() + gx, width),
                    y1: clip(((b.y + b.h) * sy).ceil() + gy, height),
                };
                if !r.is_empty() {
                    plan.explained.push(r);
                }
            }
            if (*class, self.params.vehicles) == (ObjectClass::PlateVehicle, VehicleMask::Plate) {
                let whole = self.to_rect(&b, b.h, sx, sy, width, height);
                if !whole.is_empty() {
                    plan.vehicles.push(VehicleInFrame {
                        track_id: t.track_id,
                        rect: whole,
                    });
                }
            }
            if !rect.is_empty() {
                plan.masks.push(Mask {
                    track_id: t.track_id,
                    rect,
                });
            }
        }
        plan
    }
}

fn fill_rect(img: &mut [u8], width: u32, r: &Rect, rgb: [u8; 3]) {
    for y in r.y0..r.y1 {
        let row = (y * width) as usize * 3;
        for px in img[row + r.x0 as usize * 3..row + r.x1 as usize * 3].chunks_exact_mut(3) {
            px.copy_from_slice(&rgb);
        }
    }
}

/// Fill a packed RGB24 frame: first the motion cells outside the selected boxes and the
/// boxes that explain their motion ([`FramePlan::explained`]), then every track mask (over everything, selected objects included: the mask wins).
pub fn apply(
    img: &mut [u8],
    plan: &FramePlan,
    motion: Option<&MotionCells>,
    rgb: [u8; 3],
) -> Applied {
    let (w, h) = (plan.width, plan.height);
    assert_eq!(img.len(), w as usize * h as usize * 3, "frame size");
    let mut out = Applied::default();
    if plan.masks.is_empty() && motion.is_none_or(|c| !c.any()) {
        return out;
    }
    // Which pixels are already filled, so that each counts once.
    let mut filled = vec![false; w as usize * h as usize];
    if let Some(cells) = motion.filter(|c| c.width > 0 && c.height > 0 && c.any()) {
        let col: Vec<usize> = (0..w)
            .map(|x| ((u64::from(x) * u64::from(cells.width)) / u64::from(w)) as usize)
            .collect();
        for y in 0..h {
            let cy = ((u64::from(y) * u64::from(cells.height)) / u64::from(h)) as usize;
            let crow = &cells.data[cy * cells.width as usize..(cy + 1) * cells.width as usize];
            if crow.iter().all(|c| *c == 0) {
                continue;
            }
            let clear: Vec<&Rect> = plan
                .clear
                .iter()
                .chain(&plan.explained)
                .filter(|r| y >= r.y0 && y < r.y1)
                .collect();
            for x in 0..w {
                if crow[col[x as usize]] == 0 || clear.iter().any(|r| r.contains(x, y)) {
                    continue;
                }
                let i = (y * w + x) as usize;
                img[i * 3..i * 3 + 3].copy_from_slice(&rgb);
                filled[i] = true;
                out.motion_pixels += 1;
            }
        }
    }
    for m in &plan.masks {
        let r = &m.rect;
        if r.is_empty() {
            continue;
        }
        for y in r.y0..r.y1 {
            let row = (y * w) as usize;
            for f in &mut filled[row + r.x0 as usize..row + r.x1 as usize] {
                if !*f {
                    *f = true;
                    out.track_pixels += 1;
                }
            }
        }
        fill_rect(img, w, r, rgb);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FILL_RGB;

    fn bb(x: f32, y: f32, w: f32, h: f32) -> BBox {
        BBox { x, y, w, h }
    }

    fn exact() -> RedactParams {
        RedactParams {
            margin: 0.0,
            margin_min_px: 0,
            hold_ms: 100,
            motion: None,
            ..Default::default()
        }
    }

    fn track(id: u64, label: &str, boxes: Vec<(i64, BBox)>) -> TrackBoxes {
        TrackBoxes {
            track_id: id,
            label: label.into(),
            boxes,
        }
    }

    #[test]
    fn a_thumbnail_crop_gets_the_masks_that_fall_in_it_in_crop_pixels() {
        // The selected person's thumbnail is the crop (50, 10) 40x60 of a 200x100 frame;
        // a bystander half inside it, another far away.
        let sel = track(1, "person", vec![(500, bb(50.0, 10.0, 40.0, 60.0))]);
        let near = track(2, "person", vec![(500, bb(80.0, 30.0, 30.0, 50.0))]);
        let far = track(3, "person", vec![(500, bb(150.0, 10.0, 20.0, 40.0))]);
        let r = Redactor::new((200, 100), vec![sel, near, far], &[1], exact()).unwrap();
        let p = r.plan_crop(500, 50, 10, 40, 60);
        assert_eq!((p.width, p.height), (40, 60));
        assert_eq!(
            p.masks,
            vec![Mask {
                track_id: 2,
                rect: Rect {
                    x0: 30,
                    y0: 20,
                    x1: 40,
                    y1: 60
                }
            }]
        );
        assert_eq!(
            p.clear,
            vec![Rect {
                x0: 0,
                y0: 0,
                x1: 40,
                y1: 60
            }]
        );
        let mut img = vec![200u8; 40 * 60 * 3];
        apply(&mut img, &p, None, FILL_RGB);
        let at = |x: usize, y: usize| img[(y * 40 + x) * 3];
        assert_eq!(at(35, 30), FILL_RGB[0], "the bystander is covered");
        assert_eq!(at(10, 30), 200, "the selected person stays clear");
    }

    #[test]
    fn boxes_are_interpolated_to_the_pixel_and_held_past_the_ends() {
        let t = track(
            1,
            "person",
            vec![
                (0, bb(10.0, 20.0, 40.0, 30.0)),
                (1000, bb(110.0, 20.0, 40.0, 30.0)),
            ],
        );
        let r = Redactor::new((200, 100), vec![t], &[], exact()).unwrap();
        let p = r.plan(250, 200, 100);
        assert_eq!(
            p.masks,
            vec![Mask {
                track_id: 1,
                rect: Rect {
                    x0: 35,
                    y0: 20,
                    x1: 75,
                    y1: 50
                }
            }]
        );
        // Held one interval past the last detection, gone after.
        assert_eq!(r.plan(1100, 200, 100).masks[0].rect.x0, 110);
        assert!(r.plan(1101, 200, 100).masks.is_empty());
        assert!(r.plan(-101, 200, 100).masks.is_empty());
        assert_eq!(r.plan(-100, 200, 100).masks.len(), 1);
        assert_eq!(r.objects_between(1100, 5000), vec![1]);
        assert!(r.objects_between(1101, 5000).is_empty());
    }

    #[test]
    fn boxes_scale_from_working_to_output_pixels_with_the_margin() {
        let t = track(1, "moving_object", vec![(0, bb(10.0, 10.0, 20.0, 10.0))]);
        let params = RedactParams {
            margin: 0.1,
            margin_min_px: 0,
            motion: None,
            ..Default::default()
        };
        let r = Redactor::new((100, 50), vec![t], &[], params).unwrap();
        // x2 in both directions: box 20..60 x 20..40, margin 10% of 40 = 4 and of 20 = 2.
        let p = r.plan(0, 200, 100);
        assert_eq!(
            p.masks[0].rect,
            Rect {
                x0: 16,
                y0: 18,
                x1: 64,
                y1: 42
            }
        );
        // Clipped at the frame's edges.
        let t = track(2, "person", vec![(0, bb(-5.0, 40.0, 20.0, 20.0))]);
        let r = Redactor::new((100, 50), vec![t], &[], exact()).unwrap();
        assert_eq!(
            r.plan(0, 100, 50).masks[0].rect,
            Rect {
                x0: 0,
                y0: 40,
                x1: 15,
                y1: 50
            }
        );
    }

    #[test]
    fn vehicles_lose_their_lower_part_or_all_of_it() {
        let car = track(3, "car", vec![(0, bb(0.0, 0.0, 40.0, 20.0))]);
        let r = Redactor::new((100, 100), vec![car.clone()], &[], exact()).unwrap();
        assert_eq!(
            r.plan(0, 100, 100).masks[0].rect,
            Rect {
                x0: 0,
                y0: 10,
                x1: 40,
                y1: 20
            }
        );
        let whole = RedactParams {
            vehicles: VehicleMask::Whole,
            ..exact()
        };
        let r = Redactor::new((100, 100), vec![car], &[], whole).unwrap();
        assert_eq!(
            r.plan(0, 100, 100).masks[0].rect,
            Rect {
                x0: 0,
                y0: 0,
                x1: 40,
                y1: 20
            }
        );
        assert_eq!(class_of("bicycle"), ObjectClass::Other);
    }

    #[test]
    fn plate_vehicles_are_listed_for_the_plate_search_in_frame_or_crop_pixels() {
        let car = track(3, "car", vec![(0, bb(20.0, 20.0, 40.0, 20.0))]);
        let person = track(4, "person", vec![(0, bb(70.0, 20.0, 10.0, 20.0))]);
        let r = Redactor::new((100, 100), vec![car.clone(), person], &[], exact()).unwrap();
        let p = r.plan(0, 100, 100);
        let whole = Rect {
            x0: 20,
            y0: 20,
            x1: 60,
            y1: 40,
        };
        assert_eq!(
            p.vehicles,
            vec![VehicleInFrame {
                track_id: 3,
                rect: whole
            }]
        );
        assert_eq!(p.objects(), 2);
        assert!(r.plates_to_locate(0, 0));
        // A thumbnail cut at (10, 10): the same vehicle in crop pixels.
        let c = r.plan_crop(0, 10, 10, 50, 50);
        assert_eq!(
            c.vehicles[0].rect,
            Rect {
                x0: 10,
                y0: 10,
                x1: 50,
                y1: 30
            }
        );
        // Lower part or whole: nothing to search.
        let lower = RedactParams {
            vehicles: VehicleMask::LowerPart,
            ..exact()
        };
        let r = Redactor::new((100, 100), vec![car], &[], lower).unwrap();
        assert!(r.plan(0, 100, 100).vehicles.is_empty());
        assert!(!r.plates_to_locate(0, 0));
    }

    #[test]
    fn selected_stays_clear_but_an_overlapping_mask_wins() {
        let sel = track(1, "person", vec![(0, bb(10.0, 10.0, 20.0, 20.0))]);
        let other = track(2, "person", vec![(0, bb(25.0, 10.0, 20.0, 20.0))]);
        let r = Redactor::new((100, 100), vec![sel, other], &[1], exact()).unwrap();
        let p = r.plan(0, 100, 100);
        assert_eq!(
            p.clear,
            vec![Rect {
                x0: 10,
                y0: 10,
                x1: 30,
                y1: 30
            }]
        );
        assert_eq!(p.masks.len(), 1);
        let mut img = vec![200u8; 100 * 100 * 3];
        let a = apply(&mut img, &p, None, FILL_RGB);
        let at = |x: usize, y: usize| [img[(y * 100 + x) * 3], img[(y * 100 + x) * 3 + 1]];
        assert_eq!(at(15, 15), [200, 200], "selected clear");
        assert_eq!(at(27, 15), [16, 16], "overlap: the mask wins");
        assert_eq!(at(40, 25), [16, 16]);
        assert_eq!(at(50, 25), [200, 200]);
        assert_eq!(a.track_pixels, 400);
        assert!(matches!(
            Redactor::new((100, 100), vec![], &[7], exact()),
            Err(RedactError::UnknownTrack(7))
        ));
    }

    #[test]
    fn a_moving_vehicle_explains_the_motion_in_its_box_grown_by_the_motion_cells() {
        // 384 px wide over 192 cells: 2 px a cell, dilated by one: 4 px on each side.
        let moving = track(
            1,
            "car",
            vec![
                (0, bb(10.0, 20.0, 40.0, 20.0)),
                (1000, bb(60.0, 20.0, 40.0, 20.0)),
            ],
        );
        let parked = track(
            2,
            "car",
            vec![
                (0, bb(100.0, 50.0, 40.0, 20.0)),
                (1000, bb(101.0, 50.0, 40.0, 20.0)),
            ],
        );
        let walker = track(
            3,
            "person",
            vec![
                (0, bb(10.0, 60.0, 8.0, 20.0)),
                (1000, bb(90.0, 60.0, 8.0, 20.0)),
            ],
        );
        let with_motion = RedactParams {
            motion: Some(crate::MotionParams::default()),
            ..exact()
        };
        let tracks = vec![moving.clone(), parked, walker];
        let r = Redactor::new((192, 96), tracks.clone(), &[], with_motion.clone()).unwrap();
        assert_eq!(r.explain_margin_px(384, 192), Some((4.0, 4.0)));
        let p = r.plan(500, 384, 192);
        // At 500 ms the car is at (35, 20) 40x20 working, (70, 40) 80x40 output.
        assert_eq!(
            p.explained,
            vec![Rect {
                x0: 66,
                y0: 36,
                x1: 154,
                y1: 84
            }],
            "the moving car only: the parked one (1 px in 2 s) and the person explain nothing"
        );
        // Off, or vehicles covered whole: nothing explained.
        let mut off = with_motion.clone();
        off.motion.as_mut().unwrap().moving_vehicles_explain = false;
        let r = Redactor::new((192, 96), tracks.clone(), &[], off).unwrap();
        assert!(r.plan(500, 384, 192).explained.is_empty());
        let whole = RedactParams {
            vehicles: VehicleMask::Whole,
            ..with_motion
        };
        let r = Redactor::new((192, 96), tracks, &[], whole).unwrap();
        assert!(r.plan(500, 384, 192).explained.is_empty());
        let r = Redactor::new((192, 96), vec![moving], &[], exact()).unwrap();
        assert!(r.plan(500, 384, 192).explained.is_empty(), "no motion mask");
    }

    #[test]
    fn motion_in_an_explaining_box_is_not_filled_but_the_rest_of_its_blob_is() {
        // One blob of motion cells over the whole 8x4 grid; the box explains its left half.
        let cells = MotionCells {
            width: 8,
            height: 4,
            data: vec![1; 32],
        };
        let plan = FramePlan {
            width: 16,
            height: 8,
            explained: vec![Rect {
                x0: 0,
                y0: 0,
                x1: 8,
                y1: 8,
            }],
            masks: vec![Mask {
                track_id: 1,
                rect: Rect {
                    x0: 2,
                    y0: 6,
                    x1: 6,
                    y1: 8,
                },
            }],
            ..Default::default()
        };
        let mut img = vec![200u8; 16 * 8 * 3];
        let a = apply(&mut img, &plan, Some(&cells), FILL_RGB);
        assert_eq!(a.motion_pixels, 64, "the right half only");
        assert_eq!(a.track_pixels, 8, "the plate");
        assert_eq!(img[(3 * 16 + 4) * 3], 200, "explained: clear");
        assert_eq!(
            img[(7 * 16 + 3) * 3],
            FILL_RGB[0],
            "the plate mask still wins"
        );
        assert_eq!(img[(3 * 16 + 12) * 3], FILL_RGB[0], "unexplained: filled");
    }

    #[test]
    fn exports_recorded_before_the_setting_read_as_vehicles_covered_whole() {
        let old = serde_json::json!({
            "min_diff": 14.0, "k_sigma": 2.5, "min_area_frac": 0.0008, "dilate": 1,
            "model_width": 192
        });
        let p: crate::MotionParams = serde_json::from_value(old).unwrap();
        assert!(!p.moving_vehicles_explain);
        assert!(crate::MotionParams::default().moving_vehicles_explain);
    }

    #[test]
    fn damaged_boxes_are_refused() {
        let t = track(
            4,
            "person",
            vec![(10, bb(0.0, 0.0, 1.0, 1.0)), (5, bb(0.0, 0.0, 1.0, 1.0))],
        );
        assert_eq!(
            Redactor::new((10, 10), vec![t], &[], exact()).unwrap_err(),
            RedactError::Unordered {
                track_id: 4,
                pts_ms: 5
            }
        );
        assert!(Redactor::new((0, 10), vec![], &[], exact()).is_err());
    }

    #[test]
    fn the_sampling_interval_is_the_median_gap() {
        let t = track(
            1,
            "person",
            vec![
                (0, bb(0.0, 0.0, 1.0, 1.0)),
                (200, bb(0.0, 0.0, 1.0, 1.0)),
                (400, bb(0.0, 0.0, 1.0, 1.0)),
                (5000, bb(0.0, 0.0, 1.0, 1.0)),
            ],
        );
        assert_eq!(sampling_interval_ms(&[t]), Some(200));
        assert_eq!(sampling_interval_ms(&[]), None);
    }
}
