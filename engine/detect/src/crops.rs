//! Detection on crops of a frame: where things move, at the picture's own scale.
//!
//! Why: the motion gate and the tracker already know where the objects of a frame can be
//! (moving regions, live tracks' predicted boxes). A frame letterboxed into the network's
//! 416x416 input is shrunk (a 640x480 working frame by 0.65), so a small, far object
//! gets fewer pixels than the frame has for it. A *window* is a rectangle of the frame at
//! most the input's size, given to the network without scaling (scale 1: every frame pixel
//! is one input pixel); the regions are packed into as few windows as possible.
//!
//! What it costs: NanoDet's input size is fixed (416x416 here), so each window costs one batch
//! item, as much as the whole frame letterboxed (`benches/detect.rs` on 2 threads of a
//! loaded 2-core machine: batch 2 about 2.1x and batch 4 about 3-4x one item). Windows
//! therefore never make a run cheaper than the whole frame; the caller's rule
//! ([`WindowRule::max_windows`], 1 in `vigie-app`) keeps them to the frames where one
//! window holds every region, so the run costs what the whole frame would and small
//! objects get 1 / 0.65 times more pixels (a 640-wide working frame). With a model of a
//! smaller input, the same plan would make runs cheaper.
//!
//! Exactness: a window's offset is an integer number of frame pixels and its scale is 1,
//! so a box maps back by one addition ([`Window::to_frame`]). Overlapping windows see an
//! object twice: boxes are merged by the detector's NMS (per class, car/truck/bus as one
//! group) in frame pixels. An
//! object cut by a window's inner edge (an edge that is not the frame's border) gives a
//! partial box: it is dropped when another window holds the whole box, kept otherwise (a
//! partial box is better than none; regions are grown by a margin before windows are
//! placed so this is rare).
//!
//! Everything is a function of the regions and the frame size: the same frame gives the
//! same windows and the same boxes.

use vigie_core::RgbFrame;

use crate::BBox;

/// A rectangle of the frame given to the network at scale 1 (frame pixels, integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Window {
    /// A box in the window's pixels -> frame pixels (one integer offset per axis).
    pub fn to_frame(&self, b: BBox) -> BBox {
        BBox {
            x: b.x + self.x as f32,
            y: b.y + self.y as f32,
            w: b.w,
            h: b.h,
        }
    }

    /// Whether `b` (frame pixels) lies inside the window, `tol_px` allowed.
    pub fn holds(&self, b: &BBox, tol_px: f32) -> bool {
        b.x >= self.x as f32 - tol_px
            && b.y >= self.y as f32 - tol_px
            && b.x + b.w <= (self.x + self.w) as f32 + tol_px
            && b.y + b.h <= (self.y + self.h) as f32 + tol_px
    }

    /// Whether `b` (frame pixels) reaches within `tol_px` of an edge of the window that is
    /// not the frame's border (`frame_w` x `frame_h`): the object may go on beyond it.
    pub fn touches_inner_edge(&self, b: &BBox, frame_w: u32, frame_h: u32, tol_px: f32) -> bool {
        let (x0, y0) = (self.x as f32, self.y as f32);
        let (x1, y1) = ((self.x + self.w) as f32, (self.y + self.h) as f32);
        (self.x > 0 && b.x <= x0 + tol_px)
            || (self.y > 0 && b.y <= y0 + tol_px)
            || (self.x + self.w < frame_w && b.x + b.w >= x1 - tol_px)
            || (self.y + self.h < frame_h && b.y + b.h >= y1 - tol_px)
    }

    pub fn area_px(&self) -> u64 {
        self.w as u64 * self.h as u64
    }

    /// The window's pixels as a frame of its own (same index and pts as `frame`).
    pub fn cut(&self, frame: &RgbFrame, out: &mut RgbFrame) {
        let stride = frame.width as usize * 3;
        out.index = frame.index;
        out.pts_ms = frame.pts_ms;
        out.wall_ms = frame.wall_ms;
        out.is_keyframe = frame.is_keyframe;
        out.width = self.w;
        out.height = self.h;
        out.data.clear();
        out.data.reserve(self.w as usize * self.h as usize * 3);
        for y in self.y..self.y + self.h {
            let row = y as usize * stride + self.x as usize * 3;
            out.data
                .extend_from_slice(&frame.data[row..row + self.w as usize * 3]);
        }
    }
}

/// How regions become windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowRule {
    /// At most this many windows; more regions than that fit in: the whole frame.
    pub max_windows: usize,
    /// Each region is grown by this many frame pixels on every side before windows are
    /// placed, so an object slightly larger than its region is not cut by an edge.
    pub margin_px: f32,
}

impl Default for WindowRule {
    fn default() -> Self {
        WindowRule {
            max_windows: 1,
            margin_px: 8.0,
        }
    }
}

/// The windows (at most the input's `input_w` x `input_h`, at scale 1) that hold every
/// region (frame pixels) grown by `rule.margin_px`, or `None` when the whole frame is the
/// better input: no region, a frame no larger than the input on both axes (the letterbox
/// already shows it at scale >= 1), a region larger than a window, or more windows needed
/// than `rule.max_windows`.
///
/// Greedy and deterministic: regions sorted by their top-left corner, each added to the
/// first window whose united extent still fits, else opening a new one; each window is
/// then the input's size (or the frame's, where smaller), centred on what it holds and
/// moved inside the frame.
pub fn plan_windows(
    frame_w: u32,
    frame_h: u32,
    input_w: u32,
    input_h: u32,
    regions: &[BBox],
    rule: &WindowRule,
) -> Option<Vec<Window>> {
    if regions.is_empty() || frame_w == 0 || frame_h == 0 {
        return None;
    }
    if frame_w <= input_w && frame_h <= input_h {
        return None;
    }
    let (win_w, win_h) = (input_w.min(frame_w), input_h.min(frame_h));
    let (fw, fh) = (frame_w as f32, frame_h as f32);
    // Regions grown and clipped to the frame, as (x0, y0, x1, y1).
    let mut grown: Vec<[f32; 4]> = regions
        .iter()
        .filter(|r| r.w.is_finite() && r.h.is_finite() && r.x.is_finite() && r.y.is_finite())
        .map(|r| {
            [
                (r.x - rule.margin_px).clamp(0.0, fw),
                (r.y - rule.margin_px).clamp(0.0, fh),
                (r.x + r.w.max(0.0) + rule.margin_px).clamp(0.0, fw),
                (r.y + r.h.max(0.0) + rule.margin_px).clamp(0.0, fh),
            ]
        })
        .filter(|r| r[2] > r[0] && r[3] > r[1])
        .collect();
    if grown.is_empty() {
        return None;
    }
    grown.sort_by(|a, b| {
        a[0].total_cmp(&b[0])
            .then(a[1].total_cmp(&b[1]))
            .then(a[2].total_cmp(&b[2]))
            .then(a[3].total_cmp(&b[3]))
    });
    let fits = |e: &[f32; 4]| e[2] - e[0] <= win_w as f32 && e[3] - e[1] <= win_h as f32;
    let mut extents: Vec<[f32; 4]> = Vec::new();
    for r in grown {
        if !fits(&r) {
            return None;
        }
        let joined = extents.iter_mut().find_map(|e| {
            let u = [
                e[0].min(r[0]),
                e[1].min(r[1]),
                e[2].max(r[2]),
                e[3].max(r[3]),
            ];
            fits(&u).then(|| *e = u)
        });
        if joined.is_none() {
            extents.push(r);
            if extents.len() > rule.max_windows {
                return None;
            }
        }
    }
    Some(
        extents
            .iter()
            .map(|e| {
                let place = |lo: f32, hi: f32, size: u32, max: u32| -> u32 {
                    let centre = (lo + hi) / 2.0;
                    let start = (centre - size as f32 / 2.0).round().max(0.0) as u32;
                    start.min(max - size)
                };
                Window {
                    x: place(e[0], e[2], win_w, frame_w),
                    y: place(e[1], e[3], win_h, frame_h),
                    w: win_w,
                    h: win_h,
                }
            })
            .collect(),
    )
}

/// Area of the union of `windows` (frame pixels), exact.
pub fn union_area_px(windows: &[Window]) -> u64 {
    let mut xs: Vec<u32> = windows.iter().flat_map(|w| [w.x, w.x + w.w]).collect();
    xs.sort_unstable();
    xs.dedup();
    let mut total = 0u64;
    for pair in xs.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let mut spans: Vec<(u32, u32)> = windows
            .iter()
            .filter(|w| w.x <= a && w.x + w.w >= b)
            .map(|w| (w.y, w.y + w.h))
            .collect();
        spans.sort_unstable();
        let (mut covered, mut end) = (0u64, 0u32);
        for (y0, y1) in spans {
            let s = y0.max(end);
            if y1 > s {
                covered += (y1 - s) as u64;
            }
            end = end.max(y1);
        }
        total += covered * (b - a) as u64;
    }
    total
}

/// Boxes of each window (already in frame pixels) -> one list: a box touching an inner
/// edge of its window is dropped when another window holds it whole; then `nms` merges
/// the duplicates of overlapping windows. `key` gives a box; `nms` is the detector's
/// per-class suppression.
pub fn merge_windows<T>(
    per_window: Vec<(Window, Vec<T>)>,
    frame_w: u32,
    frame_h: u32,
    bbox: impl Fn(&T) -> BBox,
    nms: impl FnOnce(Vec<T>) -> Vec<T>,
) -> Vec<T> {
    /// Within this many pixels of an edge, a box touches it.
    const EDGE_TOL_PX: f32 = 2.0;
    let windows: Vec<Window> = per_window.iter().map(|(w, _)| *w).collect();
    let mut all = Vec::new();
    for (i, (win, dets)) in per_window.into_iter().enumerate() {
        for d in dets {
            let b = bbox(&d);
            let cut = win.touches_inner_edge(&b, frame_w, frame_h, EDGE_TOL_PX);
            let whole_elsewhere = windows.iter().enumerate().any(|(j, o)| {
                j != i
                    && o.holds(&b, 0.0)
                    && !o.touches_inner_edge(&b, frame_w, frame_h, EDGE_TOL_PX)
            });
            if !(cut && whole_elsewhere) {
                all.push(d);
            }
        }
    }
    nms(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32, w: f32, h: f32) -> BBox {
        BBox { x, y, w, h }
    }

    const RULE: WindowRule = WindowRule {
        max_windows: 4,
        margin_px: 8.0,
    };

    #[test]
    fn one_small_region_gets_one_window_of_the_input_size_around_it() {
        let w = plan_windows(640, 480, 416, 416, &[b(500.0, 300.0, 40.0, 100.0)], &RULE).unwrap();
        assert_eq!(w.len(), 1);
        let w = w[0];
        assert_eq!((w.w, w.h), (416, 416));
        // Centred on x 520 would end past the frame: moved inside (640 - 416).
        assert_eq!(w.x, 224);
        assert_eq!(w.y, 64);
        assert!(w.holds(&b(492.0, 292.0, 56.0, 116.0), 0.0));
    }

    #[test]
    fn a_frame_no_larger_than_the_input_or_a_region_larger_than_a_window_is_whole() {
        let r = [b(10.0, 10.0, 40.0, 40.0)];
        assert_eq!(plan_windows(416, 234, 416, 416, &r, &RULE), None);
        assert_eq!(plan_windows(640, 480, 416, 416, &[], &RULE), None);
        assert_eq!(
            plan_windows(640, 480, 416, 416, &[b(0.0, 0.0, 500.0, 100.0)], &RULE),
            None
        );
    }

    #[test]
    fn regions_far_apart_need_two_windows_and_the_rule_caps_them() {
        let r = [b(10.0, 10.0, 40.0, 80.0), b(590.0, 380.0, 40.0, 80.0)];
        // 640x480: the two regions do not fit in one 416-pixel window.
        let w = plan_windows(640, 480, 416, 416, &r, &RULE).unwrap();
        assert_eq!(w.len(), 2);
        let one = WindowRule {
            max_windows: 1,
            ..RULE
        };
        assert_eq!(plan_windows(640, 480, 416, 416, &r, &one), None);
        // Near each other: one window.
        let r = [b(100.0, 100.0, 40.0, 80.0), b(300.0, 250.0, 40.0, 80.0)];
        assert_eq!(plan_windows(640, 480, 416, 416, &r, &one).unwrap().len(), 1);
        // A 16:9 frame shorter than the input: windows are the frame's height.
        let w = plan_windows(640, 360, 416, 416, &r[..1], &one).unwrap();
        assert_eq!((w[0].y, w[0].w, w[0].h), (0, 416, 360));
    }

    #[test]
    fn the_plan_does_not_depend_on_the_regions_order() {
        let r = [
            b(10.0, 10.0, 40.0, 80.0),
            b(590.0, 380.0, 40.0, 80.0),
            b(300.0, 200.0, 30.0, 60.0),
        ];
        let mut rev = r;
        rev.reverse();
        assert_eq!(
            plan_windows(640, 480, 416, 416, &r, &RULE),
            plan_windows(640, 480, 416, 416, &rev, &RULE)
        );
    }

    #[test]
    fn boxes_map_back_to_frame_pixels_exactly() {
        let w = Window {
            x: 224,
            y: 64,
            w: 416,
            h: 416,
        };
        assert_eq!(
            w.to_frame(b(268.0, 228.0, 56.0, 116.0)),
            b(492.0, 292.0, 56.0, 116.0)
        );
        // Through the network's letterbox geometry: a window of the input's size is at
        // scale 1 with no padding, so input pixels are window pixels.
        let g =
            crate::preprocess::Geometry::new(vigie_policy::Resize::Letterbox, 416, 416, 416, 416);
        assert_eq!(
            g.to_frame(b(10.5, 20.25, 30.0, 40.0)),
            b(10.5, 20.25, 30.0, 40.0)
        );
        // A 416x360 window (16:9 working frame): centred with 28 padding rows above.
        let g =
            crate::preprocess::Geometry::new(vigie_policy::Resize::Letterbox, 416, 416, 416, 360);
        assert_eq!((g.offset_y, g.content_h), (28, 360));
        assert_eq!(
            g.to_frame(b(10.0, 48.0, 30.0, 40.0)),
            b(10.0, 20.0, 30.0, 40.0)
        );
    }

    #[test]
    fn cut_copies_the_window_pixels() {
        let frame = RgbFrame {
            index: 3,
            ..RgbFrame::from_rgb(6, 4, (0..6 * 4 * 3).map(|i| i as u8).collect(), 120)
        };
        let mut out = RgbFrame::default();
        Window {
            x: 2,
            y: 1,
            w: 3,
            h: 2,
        }
        .cut(&frame, &mut out);
        assert_eq!((out.width, out.height, out.pts_ms), (3, 2, 120));
        // Row 1, columns 2..5: bytes (1 * 6 + 2) * 3 ..
        assert_eq!(&out.data[..9], &[24, 25, 26, 27, 28, 29, 30, 31, 32]);
        assert_eq!(&out.data[9..], &[42, 43, 44, 45, 46, 47, 48, 49, 50]);
    }

    #[test]
    fn a_box_cut_by_an_inner_edge_gives_way_to_the_whole_one_and_duplicates_merge() {
        let left = Window {
            x: 0,
            y: 0,
            w: 416,
            h: 416,
        };
        let right = Window {
            x: 224,
            y: 0,
            w: 416,
            h: 416,
        };
        // Person at x 400..450: cut by `left`'s right edge (416), whole in `right`.
        let cut = (0.9f32, b(400.0, 100.0, 16.0, 100.0));
        let whole = (0.8f32, b(400.0, 100.0, 50.0, 100.0));
        // Another person seen whole by both windows (duplicates).
        let dup_a = (0.7f32, b(300.0, 200.0, 40.0, 90.0));
        let dup_b = (0.6f32, b(301.0, 200.0, 40.0, 90.0));
        let merged = merge_windows(
            vec![(left, vec![cut, dup_a]), (right, vec![whole, dup_b])],
            640,
            480,
            |d| d.1,
            |v| crate::nms::nms_per_class(v, |d| (0, d.0, d.1), 0.6, 100),
        );
        let scores: Vec<f32> = merged.iter().map(|d| d.0).collect();
        assert_eq!(scores, vec![0.8, 0.7]);
        // Cut and seen by no other window: kept.
        let kept = merge_windows(vec![(left, vec![cut])], 640, 480, |d| d.1, |v| v);
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn union_area_counts_overlaps_once() {
        let a = Window {
            x: 0,
            y: 0,
            w: 10,
            h: 10,
        };
        let c = Window {
            x: 5,
            y: 5,
            w: 10,
            h: 10,
        };
        assert_eq!(union_area_px(&[a]), 100);
        assert_eq!(union_area_px(&[a, c]), 175);
        assert_eq!(union_area_px(&[a, a]), 100);
    }
}
