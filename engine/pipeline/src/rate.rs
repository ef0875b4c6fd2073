//! When the detector runs: as often as the motion needs, decided from the frame's content.
//!
//! Why: on two CPU cores the detector costs 20-30 ms a frame and everything else of a
//! frame under 3 ms, so the number of frames given to the detector *is* the cost of an
//! analysis. Between two detections the tracker's motion model (Kalman, constant velocity)
//! already knows where each live track will be, and the motion gate knows where something
//! moves. A frame is worth detecting only when one of them cannot answer:
//!
//! 1. the gate's refresh (`AnalyzeConfig::gate_refresh_ms`) is due: nothing that arrived
//!    unseen is missed for long, still objects are re-detected;
//! 2. a detection waits for confirmation (`Tracker::has_tentative`): it needs the next
//!    frames' detections;
//! 3. the motion gate sees motion that nothing explains: foreground outside every live
//!    track's predicted box (grown by [`EXPLAINED_MARGIN_H`] of its height) and outside
//!    the foreground the detector examined at its last run and found nothing in (grown
//!    by [`EXAMINED_MARGIN_PX`]): something new came in, or something the detector did
//!    not recognise has moved on (a shadow, a shape too small to be an object, is looked at
//!    again each time it has moved a few pixels, not on every frame; leaves moving in
//!    place are not). Where that run returned a box that made no track yet (a weak or
//!    unconfirmed detection), the region stays unexplained: it may make a track at the
//!    next run (on TUD-Stadtmitte, treating such boxes as examined delayed the birth of
//!    partly hidden pedestrians' tracks: MOTA 0.646 -> 0.619);
//! 4. a moving track was lost at the last detection (occlusion, a missed box): it is looked
//!    for on every frame until found or given up, so the tracker's buffer is not wasted;
//! 5. a moving track is too young for its speed to be measured (under 0.8 s of
//!    detections);
//! 6. otherwise, the fastest moving track sets the rate: the detector runs before any track
//!    could have moved more than `max_step_h` of its own height since the last detection
//!    (a track moving 0.5 heights per second with the default 0.2 is detected every
//!    0.4 s; a car crossing the frame, every sampled frame). On vtest.avi (3-pixel
//!    examined margin) 0.3 saved 30 % of the detector's frames against 19 % with 0.2, but
//!    split tracks and switched ids: IDF1 0.935 against the run with the detector on
//!    every frame, 0.997 with 0.2.
//!
//! Where the detector looks ([`detect_regions`], with `AnalyzeConfig::detect_regions`):
//! the refresh examines the whole frame; every other run may examine only the moving
//! regions (the mask's blobs), the live tracks where the motion model puts them (so a
//! stopped object a track follows is covered though nothing moves there) and the last
//! run's boxes (a detection waiting for confirmation). The detector chooses crops or the
//! whole frame for them (`ObjectDetector::detect_regions`).
//!
//! Tracks standing still set no rate: the refresh keeps them (the tracker gives them a
//! longer buffer). Frames not detected are not given to the tracker at all, so no track is
//! marked lost for a frame nobody looked at.
//!
//! Every input is the frame's content and its timestamp (mask, tracks, pts), never a clock
//! or a queue length: the same file gives the same detected frames and the same tracks
//! whatever the machine's load.

use vigie_core::BBox;
use vigie_motion::ForegroundMask;
use vigie_track::{ActiveTrack, TrackState};

/// Foreground within this share of a track's height around its predicted box is that
/// track's own motion (its limbs, its shadow, the mask's dilation).
pub const EXPLAINED_MARGIN_H: f32 = 0.3;

/// The foreground of the last detected frame, grown by this many pixels of the motion
/// model's image (1 of 192: about 3 pixels of a 640-pixel-wide frame), counts as
/// examined. With 3 the 1080p street clip lost one of its three tracks (a weakly detected
/// object was looked at too rarely to make a track); with 1 it kept all three.
pub const EXAMINED_MARGIN_PX: usize = 1;

/// Settings of the detection rate (part of [`crate::AnalyzeConfig`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DetectRateConfig {
    /// Adapt the rate to the live tracks (this module's rule). `false`: the detector runs
    /// on every frame where the gate sees motion or a track moves (the rule before it).
    pub adaptive: bool,
    /// The farthest, in its own box heights, a moving track may travel between two
    /// detections (0.05..=2).
    pub max_step_h: f32,
    /// Foreground of the last detected frame grown by this many pixels of the motion
    /// model's image counts as examined (0: only the live tracks explain motion, so any
    /// untracked motion is detected on every frame).
    pub examined_margin_px: usize,
}

impl Default for DetectRateConfig {
    fn default() -> Self {
        Self {
            adaptive: true,
            max_step_h: 0.2,
            examined_margin_px: EXAMINED_MARGIN_PX,
        }
    }
}

impl DetectRateConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(self.max_step_h.is_finite() && (0.05..=2.0).contains(&self.max_step_h)) {
            return Err(format!(
                "invalid detect_rate.max_step_h {} (expected >= 0.05, <= 2 box heights)",
                self.max_step_h
            ));
        }
        if self.examined_margin_px > 16 {
            return Err(format!(
                "invalid detect_rate.examined_margin_px {} (expected <= 16 pixels of the motion model's image)",
                self.examined_margin_px
            ));
        }
        Ok(())
    }
}

/// Why a frame went to the detector (the first reason that applies, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectReason {
    /// No motion gate: every frame.
    Ungated,
    /// The gate's refresh was due.
    Refresh,
    /// A detection waits for confirmation.
    Tentative,
    /// Motion that no live track explains.
    UnexplainedMotion,
    /// A moving track was lost at the last detection.
    LostTrack,
    /// A moving track too young for its speed to be known.
    YoungTrack,
    /// The fastest moving track would otherwise move more than `max_step_h`.
    TrackStep,
    /// Non-adaptive rule: the gate was open or a track moved.
    GateOrMovingTrack,
}

/// How many frames went to the detector for each reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DetectReasons {
    pub ungated: u64,
    pub refresh: u64,
    pub tentative: u64,
    pub unexplained_motion: u64,
    pub lost_track: u64,
    pub young_track: u64,
    pub track_step: u64,
    pub gate_or_moving_track: u64,
}

impl DetectReasons {
    pub fn count(&mut self, r: DetectReason) {
        let c = match r {
            DetectReason::Ungated => &mut self.ungated,
            DetectReason::Refresh => &mut self.refresh,
            DetectReason::Tentative => &mut self.tentative,
            DetectReason::UnexplainedMotion => &mut self.unexplained_motion,
            DetectReason::LostTrack => &mut self.lost_track,
            DetectReason::YoungTrack => &mut self.young_track,
            DetectReason::TrackStep => &mut self.track_step,
            DetectReason::GateOrMovingTrack => &mut self.gate_or_moving_track,
        };
        *c += 1;
    }
}

/// What the rule sees of one frame.
pub struct FrameFacts<'a> {
    pub pts_ms: i64,
    /// pts of the previous analysed frame (the sampling interval is measured from it).
    pub prev_pts_ms: Option<i64>,
    /// pts of the last frame given to the detector.
    pub last_detect_ms: Option<i64>,
    pub mask: &'a ForegroundMask,
    pub frame_size: (u32, u32),
    /// Confirmed live tracks, and where the motion model puts them in this frame (same
    /// order).
    pub live: &'a [ActiveTrack],
    pub predicted: &'a [BBox],
    pub has_tentative: bool,
    /// What the detector examined at its last run ([`examined_area`]; empty: nothing).
    pub examined: &'a [bool],
}

/// The settings the rule reads besides its own.
pub struct RuleSettings<'a> {
    pub rate: &'a DetectRateConfig,
    pub motion_gate: bool,
    pub gate_refresh_ms: i64,
    /// Below this speed (box heights per second) a track stands still.
    pub still_speed_h_s: f32,
    /// Share of the mask's pixels in foreground outside the live tracks that calls for the
    /// detector (the gate's own threshold, `MotionConfig::gate_frac`).
    pub unexplained_frac_min: f32,
}

/// Whether this frame goes to the detector, and why. Pure: same facts, same answer.
pub fn decide(s: &RuleSettings<'_>, f: &FrameFacts<'_>) -> Option<DetectReason> {
    if !s.motion_gate {
        return Some(DetectReason::Ungated);
    }
    let refresh_due = f
        .last_detect_ms
        .is_none_or(|l| f.pts_ms - l >= s.gate_refresh_ms);
    if refresh_due {
        return Some(DetectReason::Refresh);
    }
    if f.has_tentative {
        return Some(DetectReason::Tentative);
    }
    if !s.rate.adaptive {
        let moving = f.live.iter().any(|t| !t.is_still(s.still_speed_h_s));
        return (f.mask.gate_open || moving).then_some(DetectReason::GateOrMovingTrack);
    }
    let px_min =
        ((s.unexplained_frac_min * (f.mask.width * f.mask.height) as f32).ceil() as usize).max(1);
    if f.mask.gate_open
        && unexplained_foreground_px(f.mask, f.frame_size, f.predicted, f.examined) >= px_min
    {
        return Some(DetectReason::UnexplainedMotion);
    }
    let mut speed_max_h_s = 0.0f32;
    for t in f.live {
        let Some(speed) = t.measured_speed_h_s() else {
            return Some(DetectReason::YoungTrack);
        };
        if speed < s.still_speed_h_s {
            continue;
        }
        if t.state == TrackState::Lost {
            return Some(DetectReason::LostTrack);
        }
        speed_max_h_s = speed_max_h_s.max(speed);
    }
    if speed_max_h_s <= 0.0 {
        return None;
    }
    let Some(last) = f.last_detect_ms else {
        return Some(DetectReason::TrackStep);
    };
    // Detect now if waiting for the next sampled frame would let the fastest track move
    // further than `max_step_h`.
    let frame_step_ms = f.prev_pts_ms.map_or(0, |p| f.pts_ms - p).max(0);
    let step_h = speed_max_h_s * ((f.pts_ms - last + frame_step_ms) as f32 / 1000.0);
    (step_h > s.rate.max_step_h).then_some(DetectReason::TrackStep)
}

/// The foreground of a detected frame grown by `margin_px` ([`EXAMINED_MARGIN_PX`]), less
/// the regions of that run's detections (`detected`, frame pixels, every box the tracker
/// could use): what the detector has examined and found nothing to follow in, for the
/// frames until its next run.
pub fn examined_area(
    mask: &ForegroundMask,
    margin_px: usize,
    frame_size: (u32, u32),
    detected: &[BBox],
) -> Vec<bool> {
    let (w, h) = (mask.width as usize, mask.height as usize);
    if w == 0 || h == 0 || mask.data.len() < w * h {
        return Vec::new();
    }
    let r = margin_px;
    // Separable dilation: rows, then columns.
    let mut rows = vec![false; w * h];
    for y in 0..h {
        let row = &mask.data[y * w..(y + 1) * w];
        for (x, &v) in row.iter().enumerate() {
            if v != 0 {
                rows[y * w + x.saturating_sub(r)..y * w + (x + r + 1).min(w)].fill(true);
            }
        }
    }
    let mut out = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            if rows[y * w + x] {
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                    out[yy * w + x] = true;
                }
            }
        }
    }
    // What the detector found there is not settled: a box that made no track yet (too
    // weak, not confirmed) may make one at the next run, so its region stays open.
    for b in detected {
        fill_box(
            &mut out,
            (w, h),
            mask.scale_to(frame_size.0, frame_size.1),
            b,
            false,
        );
    }
    out
}

/// Set the mask pixels (`size`, `scale` = frame pixels per mask pixel) under `b` (frame
/// pixels) grown by [`EXPLAINED_MARGIN_H`] of its height and two mask pixels to `value`.
fn fill_box(
    cells: &mut [bool],
    (w, h): (usize, usize),
    (sx, sy): (f32, f32),
    b: &BBox,
    value: bool,
) {
    let m = EXPLAINED_MARGIN_H * b.h.max(1.0);
    let x0 = ((b.x - m) / sx - 2.0).floor().max(0.0) as usize;
    let y0 = ((b.y - m) / sy - 2.0).floor().max(0.0) as usize;
    let x1 = (((b.x + b.w + m) / sx + 2.0).ceil().max(0.0) as usize).min(w);
    let y1 = (((b.y + b.h + m) / sy + 2.0).ceil().max(0.0) as usize).min(h);
    for y in y0..y1 {
        cells[y * w + x0.min(x1)..y * w + x1].fill(value);
    }
}

/// Foreground pixels of `mask` outside every box of `predicted` (frame pixels) grown by
/// [`EXPLAINED_MARGIN_H`] of its height (and the mask's own dilation, two pixels), and
/// outside `examined` (same size as the mask, or empty).
pub fn unexplained_foreground_px(
    mask: &ForegroundMask,
    frame_size: (u32, u32),
    predicted: &[BBox],
    examined: &[bool],
) -> usize {
    let (mw, mh) = (mask.width as usize, mask.height as usize);
    if mw == 0 || mh == 0 || mask.data.len() < mw * mh {
        return 0;
    }
    let mut covered = if examined.len() == mw * mh {
        examined.to_vec()
    } else {
        vec![false; mw * mh]
    };
    let scale = mask.scale_to(frame_size.0, frame_size.1);
    for b in predicted {
        fill_box(&mut covered, (mw, mh), scale, b, true);
    }
    mask.data[..mw * mh]
        .iter()
        .zip(&covered)
        .filter(|(fg, cov)| **fg != 0 && !**cov)
        .count()
}

/// A lost track may have turned or sped up since its last detection: its region is its
/// predicted box grown by this share of its height (a seen track's, by
/// [`EXPLAINED_MARGIN_H`]).
pub const LOST_MARGIN_H: f32 = 1.0;

/// Whether a frame sent to the detector for `reason` may be examined in regions
/// ([`detect_regions`]) rather than whole: the refresh (what arrived unseen, still
/// objects) and the rules without the adaptive rate look at the whole frame.
pub fn regions_suffice(reason: DetectReason) -> bool {
    !matches!(
        reason,
        DetectReason::Ungated | DetectReason::Refresh | DetectReason::GateOrMovingTrack
    )
}

/// Where the detector must look in a frame (frame pixels), when the whole frame is not
/// needed ([`regions_suffice`]): every moving region of the motion mask (its blobs), every
/// live track where the motion model puts it (`predicted`, in `live`'s order: a track
/// standing still has no foreground but is still covered), grown by
/// [`EXPLAINED_MARGIN_H`] of its height ([`LOST_MARGIN_H`] for a lost one), and `recent`:
/// the last run's boxes, so a detection waiting for confirmation is looked for again where
/// it was. Deterministic: mask, boxes and order in, same regions out.
pub fn detect_regions(
    mask: &ForegroundMask,
    frame_size: (u32, u32),
    live: &[ActiveTrack],
    predicted: &[BBox],
    recent: &[BBox],
) -> Vec<BBox> {
    let mut out = Vec::new();
    let (sx, sy) = mask.scale_to(frame_size.0, frame_size.1);
    if mask.width > 0 && mask.height > 0 && mask.data.len() >= (mask.width * mask.height) as usize {
        for b in vigie_motion::find_blobs(mask, 1) {
            // The mask's pixels are cells of the frame: the blob covers whole cells.
            out.push(BBox {
                x: b.x0 as f32 * sx,
                y: b.y0 as f32 * sy,
                w: (b.x1 - b.x0 + 1) as f32 * sx,
                h: (b.y1 - b.y0 + 1) as f32 * sy,
            });
        }
    }
    let grow = |b: &BBox, share_h: f32| {
        let m = share_h * b.h.max(1.0);
        BBox {
            x: b.x - m,
            y: b.y - m,
            w: b.w + 2.0 * m,
            h: b.h + 2.0 * m,
        }
    };
    for (i, b) in predicted.iter().enumerate() {
        let lost = live.get(i).is_some_and(|t| t.state == TrackState::Lost);
        out.push(grow(
            b,
            if lost {
                LOST_MARGIN_H
            } else {
                EXPLAINED_MARGIN_H
            },
        ));
    }
    out.extend(recent.iter().map(|b| grow(b, EXPLAINED_MARGIN_H)));
    let (fw, fh) = (frame_size.0 as f32, frame_size.1 as f32);
    out.into_iter()
        .filter_map(|b| {
            let (x0, y0) = (b.x.clamp(0.0, fw), b.y.clamp(0.0, fh));
            let (x1, y1) = ((b.x + b.w).clamp(0.0, fw), (b.y + b.h).clamp(0.0, fh));
            (x1 > x0 && y1 > y0).then_some(BBox {
                x: x0,
                y: y0,
                w: x1 - x0,
                h: y1 - y0,
            })
        })
        .collect()
}

/// Frames analysed and detected over one stretch of media time: the detection rate
/// actually used, recorded per source so coverage can say how densely each interval was
/// examined.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetectRateInterval {
    /// Start of the stretch, media time (a multiple of [`DETECT_RATE_INTERVAL_MS`]).
    pub from_ms: i64,
    /// Frames analysed (given to the motion gate) in it.
    pub frames: u32,
    /// Frames given to the detector in it.
    pub detected: u32,
}

/// Length of a [`DetectRateInterval`]: one minute of media time.
pub const DETECT_RATE_INTERVAL_MS: i64 = 60_000;

/// Count one analysed frame into the per-minute record.
pub fn record_rate(intervals: &mut Vec<DetectRateInterval>, pts_ms: i64, detected: bool) {
    let from_ms = pts_ms.div_euclid(DETECT_RATE_INTERVAL_MS) * DETECT_RATE_INTERVAL_MS;
    match intervals.last_mut() {
        Some(last) if last.from_ms == from_ms => {
            last.frames += 1;
            last.detected += u32::from(detected);
        }
        _ => intervals.push(DetectRateInterval {
            from_ms,
            frames: 1,
            detected: u32::from(detected),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::Detection;
    use vigie_track::{Tracker, TrackerConfig};

    const FRAME: (u32, u32) = (640, 480);

    fn det(x: f32, y: f32) -> Detection {
        Detection {
            bbox_in_frame: BBox {
                x,
                y,
                w: 40.0,
                h: 100.0,
            },
            label: "person".into(),
            score: 0.9,
        }
    }

    /// A 160x120 mask (4 frame pixels per mask pixel) with foreground over `boxes` (frame
    /// pixels).
    fn mask(boxes: &[BBox]) -> ForegroundMask {
        let (w, h) = (160u32, 120u32);
        let mut data = vec![0u8; (w * h) as usize];
        for b in boxes {
            for y in (b.y / 4.0) as u32..((b.y + b.h) / 4.0) as u32 {
                for x in (b.x / 4.0) as u32..((b.x + b.w) / 4.0) as u32 {
                    data[(y * w + x) as usize] = 1;
                }
            }
        }
        let fg = data.iter().filter(|v| **v != 0).count();
        ForegroundMask {
            width: w,
            height: h,
            data,
            fg_frac: fg as f32 / (w * h) as f32,
            gate_open: fg > 0,
        }
    }

    /// A tracker fed one detection per 100 ms, moving `px_per_frame` to the right, for
    /// `frames` frames.
    fn tracked(px_per_frame: f32, frames: i64) -> Tracker {
        tracked_xy((px_per_frame, 0.0), frames)
    }

    fn tracked_xy((dx, dy): (f32, f32), frames: i64) -> Tracker {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        for i in 0..frames {
            let i_f = i as f32;
            tr.update(i * 100, &[det(100.0 + dx * i_f, 200.0 + dy * i_f)])
                .unwrap();
        }
        tr
    }

    fn settings(rate: &DetectRateConfig) -> RuleSettings<'_> {
        RuleSettings {
            rate,
            motion_gate: true,
            gate_refresh_ms: 2000,
            still_speed_h_s: 0.1,
            unexplained_frac_min: 0.0008,
        }
    }

    fn facts<'a>(
        tr: &'a Tracker,
        predicted: &'a [BBox],
        mask: &'a ForegroundMask,
        pts_ms: i64,
        last_detect_ms: i64,
    ) -> FrameFacts<'a> {
        FrameFacts {
            pts_ms,
            prev_pts_ms: Some(pts_ms - 100),
            last_detect_ms: Some(last_detect_ms),
            mask,
            frame_size: FRAME,
            live: tr.active(),
            predicted,
            has_tentative: tr.has_tentative(),
            examined: &[],
        }
    }

    #[test]
    fn motion_no_track_explains_calls_the_detector_and_a_tracked_one_does_not() {
        let rate = DetectRateConfig::default();
        let tr = tracked(0.0, 15);
        let predicted = tr.predicted_boxes(1600);
        // The tracked person's own motion (limbs, shadow just under its feet).
        let own = mask(&[BBox {
            x: 95.0,
            y: 195.0,
            w: 50.0,
            h: 125.0,
        }]);
        assert_eq!(
            decide(&settings(&rate), &facts(&tr, &predicted, &own, 1600, 1400)),
            None
        );
        // Someone walking in at the other side of the frame.
        let newcomer = mask(&[BBox {
            x: 500.0,
            y: 200.0,
            w: 40.0,
            h: 100.0,
        }]);
        assert_eq!(
            decide(
                &settings(&rate),
                &facts(&tr, &predicted, &newcomer, 1600, 1400)
            ),
            Some(DetectReason::UnexplainedMotion)
        );
        // ...unless the detector already examined that foreground at its last run and it
        // has not moved on since.
        let examined = examined_area(&newcomer, EXAMINED_MARGIN_PX, FRAME, &[]);
        let f = FrameFacts {
            examined: &examined,
            ..facts(&tr, &predicted, &newcomer, 1600, 1400)
        };
        assert_eq!(decide(&settings(&rate), &f), None);
        let moved_on = mask(&[BBox {
            x: 450.0,
            y: 200.0,
            w: 40.0,
            h: 100.0,
        }]);
        let f = FrameFacts {
            examined: &examined,
            ..facts(&tr, &predicted, &moved_on, 1600, 1400)
        };
        assert_eq!(
            decide(&settings(&rate), &f),
            Some(DetectReason::UnexplainedMotion)
        );
    }

    #[test]
    fn a_stopped_tracked_object_is_still_detected_at_the_refresh() {
        let rate = DetectRateConfig::default();
        let tr = tracked(0.0, 15);
        assert!(tr.active()[0].is_still(0.1));
        let predicted = tr.predicted_boxes(2000);
        let empty = mask(&[]);
        // Between refreshes a still track needs nothing...
        for pts in [1500, 2500, 3300] {
            assert_eq!(
                decide(&settings(&rate), &facts(&tr, &predicted, &empty, pts, 1400)),
                None,
                "at {pts} ms"
            );
        }
        // ...and is looked at again when the refresh is due.
        assert_eq!(
            decide(
                &settings(&rate),
                &facts(&tr, &predicted, &empty, 3400, 1400)
            ),
            Some(DetectReason::Refresh)
        );
    }

    #[test]
    fn the_fastest_moving_track_sets_the_interval() {
        let rate = DetectRateConfig::default();
        // 5 px per 100 ms with 100 px boxes: 0.5 box heights per second; 0.2 allowed
        // between detections: about 0.4 s apart.
        let tr = tracked(5.0, 15);
        let empty = mask(&[]);
        let last = 1400;
        let at = |pts: i64| {
            let predicted = tr.predicted_boxes(pts);
            decide(&settings(&rate), &facts(&tr, &predicted, &empty, pts, last))
        };
        assert_eq!(at(1500), None);
        assert_eq!(at(1600), None);
        assert_eq!(at(1800), Some(DetectReason::TrackStep));
        // Fast (3 box heights per second, towards the camera): every sampled frame.
        let fast = tracked_xy((0.0, 30.0), 12);
        let predicted = fast.predicted_boxes(1200);
        assert_eq!(
            decide(
                &settings(&rate),
                &facts(&fast, &predicted, &empty, 1200, 1100)
            ),
            Some(DetectReason::TrackStep)
        );
    }

    #[test]
    fn young_and_unconfirmed_tracks_are_detected_on_every_frame() {
        let rate = DetectRateConfig::default();
        let empty = mask(&[]);
        let young = tracked(1.0, 4);
        let predicted = young.predicted_boxes(400);
        assert_eq!(
            decide(
                &settings(&rate),
                &facts(&young, &predicted, &empty, 400, 300)
            ),
            Some(DetectReason::YoungTrack)
        );
        let tentative = tracked(1.0, 1);
        assert_eq!(
            decide(&settings(&rate), &facts(&tentative, &[], &empty, 100, 0)),
            Some(DetectReason::Tentative)
        );
    }

    #[test]
    fn the_rate_is_recorded_per_minute_of_media_time() {
        let mut r = Vec::new();
        for (pts, d) in [(0, true), (59_999, false), (60_000, true), (185_000, true)] {
            record_rate(&mut r, pts, d);
        }
        let got: Vec<(i64, u32, u32)> = r
            .iter()
            .map(|i| (i.from_ms, i.frames, i.detected))
            .collect();
        assert_eq!(got, vec![(0, 2, 1), (60_000, 1, 1), (180_000, 1, 1)]);
    }
}
