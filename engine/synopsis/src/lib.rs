//! Video synopsis: hours of activity condensed into minutes.
//!
//! Why: watching footage is what costs investigators days. A synopsis shows objects that
//! appeared at different times *simultaneously* over the empty scene, each labelled with
//! its real time and track id, and a JSON index plus a WebVTT track lead from any object
//! back to the original footage (source, track, original timestamps).
//!
//! The lifecycle is explicit, each step testable on its own:
//! 1. [`build_backgrounds`]: temporal medians of frames sampled along the source, one per
//!    segment ([`background`]).
//! 2. [`extract`]: one decoding pass cuts every object out of its box with a foreground
//!    mask ([`mask`]), at its detections and at every frame between two of them (box
//!    interpolated, [`MAX_INTERPOLATION_GAP_MS`]), so objects move at the source's frame
//!    rate however sparsely the detector ran, and spills the pixels to a scratch file
//!    (memory stays bounded);
//!    unselected objects are cleared from the cut-outs and filled opaque in the
//!    backgrounds where they may show ([`background::Backgrounds::redact`]).
//! 3. [`plan_on_masks`]: each tube split into stationary stretches (shown as background)
//!    and moving parts, long ones cut into segments ([`segment`]), then every segment's
//!    start, and every pasted stationary stretch's, chosen ([`arrange`]) on the objects'
//!    pixels under a target length or a collision budget ([`plan`] does the same on the
//!    boxes alone, before decoding).
//! 4. [`render`]: background of the matching time + objects drawn nearer-first + labels
//!    ([`font`]), encoded as H.264 MP4 ([`encode`]), with the figures ([`Figures`]).
//! 5. [`index_entries`], [`webvtt`]: where every segment came from.
//!
//! [`run`] chains them. Nothing here knows about cases or audit: the CLI logs the
//! combination and the disclosure.
//!
//! Several files of one camera (one per hour, as recorders write them) make one synopsis
//! with [`run_parts`]: each file's stretch is laid after the previous one on a timeline
//! (the caller orders them by corrected wall clock), each keeps its own backgrounds and
//! labels, and placement keeps every object within [`TIME_BAND_MS`] of its own time, so
//! the background under an object is the scene of its own hour. One file is the
//! one-part case ([`run_with`]).

#![forbid(unsafe_code)]

pub mod arrange;
pub mod background;
pub mod encode;
pub mod font;
pub mod group;
pub mod mask;
pub mod segment;

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use vigie_core::{BBox, SamplingMode};
use vigie_decode::{DecodeConfig, DecodeError, Decoder, OutputSize};

use arrange::{ArrangeConfig, Arrangement, TubeShape};
use background::{BackgroundBuilder, BackgroundPlan, Backgrounds};
use group::{GroupRule, Part};
use mask::Rect;
use segment::StillRule;

#[derive(Debug, thiserror::Error)]
pub enum SynopsisError {
    #[error("invalid synopsis setting: {0}")]
    InvalidConfig(String),
    #[error("nothing to condense: no track selected (widen the filters, or run `vigie analyze` on this source first)")]
    NoTubes,
    #[error("no frame could be decoded to build the background; check the source with `vigie decode`: {}", .0.display())]
    NoBackground(PathBuf),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("no H.264 encoder in this FFmpeg build; install FFmpeg's libavcodec with libx264 (Debian: libavcodec-extra)")]
    NoEncoder,
    #[error("FFmpeg failed to {action} ({source}); check free space and that libx264 works: {}", .path.display())]
    Encode {
        action: &'static str,
        #[source]
        source: ffmpeg_next::Error,
        path: PathBuf,
    },
    #[error("the encoder thread stopped unexpectedly (this is a bug in vigie; please report it)")]
    EncoderPanicked,
    #[error("the output file already exists (choose another name; vigie never overwrites an output): {}", .0.display())]
    OutputExists(PathBuf),
    #[error("cannot read or write the synopsis scratch data ({0}); check free space in the case's derived directory")]
    Io(#[source] std::io::Error),
}

/// The source a synopsis is made from.
#[derive(Debug, Clone)]
pub struct SourceInput {
    pub source_id: String,
    pub path: PathBuf,
    pub stream_index: Option<usize>,
    /// Working resolution of the analysis (the tubes' boxes are in these pixels).
    pub frame_size: (u32, u32),
    pub duration_ms: i64,
    /// Frame rate of the synopsis (the source's).
    pub fps: f64,
    /// Wall-clock time of the source's first frame (after the clock correction in
    /// force), when known (labels show HH:MM:SS).
    pub start: Option<DateTime<FixedOffset>>,
    /// The place's time zone: labels and index times are shown in it, with the UTC
    /// offset of each moment (a daylight-saving change inside the source included).
    pub time_zone: Option<chrono_tz::Tz>,
}

/// One selected track and its per-frame boxes.
#[derive(Debug, Clone, PartialEq)]
pub struct TubeInput {
    pub track_id: u64,
    pub label: String,
    pub first_pts_ms: i64,
    pub last_pts_ms: i64,
    pub first_wall_ms: Option<i64>,
    pub last_wall_ms: Option<i64>,
    /// (pts_ms, box in working pixels), time-ordered, at least one.
    pub boxes: Vec<(i64, BBox)>,
}

/// Default half width of the time-of-day band: 30 minutes of source time. Daylight
/// changes little in half an hour; over a day of files an object then never shows over
/// another hour's light (see [`arrange::TimeBand`]).
pub const TIME_BAND_MS: i64 = 30 * 60_000;

/// Longest synopsis length that may be asked for (24 h).
pub const MAX_LENGTH_MS: i64 = 86_400_000;

/// How to condense.
#[derive(Debug, Clone, PartialEq)]
pub struct SynopsisConfig {
    /// Target synopsis length; `None`: the shortest whose collisions stay under
    /// `max_collision`, searched on the planning grid, then checked and shortened on the
    /// objects' pixels by [`run_parts`] (on the grid alone with `keep_order`). Moving
    /// parts longer than it are cut into segments.
    pub length_ms: Option<i64>,
    /// Longest automatic length (`None`: the source's duration).
    pub max_length_ms: Option<i64>,
    /// Collision budget (share of object pixels) for the automatic length.
    pub max_collision: f64,
    /// At most this many objects (segments) shown at once (`None`: no cap); a group's
    /// window counts all its members over the whole window (one larger than the cap is
    /// shown where nothing else is).
    pub max_objects: Option<usize>,
    pub keep_order: bool,
    /// Shortest segment a long moving part is cut into, ms (a part shorter than twice
    /// this is never cut).
    pub min_segment_ms: i64,
    /// Longest segment, as a share of the target length: a moving part longer than this
    /// is cut (never under `min_segment_ms`). Under 1, segments are shorter than the
    /// synopsis and can be shifted in time to avoid each other: on vtest.avi at 13 s,
    /// pixel collisions 24% cutting at the full length, 20% at a half, 16% at a quarter;
    /// within a 5% budget, 2.3x at a half and 2.9x at a quarter.
    pub segment_share: f64,
    /// What counts as standing still (a stationary stretch is shown as background).
    pub still: StillRule,
    /// What counts as being together (a group is placed as one unit, [`group`]).
    pub group: GroupRule,
    /// Shortest time a stationary stretch pasted into the background stays on screen, ms
    /// of synopsis ([`DEFAULT_STILL_SHOW_MIN_MS`]); longer stretches stay for the time the
    /// background takes to pass them.
    pub still_show_min_ms: i64,
    /// Background segments (each with its own median), ms; made longer for very long
    /// footage so at most 256 segments exist.
    pub background_segment_ms: i64,
    /// Frames sampled per background segment.
    pub background_samples: usize,
    /// Foreground threshold: sum of the absolute RGB differences to the background.
    pub fg_threshold: u16,
    /// Occupancy-grid cells per side.
    pub grid: usize,
    /// How far from its own time (source time, ms) an object may be shown, so that the
    /// background under it is the scene of its own hour ([`arrange::TimeBand`]); `None`:
    /// anywhere. Binds nothing under twice this much footage.
    pub time_band_ms: Option<i64>,
    /// Longest gap between two detections of a tube across which the frames in between
    /// are cut out too, box interpolated ([`MAX_INTERPOLATION_GAP_MS`]); 0: cut at the
    /// detections only (objects then advance in steps where the detector skipped frames).
    pub interpolate_gap_ms: i64,
    /// Moving objects are shown this many times faster than they moved (1: at their own
    /// pace, the default; at most [`MAX_OBJECT_SPEED`]). Each is on screen for a share of
    /// its time in view and leaves room for others: a dense scene condenses further at the
    /// same collisions (see [`Piece`] for what it changes, and what it does not). Labels
    /// keep each frame's real time, so a label advances faster too, and carry `XN`.
    /// Stationary stretches are background and are not affected.
    pub object_speed: u32,
}

/// Fastest object speed-up that may be asked for: beyond 4x a walker's steps are lost
/// between two frames of 25 fps footage.
pub const MAX_OBJECT_SPEED: u32 = 4;

impl Default for SynopsisConfig {
    fn default() -> Self {
        Self {
            length_ms: None,
            max_length_ms: None,
            max_collision: 0.05,
            max_objects: None,
            keep_order: false,
            min_segment_ms: 3_000,
            segment_share: 0.25,
            still: StillRule::default(),
            group: GroupRule::default(),
            still_show_min_ms: DEFAULT_STILL_SHOW_MIN_MS,
            background_segment_ms: 60_000,
            background_samples: 9,
            fg_threshold: 60,
            grid: 64,
            time_band_ms: Some(TIME_BAND_MS),
            interpolate_gap_ms: MAX_INTERPOLATION_GAP_MS,
            object_speed: 1,
        }
    }
}

impl SynopsisConfig {
    pub fn validate(&self) -> Result<(), SynopsisError> {
        let bad = |m: String| Err(SynopsisError::InvalidConfig(m));
        if let Some(l) = self.length_ms {
            if !(100..=MAX_LENGTH_MS).contains(&l) {
                return bad(format!(
                    "invalid length {} s (expected 0.1 s to 24 h)",
                    l as f64 / 1000.0
                ));
            }
        }
        if let Some(l) = self.max_length_ms {
            if !(100..=MAX_LENGTH_MS).contains(&l) {
                return bad(format!(
                    "invalid maximum length {} s (expected 0.1 s to 24 h)",
                    l as f64 / 1000.0
                ));
            }
        }
        if self.max_objects == Some(0) {
            return bad("invalid maximum of 0 objects at once (expected at least 1)".into());
        }
        if !(100..=3_600_000).contains(&self.min_segment_ms) {
            return bad(format!(
                "invalid minimum segment {} s (expected 0.1 s to 1 h)",
                self.min_segment_ms as f64 / 1000.0
            ));
        }
        if !(0.1..=1.0).contains(&self.segment_share) {
            return bad(format!(
                "invalid segment share {} (expected 0.1 to 1)",
                self.segment_share
            ));
        }
        if self.still.min_ms < 100 || !(0.0..=1.0).contains(&self.still.radius) {
            return bad(format!(
                "invalid stationary rule ({} ms, radius {}; expected >= 100 ms and 0 to 1)",
                self.still.min_ms, self.still.radius
            ));
        }
        if !(0..=600_000).contains(&self.group.min_together_ms) {
            return bad(format!(
                "invalid shortest time together {} s (expected 0 to turn grouping off, or up to 600 s)",
                self.group.min_together_ms as f64 / 1000.0
            ));
        }
        if !(self.group.min_share.is_finite()
            && (0.0..=1.0).contains(&self.group.min_share)
            && self.group.gap.is_finite()
            && (0.0..=1.0).contains(&self.group.gap))
        {
            return bad(format!(
                "invalid grouping rule (share {}, gap {}; expected both within 0..1)",
                self.group.min_share, self.group.gap
            ));
        }
        if !(100..=60_000).contains(&self.still_show_min_ms) {
            return bad(format!(
                "invalid shortest showing of a standing object {} s (expected 0.1 s to 60 s)",
                self.still_show_min_ms as f64 / 1000.0
            ));
        }
        if !(0.0..=1.0).contains(&self.max_collision) {
            return bad(format!(
                "invalid collision budget {} (expected 0 to 1)",
                self.max_collision
            ));
        }
        if !(1..=101).contains(&self.background_samples) {
            return bad(format!(
                "invalid background samples {} (expected 1 to 101)",
                self.background_samples
            ));
        }
        if self.background_segment_ms < 1_000 {
            return bad(format!(
                "invalid background segment {} ms (expected >= 1000)",
                self.background_segment_ms
            ));
        }
        if let Some(b) = self.time_band_ms {
            if b < 1_000 {
                return bad(format!(
                    "invalid time band {} s (expected at least 1 s)",
                    b as f64 / 1000.0
                ));
            }
        }
        if !(0..=60_000).contains(&self.interpolate_gap_ms) {
            return bad(format!(
                "invalid interpolation gap {} ms (expected 0 to 60000)",
                self.interpolate_gap_ms
            ));
        }
        if !(1..=MAX_OBJECT_SPEED).contains(&self.object_speed) {
            return bad(format!(
                "invalid object speed {} (expected a whole number from 1, their own pace, to {MAX_OBJECT_SPEED})",
                self.object_speed
            ));
        }
        if !(4..=256).contains(&self.grid) {
            return bad(format!("invalid grid {} (expected 4 to 256)", self.grid));
        }
        Ok(())
    }
}

fn validate_inputs(source: &SourceInput, tubes: &[TubeInput]) -> Result<(), SynopsisError> {
    if tubes.is_empty() {
        return Err(SynopsisError::NoTubes);
    }
    let (w, h) = source.frame_size;
    if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
        return Err(SynopsisError::InvalidConfig(format!(
            "invalid working size {w}x{h} (expected each side 16 to 8192; re-run `vigie analyze`)"
        )));
    }
    if !(source.fps.is_finite() && source.fps > 0.0) {
        return Err(SynopsisError::InvalidConfig(format!(
            "invalid frame rate {} (expected > 0)",
            source.fps
        )));
    }
    if let Some(t) = tubes.iter().find(|t| t.boxes.is_empty()) {
        return Err(SynopsisError::InvalidConfig(format!(
            "track {} has no boxes (re-run `vigie analyze --force` on this source)",
            t.track_id
        )));
    }
    Ok(())
}

/// A moving part of a tube (or a segment of one, when it was longer than the synopsis),
/// placed in the synopsis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Index of the tube (input order).
    pub tube: usize,
    /// Inclusive range of the tube's boxes it shows.
    pub first_box: usize,
    pub last_box: usize,
    /// 1-based number among the tube's moving pieces, and how many it has.
    pub segment: u32,
    pub segments: u32,
    /// Made by cutting a moving part longer than the synopsis.
    pub cut: bool,
    /// Start in the synopsis, ms (when its first box is shown).
    pub start_ms: i64,
    /// How many times faster than in the footage it moves ([`SynopsisConfig::object_speed`]).
    pub speed: u32,
    /// The clock of its unit (the piece alone, or a group's window): source time
    /// `anchor_src_ms` is shown at synopsis time `anchor_ms`, and from there the source
    /// runs `speed` times faster than the synopsis. Members of one unit share the clock,
    /// so a group stays as it was in the footage at any speed.
    pub anchor_src_ms: i64,
    pub anchor_ms: i64,
}

impl Piece {
    /// The source time shown at synopsis time `t_ms` (not clamped to the piece).
    pub fn source_at(&self, t_ms: i64) -> i64 {
        self.anchor_src_ms + (t_ms - self.anchor_ms) * i64::from(self.speed.max(1))
    }

    /// The synopsis time at which source time `src_ms` is shown (rounded down).
    pub fn synopsis_at(&self, src_ms: i64) -> i64 {
        self.anchor_ms + (src_ms - self.anchor_src_ms).div_euclid(i64::from(self.speed.max(1)))
    }

    /// The source time shown at synopsis time 0 by this piece's clock: two pieces with the
    /// same key (and speed) show, at every moment, footage of one same moment, so where
    /// they overlap they overlap as in the footage.
    pub fn clock_key(&self) -> i64 {
        self.source_at(0)
    }
}

/// A stationary stretch of a tube: shown as part of the background for its duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Still {
    pub tube: usize,
    /// Inclusive range of the tube's boxes.
    pub first_box: usize,
    pub last_box: usize,
}

/// Where every piece goes, before any pixel is rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub pieces: Vec<Piece>,
    pub stills: Vec<Still>,
    /// The pieces' arrangement (same order as `pieces`, then the pasted stationary
    /// stretches).
    pub arrangement: Arrangement,
    /// Per stationary stretch (same order as `stills`), when it is on screen, synopsis
    /// ms: placed like a piece when its cut-out is pasted, else where the source time
    /// passes it ([`still_window`]: the background's median shows it then).
    pub still_windows: Vec<(i64, i64)>,
    pub slot_ms: i64,
    /// The length the pieces were cut for and placed within, ms.
    pub target_ms: i64,
    /// Groups of more than one moving part ([`group`]).
    pub groups: usize,
    /// What the background shows when: the footage spread over `target_ms`, or, when
    /// `--keep-order` shows every object at its own time (at the speed), that same clock.
    pub scene_clock: SceneClock,
}

/// Which source moment the background (and a stationary stretch left in it) shows at each
/// synopsis moment: source = `origin_ms` + synopsis x `num` / `den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SceneClock {
    pub origin_ms: i64,
    pub num: i64,
    pub den: i64,
}

impl SceneClock {
    /// The whole footage spread over the synopsis: the usual clock.
    pub fn spread(source_ms: i64, length_ms: i64) -> Self {
        Self {
            origin_ms: 0,
            num: source_ms.max(1),
            den: length_ms.max(1),
        }
    }

    /// The footage's own timing from `origin_ms`, `speed` times faster: the clock of
    /// every object when `--keep-order` shows the footage as it was.
    pub fn footage(origin_ms: i64, speed: u32) -> Self {
        Self {
            origin_ms,
            num: i64::from(speed.max(1)),
            den: 1,
        }
    }

    pub fn source_at(&self, t_ms: i64) -> i64 {
        self.origin_ms + (t_ms as i128 * self.num as i128 / self.den as i128) as i64
    }

    pub fn synopsis_at(&self, src_ms: i64) -> i64 {
        ((src_ms - self.origin_ms) as i128 * self.den as i128 / self.num as i128) as i64
    }
}

/// Inclusive box index ranges of one tube.
type Ranges = Vec<(usize, usize)>;

/// Each tube's stationary stretches and moving parts.
fn split(tubes: &[TubeInput], frame_size: (u32, u32), rule: StillRule) -> Vec<(Ranges, Ranges)> {
    tubes
        .iter()
        .map(|t| {
            let stills = segment::stationary(&t.boxes, frame_size, rule);
            let moving = segment::moving_parts(t.boxes.len(), &stills);
            (stills, moving)
        })
        .collect()
}

/// Every tube's moving parts, in tube order.
fn moving_parts(splits: &[(Ranges, Ranges)]) -> Vec<Part> {
    splits
        .iter()
        .enumerate()
        .flat_map(|(ti, (_, moving))| moving.iter().map(move |&p| (ti, p)))
        .collect()
}

/// The moving pieces for a target length (starts at 0), tube by tube, and the unit each
/// is placed with (`unit_of`, `0..units`): a part alone is cut into segments, each its
/// own unit; a group's members are cut into shared time windows ([`group::cut_group`]),
/// each window one unit. Parts longer than `share` x the length are cut.
struct Units {
    pieces: Vec<Piece>,
    unit_of: Vec<usize>,
    units: usize,
}

fn pieces_for(
    tubes: &[TubeInput],
    parts: &[Part],
    groups: &[Vec<usize>],
    length_ms: i64,
    min_segment_ms: i64,
    share: f64,
    speed: u32,
) -> Units {
    // The longest segment, in source time: shown `speed` times faster, it takes `share` of
    // the length on screen.
    let length_ms = ((length_ms as f64 * share) as i64 * i64::from(speed)).max(min_segment_ms);
    // Per tube: (first box, last box, cut, unit).
    let mut per_tube: Vec<Vec<(usize, usize, bool, usize)>> = vec![Vec::new(); tubes.len()];
    let mut units = 0;
    for g in groups {
        if let [m] = g[..] {
            let (ti, part) = parts[m];
            let segs = segment::cut(&tubes[ti].boxes, part, length_ms, min_segment_ms);
            let cut = segs.len() > 1;
            for (a, b) in segs {
                per_tube[ti].push((a, b, cut, units));
                units += 1;
            }
            continue;
        }
        let windows = group::cut_group(tubes, parts, g, length_ms, min_segment_ms);
        let mut segments = vec![0usize; g.len()];
        for &(mi, _) in windows.iter().flatten() {
            segments[mi] += 1;
        }
        for w in windows {
            for (mi, (a, b)) in w {
                per_tube[parts[g[mi]].0].push((a, b, segments[mi] > 1, units));
            }
            units += 1;
        }
    }
    let mut pieces = Vec::new();
    let mut unit_of = Vec::new();
    for (ti, mut list) in per_tube.into_iter().enumerate() {
        list.sort_by_key(|l| (l.0, l.1));
        let n = list.len() as u32;
        for (k, (a, b, cut, u)) in list.into_iter().enumerate() {
            pieces.push(Piece {
                tube: ti,
                first_box: a,
                last_box: b,
                segment: k as u32 + 1,
                segments: n,
                cut,
                start_ms: 0,
                speed,
                anchor_src_ms: 0,
                anchor_ms: 0,
            });
            unit_of.push(u);
        }
    }
    Units {
        pieces,
        unit_of,
        units,
    }
}

/// An object's pixels per grid cell for one box: `(cell, pixels)`.
type CellCover = Vec<(u32, f32)>;

/// Each unit's source start (its earliest piece's first box), ms.
fn unit_starts(tubes: &[TubeInput], u: &Units) -> Vec<i64> {
    let mut starts = vec![i64::MAX; u.units];
    for (p, &k) in u.pieces.iter().zip(&u.unit_of) {
        starts[k] = starts[k].min(tubes[p.tube].boxes[p.first_box].0);
    }
    starts
}

/// What the arrangement places for each unit: the piece's own shape, or for a group's
/// window the members' boxes (and pixels) together, as one object.
fn unit_shapes(tubes: &[TubeInput], u: &Units, cutouts: Option<&Cutouts>) -> Vec<TubeShape> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); u.units];
    for (i, &k) in u.unit_of.iter().enumerate() {
        members[k].push(i);
    }
    members
        .iter()
        .map(|m| {
            if let [i] = m[..] {
                return shape_of(tubes, &u.pieces[i], cutouts);
            }
            // (time, box, pixels per cell, until when it holds: its object's next box).
            let mut boxes: Vec<(i64, BBox, CellCover, i64)> = Vec::new();
            for &i in m {
                let p = &u.pieces[i];
                let t = &tubes[p.tube];
                for k in p.first_box..=p.last_box {
                    let cover = cutouts.map_or_else(Vec::new, |c| c.cover_of_box(p.tube, k));
                    let held = if k < p.last_box {
                        t.boxes[k + 1].0
                    } else {
                        t.boxes[k].0
                    };
                    boxes.push((t.boxes[k].0, t.boxes[k].1, cover, held));
                }
            }
            boxes.sort_by_key(|b| b.0);
            TubeShape {
                source_start_ms: boxes.first().map_or(0, |b| b.0),
                cover: cutouts.map(|_| boxes.iter().map(|b| b.2.clone()).collect()),
                group: Some(arrange::GroupShape {
                    members: m.len() as u32,
                    held_until_ms: boxes.iter().map(|b| b.3).collect(),
                }),
                boxes: boxes.into_iter().map(|b| (b.0, b.1)).collect(),
            }
        })
        .collect()
}

/// Shortest time a stationary stretch stays on screen by default, ms of synopsis.
///
/// Why 300 ms and not more: a stationary stretch is shown for the time the background
/// takes to pass it (its duration x length / source), so at 60x a person who stood 20 s
/// is there for a third of a second, as in any time-lapse. An object that appears in a
/// still scene is noticed within a fraction of a second (an onset draws the eye); what it
/// is and when it stood is read with the video paused, from its label, the index and the
/// WebVTT track, as for a moving object shown that briefly. A longer floor costs length
/// where many stops share one spot: on the sparse hour of `tools/bench-synopsis-hour`
/// (29 stops at one table), 1 s gave 50.1x and 300 ms 62.1x, both within the 5% budget.
/// `vigie synopsis --still-show-min-s` sets it per synopsis.
pub const DEFAULT_STILL_SHOW_MIN_MS: i64 = 300;

/// When a stationary stretch `[from, to]` (source ms) is on screen: the background follows
/// the source time (synopsis time x source / synopsis duration), at least `min_ms` (or
/// the whole synopsis when shorter).
fn still_window(from: i64, to: i64, source_ms: i64, length_ms: i64, min_ms: i64) -> (i64, i64) {
    still_window_on(
        SceneClock::spread(source_ms, length_ms),
        from,
        to,
        length_ms,
        min_ms,
    )
}

/// [`still_window`] on any scene clock, within `[0, length_ms]`.
fn still_window_on(
    clock: SceneClock,
    from: i64,
    to: i64,
    length_ms: i64,
    min_ms: i64,
) -> (i64, i64) {
    let l = length_ms.max(1);
    let map = |t: i64| clock.synopsis_at(t);
    let (mut a, mut b) = (map(from).clamp(0, l), map(to).clamp(0, l));
    let min = min_ms.max(1).min(l);
    if b - a < min {
        let mid = (a + b) / 2;
        a = (mid - min / 2).clamp(0, l - min);
        b = a + min;
    }
    (a, b)
}

/// The cut-out a stationary stretch is shown with: the one nearest its middle; `None`
/// when the object is already in the median there (nearly empty mask: the background
/// shows it) or no frame of the stretch was cut out.
fn still_patch(cutouts: &Cutouts, tubes: &[TubeInput], s: &Still) -> Option<Patch> {
    let t = &tubes[s.tube];
    let (from, to) = (t.boxes[s.first_box].0, t.boxes[s.last_box].0);
    let mid = from + (to - from) / 2;
    let ps = &cutouts.patches[s.tube];
    let lo = ps.partition_point(|p| p.pts_ms < from);
    let hi = ps.partition_point(|p| p.pts_ms <= to);
    let p = ps[lo..hi]
        .iter()
        .filter(|p| !p.between)
        .min_by_key(|p| (p.pts_ms - mid).abs())?;
    (!p.whole).then_some(*p)
}

/// A stationary stretch pasted into the background: its index among the plan's stills,
/// source interval, cut-out, and its pixels per grid cell.
type Paste = (usize, i64, i64, Patch, Vec<(u32, f32)>);

fn shape_of(tubes: &[TubeInput], p: &Piece, cutouts: Option<&Cutouts>) -> TubeShape {
    let t = &tubes[p.tube];
    TubeShape {
        source_start_ms: t.boxes[p.first_box].0,
        boxes: t.boxes[p.first_box..=p.last_box].to_vec(),
        cover: cutouts.map(|c| {
            (p.first_box..=p.last_box)
                .map(|k| c.cover_of_box(p.tube, k))
                .collect()
        }),
        group: None,
    }
}

/// A unit's shape as it is shown `speed` times faster: every box (and a group member's
/// hold) at `speed` times less from the unit's first box; boxes, pixels and order kept.
fn sped(mut s: TubeShape, speed: u32) -> TubeShape {
    if speed <= 1 {
        return s;
    }
    let Some(&(t0, _)) = s.boxes.first() else {
        return s;
    };
    let k = i64::from(speed);
    let at = |t: i64| t0 + (t - t0).div_euclid(k);
    for b in &mut s.boxes {
        b.0 = at(b.0);
    }
    if let Some(g) = &mut s.group {
        for h in &mut g.held_until_ms {
            *h = at(*h);
        }
    }
    s
}

/// Step 3 before decoding: arrange on the boxes alone (see [`plan_on_masks`]).
pub fn plan(
    source: &SourceInput,
    tubes: &[TubeInput],
    cfg: &SynopsisConfig,
) -> Result<Plan, SynopsisError> {
    plan_with(source, tubes, None, cfg)
}

/// Step 3: split the tubes into stationary stretches and moving parts, cut the long ones,
/// and arrange the pieces on the objects' pixels (the cut-outs' masks counted per grid
/// cell; stationary objects pasted into the background are in place first). With no
/// target length, the shortest length (at least the minimum segment, at most
/// `max_length_ms` or the source) whose planned collision is within the budget (on the
/// grid: [`run_parts`] then checks it on the pixels).
pub fn plan_on_masks(
    source: &SourceInput,
    tubes: &[TubeInput],
    cutouts: &Cutouts,
    cfg: &SynopsisConfig,
) -> Result<Plan, SynopsisError> {
    plan_with(source, tubes, Some(cutouts), cfg)
}

fn plan_with(
    source: &SourceInput,
    tubes: &[TubeInput],
    cutouts: Option<&Cutouts>,
    cfg: &SynopsisConfig,
) -> Result<Plan, SynopsisError> {
    cfg.validate()?;
    validate_inputs(source, tubes)?;
    // About 4000 slots over the source, never finer than 200 ms nor than a frame.
    let frame_ms = (1000.0 / source.fps).ceil() as i64;
    let mut slot_ms = (source.duration_ms / 4000).max(200).max(frame_ms);
    let acfg = ArrangeConfig {
        frame_size: source.frame_size,
        slot_ms,
        grid: cfg.grid,
        length_ms: cfg.length_ms.unwrap_or(slot_ms),
        keep_order: cfg.keep_order,
        max_objects: cfg.max_objects,
        band: cfg.time_band_ms.map(|b| arrange::TimeBand {
            source_ms: source.duration_ms,
            half_width_ms: b,
        }),
        time_scale: i64::from(cfg.object_speed),
    };
    let splits = split(tubes, source.frame_size, cfg.still);
    let parts = moving_parts(&splits);
    let groups = group::groups(tubes, &parts, cfg.group);
    let stills: Vec<Still> = splits
        .iter()
        .enumerate()
        .flat_map(|(ti, (st, _))| {
            st.iter().map(move |&(a, b)| Still {
                tube: ti,
                first_box: a,
                last_box: b,
            })
        })
        .collect();
    // Stationary objects pasted into the background: placed like pieces, for as long as
    // the source time takes to pass them (at least `still_show_min_ms`), within the time band.
    let pastes: Vec<Paste> = match cutouts {
        Some(c) => stills
            .iter()
            .enumerate()
            .filter_map(|(k, s)| {
                let p = still_patch(c, tubes, s)?;
                let t = &tubes[s.tube];
                let cover = c.cover_of_patch(s.tube, &p);
                Some((k, t.boxes[s.first_box].0, t.boxes[s.last_box].0, p, cover))
            })
            .collect(),
        None => Vec::new(),
    };
    let units_for = |len: i64| {
        pieces_for(
            tubes,
            &parts,
            &groups,
            len,
            cfg.min_segment_ms,
            cfg.segment_share,
            cfg.object_speed,
        )
    };
    let shapes_for = |len: i64| {
        let mut shapes: Vec<TubeShape> = unit_shapes(tubes, &units_for(len), cutouts)
            .into_iter()
            .map(|s| sped(s, cfg.object_speed))
            .collect();
        shapes.extend(pastes.iter().map(|(_, from, to, p, cover)| {
            let (a, b) = still_window(*from, *to, source.duration_ms, len, cfg.still_show_min_ms);
            let bbox = BBox {
                x: p.rect.x as f32,
                y: p.rect.y as f32,
                w: p.rect.w as f32,
                h: p.rect.h as f32,
            };
            TubeShape {
                source_start_ms: *from,
                boxes: vec![(0, bbox), (b - a, bbox)],
                cover: Some(vec![cover.clone(), cover.clone()]),
                group: None,
            }
        }));
        (shapes, Vec::new())
    };
    let (arrangement, target_ms, original) = match cfg.length_ms {
        Some(l) => {
            // The grid spans the synopsis: slots of its length / 4000 at most.
            slot_ms = slot_ms.min((l / 4000).max(200).max(frame_ms));
            let acfg = ArrangeConfig {
                slot_ms,
                ..acfg.clone()
            };
            let (shapes, fixed) = shapes_for(l);
            let a = arrange::arrange_with_fixed(&shapes, &fixed, &acfg);
            (a.map_err(SynopsisError::InvalidConfig)?, l, false)
        }
        None => {
            let hi = cfg
                .max_length_ms
                .unwrap_or(source.duration_ms)
                .min(source.duration_ms.max(slot_ms));
            let auto = |acfg: &ArrangeConfig, hi: i64| {
                arrange::arrange_auto_with(
                    acfg,
                    cfg.min_segment_ms,
                    hi,
                    cfg.max_collision,
                    shapes_for,
                )
                .map_err(SynopsisError::InvalidConfig)
            };
            let mut r = auto(&acfg, hi)?;
            // Sparse footage condenses far below its duration: the grid sized for a
            // synopsis as long as the source (slots of duration / 4000, 900 ms for an
            // hour) is then coarser than the objects' moves, and overlaps counted per
            // slot make the length longer than needed. Searched again under the length
            // found, with slots of that length / 4000 (never under 200 ms nor a frame).
            let fine = (r.target_ms / 4000).max(200).max(frame_ms);
            if fine < slot_ms {
                slot_ms = fine;
                let acfg = ArrangeConfig {
                    slot_ms,
                    ..acfg.clone()
                };
                r = auto(&acfg, r.target_ms)?;
            }
            (r.arrangement, r.target_ms, r.original)
        }
    };
    // Every piece shifted as its unit: a group's members keep their relative timing.
    let units = units_for(target_ms);
    let unit_src = unit_starts(tubes, &units);
    let mut pieces = units.pieces;
    for (p, &k) in pieces.iter_mut().zip(&units.unit_of) {
        p.anchor_src_ms = unit_src[k];
        p.anchor_ms = arrangement.starts_ms[k];
        p.start_ms = p.synopsis_at(tubes[p.tube].boxes[p.first_box].0);
    }
    // The footage's own timing (`--keep-order` could do no better): the background runs on
    // the objects' clock, from the first object's start (as `arrange::original_timing`).
    let scene_clock = if original {
        let t0 = unit_src
            .iter()
            .copied()
            .chain(pastes.iter().map(|p| p.1))
            .min()
            .unwrap_or(0);
        SceneClock::footage(t0, cfg.object_speed)
    } else {
        SceneClock::spread(source.duration_ms, target_ms)
    };
    // Stationary stretches left in the background are shown while the scene passes them:
    // within the length on the usual clock; on the objects' clock, until the footage's
    // end (a person who stood after the last moving object is shown at their own time,
    // and the video lasts until then).
    let scene_end = if original {
        scene_clock.synopsis_at(source.duration_ms).max(target_ms)
    } else {
        target_ms
    };
    let mut still_windows: Vec<(i64, i64)> = stills
        .iter()
        .map(|s| {
            let t = &tubes[s.tube];
            let (from, to) = (t.boxes[s.first_box].0, t.boxes[s.last_box].0);
            still_window_on(scene_clock, from, to, scene_end, cfg.still_show_min_ms)
        })
        .collect();
    let paste_starts = &arrangement.starts_ms[units.units..];
    for ((k, ..), start) in pastes.iter().zip(paste_starts) {
        let (a, b) = still_windows[*k];
        still_windows[*k] = (*start, start + (b - a));
    }
    // Per piece, then per pasted stretch, as the plan's readers expect.
    let arrangement = Arrangement {
        starts_ms: pieces
            .iter()
            .map(|p| p.start_ms)
            .chain(paste_starts.iter().copied())
            .collect(),
        ..arrangement
    };
    Ok(Plan {
        pieces,
        stills,
        still_windows,
        arrangement,
        slot_ms,
        target_ms,
        groups: groups.iter().filter(|g| g.len() > 1).count(),
        scene_clock,
    })
}

fn open_decoder(source: &SourceInput, sampling: SamplingMode) -> Result<Decoder, SynopsisError> {
    let cfg = DecodeConfig {
        stream_index: source.stream_index,
        sampling,
        output_size: OutputSize::Exact {
            width: source.frame_size.0,
            height: source.frame_size.1,
        },
        convert_rgb: true,
        threads: 0,
        operator_start: None,
        // Used only for a stream timed from its frame rate (a raw stream).
        assumed_fps: Some(source.fps),
    };
    cfg.validate()?;
    Ok(Decoder::open(&source.path, &cfg)?)
}

/// Step 1: the per-segment median backgrounds. Sparse samples (long footage) are reached
/// by seeking; dense ones by one decoding pass that converts only the sampled frames.
pub fn build_backgrounds(
    source: &SourceInput,
    cfg: &SynopsisConfig,
) -> Result<Backgrounds, SynopsisError> {
    build_backgrounds_within(source, 0, source.duration_ms, cfg)
}

/// [`build_backgrounds`] of the stretch `from_ms..to_ms` of the source (media time); the
/// backgrounds' times count from `from_ms` (one file's share of a time range on a
/// camera's timeline decodes only that share).
pub fn build_backgrounds_within(
    source: &SourceInput,
    from_ms: i64,
    to_ms: i64,
    cfg: &SynopsisConfig,
) -> Result<Backgrounds, SynopsisError> {
    cfg.validate()?;
    let duration_ms = (to_ms - from_ms).max(1);
    let segment_ms = cfg.background_segment_ms.max(duration_ms / 256);
    let plan = BackgroundPlan::new(duration_ms, segment_ms, cfg.background_samples);
    let (w, h) = source.frame_size;
    let mut builder = BackgroundBuilder::new(plan.clone(), w, h);
    let interval_ms = plan.segment_ms / plan.samples_per_segment as i64;
    if interval_ms >= 4_000 {
        let mut dec = open_decoder(source, SamplingMode::All)?;
        for t in plan.sample_times_ms() {
            if let Some(f) = dec.frame_at(from_ms + t)? {
                builder.push(t, f.data);
            }
        }
    } else {
        let fps = 1000.0 / interval_ms.max(1) as f64;
        let mut dec = open_decoder(source, SamplingMode::TargetFps { fps })?;
        // A stretch far into the file is reached by seeking; the decoder's own sampling
        // does not hold after a seek, so the plan's sample times pick the frames (the
        // first at or after each).
        let mut due: Option<std::iter::Peekable<std::vec::IntoIter<i64>>> = None;
        if from_ms > SEEK_GAP_MS {
            due = Some(plan.sample_times_ms().into_iter().peekable());
            dec.frame_at(from_ms)?;
        }
        while let Some(f) = dec.next_frame()? {
            if f.pts_ms > to_ms {
                break;
            }
            if f.pts_ms < from_ms {
                continue;
            }
            let t = f.pts_ms - from_ms;
            if let Some(d) = due.as_mut() {
                if d.peek().is_none_or(|&s| t < s) {
                    continue;
                }
                while d.next_if(|&s| s <= t).is_some() {}
            }
            builder.push(t, f.data);
        }
    }
    builder
        .finish()
        .ok_or_else(|| SynopsisError::NoBackground(source.path.clone()))
}

/// One cut-out object in one source frame, stored in the scratch file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patch {
    pub pts_ms: i64,
    /// Index of the tube's box it was cut from.
    pub box_index: usize,
    pub rect: Rect,
    /// Byte offset of `rect.w * rect.h` RGBA pixels (alpha 0 or 255) in the scratch file.
    pub offset: u64,
    /// The mask was nearly empty and the whole box was kept (the object is in the
    /// background's median there).
    pub whole: bool,
    /// Cut from a frame between two detections (box interpolated; `box_index` is the
    /// detection before it): shown when rendering, never used for planning.
    pub between: bool,
}

/// Every tube's cut-out objects (step 3's result).
pub struct Cutouts {
    scratch: File,
    /// Per tube (input order), time-ordered.
    pub patches: Vec<Vec<Patch>>,
    /// Per tube, per patch: the object's pixels per planning grid cell `(cell, pixels)`.
    covers: Vec<Vec<Vec<(u16, u16)>>>,
    /// Per tube, per box: the index of its patch (`u32::MAX`: none, e.g. outside the
    /// frame).
    box_patch: Vec<Vec<u32>>,
    /// Object pixels cleared from the cut-outs because an unselected object's box was there.
    pub hidden_px: u64,
    /// Boxes where the mask was nearly empty and the whole box was kept.
    pub whole_boxes: u64,
    pub frames_decoded: u64,
    pub decode_s: f64,
    pub extract_s: f64,
}

impl Cutouts {
    /// The object's pixels per grid cell in the tube's box `k` (empty: not cut out).
    pub fn cover_of_box(&self, tube: usize, k: usize) -> Vec<(u32, f32)> {
        match self.box_patch[tube].get(k) {
            Some(&p) if p != u32::MAX => self.covers[tube][p as usize]
                .iter()
                .map(|&(c, n)| (u32::from(c), f32::from(n)))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn cover_of_patch(&self, tube: usize, p: &Patch) -> Vec<(u32, f32)> {
        self.cover_of_box(tube, p.box_index)
    }

    fn read(&self, p: &Patch, buf: &mut Vec<u8>) -> Result<(), SynopsisError> {
        buf.resize(p.rect.area() * 4, 0);
        self.scratch
            .read_exact_at(buf, p.offset)
            .map_err(SynopsisError::Io)
    }
}

/// Gaps between selected objects longer than this are skipped by seeking.
const SEEK_GAP_MS: i64 = 10_000;

/// The time spans (ms) where at least one tube has a box, merged across gaps up to
/// `gap_ms`, sorted.
pub fn activity_spans(tubes: &[TubeInput], gap_ms: i64) -> Vec<(i64, i64)> {
    let mut spans: Vec<(i64, i64)> = tubes
        .iter()
        .filter_map(|t| Some((t.boxes.first()?.0, t.boxes.last()?.0)))
        .collect();
    spans.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (a, b) in spans {
        match out.last_mut() {
            Some(last) if a - last.1 <= gap_ms => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Object pixels per grid cell (`grid` x `grid` over the frame) of a mask in `r`.
fn mask_cover(m: &[bool], r: Rect, (w, h): (u32, u32), grid: usize) -> Vec<(u16, u16)> {
    let g = grid as u64;
    let cx = |x: u32| (u64::from(x) * g / u64::from(w)).min(g - 1) as usize;
    let cy = |y: u32| (u64::from(y) * g / u64::from(h)).min(g - 1) as usize;
    let (x0, y0) = (cx(r.x), cy(r.y));
    let (nx, ny) = (cx(r.x + r.w - 1) - x0 + 1, cy(r.y + r.h - 1) - y0 + 1);
    let mut n = vec![0u32; nx * ny];
    let cols: Vec<usize> = (0..r.w).map(|x| cx(r.x + x) - x0).collect();
    for y in 0..r.h {
        let row = (cy(r.y + y) - y0) * nx;
        for (x, c) in cols.iter().enumerate() {
            if m[(y * r.w) as usize + x] {
                n[row + c] += 1;
            }
        }
    }
    let mut out = Vec::new();
    for (k, &v) in n.iter().enumerate() {
        if v > 0 {
            let cell = (y0 + k / nx) * grid + x0 + k % nx;
            out.push((
                cell.min(u16::MAX as usize) as u16,
                v.min(u32::from(u16::MAX)) as u16,
            ));
        }
    }
    out
}

/// How much an unselected object's box is grown before its pixels are cleared or filled.
pub const HIDE_PAD: f32 = 0.1;

/// Longest gap between two detections of a selected tube across which the decoded frames
/// in between are cut out too, with the box interpolated linearly, ms.
///
/// Why: the analysis runs the detector only as often as the motion needs
/// (`vigie_pipeline::rate`), so a walking person's boxes are 100-400 ms apart and a slow
/// one's up to the gate refresh (2 s); cut only at its detections, an object would
/// advance in steps of several frames. On a followed track a gap is at most the refresh
/// plus one sampled frame, and the object moved at most a fifth of its height in it, so
/// the straight line is close to where it was. A longer gap is an occlusion or a missed
/// stretch that offline linking joined: where the object was is not known, so it is not
/// guessed (the last cut-out is held, as before).
pub const MAX_INTERPOLATION_GAP_MS: i64 = 2_500;

/// `a` moved toward `b` by `f` (0..1).
fn lerp_box(a: &BBox, b: &BBox, f: f32) -> BBox {
    let m = |u: f32, v: f32| u + (v - u) * f;
    BBox {
        x: m(a.x, b.x),
        y: m(a.y, b.y),
        w: m(a.w, b.w),
        h: m(a.h, b.h),
    }
}

/// A track's box at `pts_ms`: `(index of the detection at or before, box, between)`;
/// between two detections at most `max_gap_ms` apart the box is interpolated linearly
/// (`between` true); `None` outside the track or across a longer gap.
pub fn box_at(boxes: &[(i64, BBox)], pts_ms: i64, max_gap_ms: i64) -> Option<(usize, BBox, bool)> {
    let (first, last) = (boxes.first()?, boxes.last()?);
    if pts_ms < first.0 || pts_ms > last.0 {
        return None;
    }
    let k = boxes.partition_point(|(p, _)| *p <= pts_ms) - 1;
    let (p0, b0) = &boxes[k];
    if *p0 == pts_ms {
        return Some((k, *b0, false));
    }
    let (p1, b1) = &boxes[k + 1];
    if p1 - p0 > max_gap_ms {
        return None;
    }
    let f = (pts_ms - p0) as f32 / (p1 - p0) as f32;
    Some((k, lerp_box(b0, b1, f), true))
}

/// The tracks present at a time, for times that mostly increase (decoded frames): tracks
/// enter in order of their first box and leave after their last; a time earlier than the
/// previous one starts the walk again.
struct Present {
    spans: Vec<(i64, i64)>,
    order: Vec<usize>,
    next: usize,
    active: Vec<usize>,
    last_ms: i64,
}

impl Present {
    fn new<'a>(tracks: impl Iterator<Item = &'a [(i64, BBox)]>) -> Self {
        let spans: Vec<(i64, i64)> = tracks
            .map(|b| match (b.first(), b.last()) {
                (Some(f), Some(l)) => (f.0, l.0),
                _ => (i64::MAX, i64::MIN),
            })
            .collect();
        let mut order: Vec<usize> = (0..spans.len()).collect();
        order.sort_by_key(|&i| spans[i].0);
        Self {
            spans,
            order,
            next: 0,
            active: Vec::new(),
            last_ms: i64::MIN,
        }
    }

    /// The tracks whose first..last box span contains `ms` (input order).
    fn at(&mut self, ms: i64) -> &[usize] {
        if ms < self.last_ms {
            self.next = 0;
            self.active.clear();
        }
        self.last_ms = ms;
        while self.next < self.order.len() && self.spans[self.order[self.next]].0 <= ms {
            self.active.push(self.order[self.next]);
            self.next += 1;
        }
        let spans = &self.spans;
        self.active.retain(|&i| spans[i].1 >= ms);
        self.active.sort_unstable();
        &self.active
    }
}

/// Step 2: decode the source once and cut every tube's object out of each of its boxes.
/// Pixels go to an anonymous scratch file in `scratch_dir` (deleted when dropped).
/// `hidden`: the boxes of the source's unselected objects (per track, time-ordered); any
/// cut-out pixel inside one of their boxes (grown by [`HIDE_PAD`]) in the same frame is
/// cleared, so an unselected object is never pasted with a selected one.
pub fn extract(
    source: &SourceInput,
    tubes: &[TubeInput],
    hidden: &[Vec<(i64, BBox)>],
    backgrounds: &Backgrounds,
    cfg: &SynopsisConfig,
    scratch_dir: &Path,
) -> Result<Cutouts, SynopsisError> {
    validate_inputs(source, tubes)?;
    let t0 = Instant::now();
    let scratch = tempfile::tempfile_in(scratch_dir).map_err(SynopsisError::Io)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, &scratch);
    let mut offset = 0u64;
    let part = extract_part(
        source,
        tubes,
        hidden,
        backgrounds,
        0,
        cfg,
        &mut out,
        &mut offset,
    )?;
    out.flush().map_err(SynopsisError::Io)?;
    drop(out);
    Ok(Cutouts {
        scratch,
        patches: part.patches,
        covers: part.covers,
        box_patch: part.box_patch,
        hidden_px: part.hidden_px,
        whole_boxes: part.whole_boxes,
        frames_decoded: part.frames_decoded,
        decode_s: part.decode_s,
        extract_s: t0.elapsed().as_secs_f64(),
    })
}

/// What one source's cut-out pass produced (its pixels are in the shared scratch file).
struct PartCutouts {
    patches: Vec<Vec<Patch>>,
    covers: Vec<Vec<Vec<(u16, u16)>>>,
    box_patch: Vec<Vec<u32>>,
    hidden_px: u64,
    whole_boxes: u64,
    frames_decoded: u64,
    decode_s: f64,
}

/// Step 2 on one source, appending to `out` at `offset`; `bg_origin_ms`: the source time
/// the backgrounds' times count from.
#[allow(clippy::too_many_arguments)]
fn extract_part(
    source: &SourceInput,
    tubes: &[TubeInput],
    hidden: &[Vec<(i64, BBox)>],
    backgrounds: &Backgrounds,
    bg_origin_ms: i64,
    cfg: &SynopsisConfig,
    out: &mut std::io::BufWriter<&File>,
    offset: &mut u64,
) -> Result<PartCutouts, SynopsisError> {
    let (w, h) = source.frame_size;
    let last_pts = tubes
        .iter()
        .filter_map(|t| t.boxes.last())
        .map(|b| b.0)
        .max()
        .unwrap_or(i64::MIN);
    // Tubes and hidden tracks present at a frame's time, found by walking them in order
    // of their first box (frames come in increasing time; the active sets stay small).
    let mut tubes_at = Present::new(tubes.iter().map(|t| t.boxes.as_slice()));
    let mut hidden_at = Present::new(hidden.iter().map(Vec::as_slice));
    let mut cuts: Vec<(usize, usize, BBox, bool)> = Vec::new();
    let mut hide_here: Vec<Rect> = Vec::new();
    let mut patches: Vec<Vec<Patch>> = vec![Vec::new(); tubes.len()];
    let mut covers: Vec<Vec<Vec<(u16, u16)>>> = vec![Vec::new(); tubes.len()];
    let mut box_patch: Vec<Vec<u32>> = tubes
        .iter()
        .map(|t| vec![u32::MAX; t.boxes.len()])
        .collect();
    let mut whole_boxes = 0u64;
    let mut hidden_px = 0u64;
    let mut frames = 0u64;
    let mut decode_s = 0.0;
    let mut dec = open_decoder(source, SamplingMode::All)?;
    let mut rgba = Vec::new();
    let spans = activity_spans(tubes, SEEK_GAP_MS);
    let mut span = 0usize;
    let mut pos_ms = 0i64;
    loop {
        let td = Instant::now();
        // Long stretches without any selected object are skipped by seeking (sparse
        // footage, filtered synopses); the decoder lands on the keyframe before.
        while span < spans.len() && spans[span].1 < pos_ms {
            span += 1;
        }
        let next = if span < spans.len() && spans[span].0 - pos_ms > SEEK_GAP_MS {
            let at = spans[span].0;
            dec.frame_at(at)?
        } else {
            dec.next_frame()?
        };
        let Some(frame) = next else {
            break;
        };
        decode_s += td.elapsed().as_secs_f64();
        pos_ms = frame.pts_ms;
        frames += 1;
        cuts.clear();
        for &i in tubes_at.at(frame.pts_ms) {
            if let Some((k, b, between)) =
                box_at(&tubes[i].boxes, frame.pts_ms, cfg.interpolate_gap_ms)
            {
                cuts.push((i, k, b, between));
            }
        }
        if !cuts.is_empty() {
            let bg = backgrounds.at(frame.pts_ms - bg_origin_ms);
            // Unselected objects are cleared at every frame cut, between their own
            // detections too (interpolated across any gap, as vigie-redact does).
            hide_here.clear();
            for &j in hidden_at.at(frame.pts_ms) {
                if let Some((_, b, _)) = box_at(&hidden[j], frame.pts_ms, i64::MAX) {
                    hide_here.extend(background::grown(&b, HIDE_PAD, w, h));
                }
            }
            for &(i, k, ref b, between) in &cuts {
                let Some(r) = Rect::clamp(b, w, h) else {
                    continue;
                };
                let (mut m, whole) = mask::object_mask(&frame.data, bg, w, r, cfg.fg_threshold);
                whole_boxes += u64::from(whole && !between);
                for hr in &hide_here {
                    hidden_px += mask::clear_rect(&mut m, r, *hr);
                }
                rgba.clear();
                for y in 0..r.h as usize {
                    let row = ((r.y as usize + y) * w as usize + r.x as usize) * 3;
                    for x in 0..r.w as usize {
                        let px = &frame.data[row + x * 3..row + x * 3 + 3];
                        rgba.extend_from_slice(px);
                        rgba.push(if m[y * r.w as usize + x] { 255 } else { 0 });
                    }
                }
                out.write_all(&rgba).map_err(SynopsisError::Io)?;
                // Planning counts the detections' pixels only (a frame between two
                // detections adds no cover of its own).
                if between {
                    covers[i].push(Vec::new());
                } else {
                    box_patch[i][k] = patches[i].len() as u32;
                    covers[i].push(mask_cover(&m, r, (w, h), cfg.grid));
                }
                patches[i].push(Patch {
                    pts_ms: frame.pts_ms,
                    box_index: k,
                    rect: r,
                    offset: *offset,
                    whole,
                    between,
                });
                *offset += rgba.len() as u64;
            }
        }
        if frame.pts_ms >= last_pts {
            break;
        }
    }
    // Frames the decoder decoded, including those it decoded to reach a seek target.
    let frames = frames.max(dec.report().frames_decoded);
    Ok(PartCutouts {
        patches,
        covers,
        box_patch,
        hidden_px,
        whole_boxes,
        frames_decoded: frames,
        decode_s,
    })
}

/// Where one piece is shown in the synopsis (frame indices, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub first_frame: u64,
    pub last_frame: u64,
}

fn shown(plan: &Plan, tubes: &[TubeInput], fps: f64) -> Vec<Shown> {
    plan.pieces
        .iter()
        .map(|p| {
            let t = &tubes[p.tube];
            let s = p.start_ms;
            let e = p.synopsis_at(t.boxes[p.last_box].0);
            let first = (s as f64 * fps / 1000.0).ceil() as u64;
            let last = ((e as f64 * fps / 1000.0).floor() as u64).max(first);
            Shown {
                first_frame: first,
                last_frame: last,
            }
        })
        .collect()
}

/// Figures written before speeds existed: objects at their own pace.
fn own_pace() -> u32 {
    1
}

/// The measured figures of one synopsis (written into its index, read back by the desk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Sources (files) on the synopsis's timeline.
    pub sources: usize,
    /// The footage condensed: the sum of every source's stretch on the timeline, ms.
    pub source_duration_ms: i64,
    pub synopsis_duration_ms: i64,
    /// Source duration / synopsis duration.
    pub condensation: f64,
    /// Share of rendered object pixels that overlap another object's (0..1) shown at
    /// another relative time than in the footage: the collisions the synopsis made,
    /// counted per pixel while rendering (overlapping objects are drawn nearer-first).
    /// The collision budget applies to it.
    pub collision_rate: f64,
    /// Share of rendered object pixels that overlap another object's as they did in the
    /// footage (members of one group, shifted together): shown, not counted against the
    /// budget. `collision_rate + footage_overlap_rate` is every overlap. A pixel is judged
    /// against the first object drawn on it: where three overlap and the third shares
    /// the first one's clock, its pixel counts as the footage's.
    #[serde(default)]
    pub footage_overlap_rate: f64,
    /// Groups of objects that were together, each placed as one unit ([`group`]).
    #[serde(default)]
    pub groups: usize,
    /// How many times faster than in the footage moving objects are shown (1: their own
    /// pace; [`SynopsisConfig::object_speed`]).
    #[serde(default = "own_pace")]
    pub object_speed: u32,
    /// The plan's proxy of the same (0..1): object pixels per grid cell.
    pub box_collision: f64,
    /// The collision budget asked for, and whether the measured rate is within it.
    pub max_collision: f64,
    pub collision_within_budget: bool,
    pub objects_selected: usize,
    /// Objects shown, as moving segments or as part of the background (stationary).
    pub objects_shown: usize,
    /// Moving segments shown (a tube is one segment unless it stood still on the way or
    /// was cut).
    pub segments_shown: usize,
    /// Objects whose moving part was longer than the synopsis and was cut, and the
    /// segments they were cut into.
    pub objects_cut: usize,
    pub segments_cut: usize,
    /// The length long parts were cut for, ms.
    pub target_length_ms: i64,
    /// Stationary stretches shown as background, and objects shown only that way.
    pub stationary_stretches: usize,
    pub objects_stationary_only: usize,
    /// Most objects (moving segments) on screen at once, and the cap asked for.
    pub max_objects_at_once: usize,
    pub max_objects: Option<usize>,
    /// Unselected objects filled opaque in the backgrounds (filtered synopses).
    pub objects_redacted: usize,
    /// Boxes shown whole because the object had merged into the background.
    pub whole_boxes: u64,
    /// Cut-outs made between two detections (box interpolated).
    pub cutouts_between: u64,
    /// Share of moving objects' draws that repeat the cut-out of the previous synopsis
    /// frame (the object did not advance): 0 when every frame shows a new one.
    pub repeated_draws: f64,
    pub frames: u64,
    pub fps: f64,
    /// Source frames per second of decoding alone (in the cut-out pass).
    pub decode_fps: f64,
    /// Synopsis frames per second of composing + encoding.
    pub render_fps: f64,
    /// Seconds the cut-out pass spent in the decoder (long empty stretches are skipped).
    pub decode_s: f64,
    /// `render_s` over the time decoding the whole source takes at `decode_fps`: at most 1
    /// when rendering the synopsis takes no longer than decoding the source.
    pub render_vs_decode: f64,
    /// Seconds per step.
    pub background_s: f64,
    pub extract_s: f64,
    /// (Planning includes composing plans without drawing to count their collisions,
    /// `pixel_checks`.)
    pub plan_s: f64,
    /// Plans whose collisions were counted on the objects' pixels (composed without
    /// drawing) while the automatic length was searched ([`on_pixels`]); 0 for a given
    /// length or with `keep_order`.
    #[serde(default)]
    pub pixel_checks: u32,
    pub render_s: f64,
    /// Of `render_s`, seconds spent waiting for the H.264 encoder.
    pub encode_s: f64,
}

fn label_time(source: &SourceInput, pts_ms: i64) -> String {
    match (source.start, source.time_zone) {
        (Some(start), Some(zone)) => (start + chrono::Duration::milliseconds(pts_ms))
            .with_timezone(&zone)
            .format("%H:%M:%S")
            .to_string(),
        (Some(start), None) => {
            let t = start + chrono::Duration::milliseconds(pts_ms);
            t.format("%H:%M:%S").to_string()
        }
        (None, _) => format!("{:.1}s", pts_ms as f64 / 1000.0),
    }
}

/// The label of a moving piece at the source time it shows (`time`: its own real time),
/// the track, and `k/n` when the object is shown in several segments.
fn piece_label(time: &str, track_id: u64, p: &Piece) -> String {
    let mut s = format!("{time} #{track_id}");
    if p.segments > 1 {
        s.push_str(&format!(" {}/{}", p.segment, p.segments));
    }
    if p.speed > 1 {
        // Upper case: the 5x7 font has capitals only.
        s.push_str(&format!(" X{}", p.speed));
    }
    s
}

/// The label of a stationary stretch: from and to, and the track.
fn still_label(from: &str, to: &str, track_id: u64) -> String {
    format!("{from}-{to} #{track_id}")
}

/// Where a label goes: above its object, else below, else inside its top edge, the first
/// of those that does not cover an already placed label (above when all do), kept inside
/// the frame.
fn place_label(
    r: Rect,
    (tw, th): (u32, u32),
    (w, h): (u32, u32),
    placed: &[(i32, i32, i32, i32)],
) -> (i32, i32) {
    let (tw, th) = (tw as i32, th as i32);
    let x = (r.x as i32 + 1).min(w as i32 - tw - 2).max(1);
    let clamp_y = |y: i32| y.min(h as i32 - th - 2).max(1);
    let candidates = [
        clamp_y(r.y as i32 - th - 2),
        clamp_y((r.y + r.h) as i32 + 2),
        clamp_y(r.y as i32 + 2),
    ];
    let free = |y: i32| {
        placed.iter().all(|&(px, py, pw, ph)| {
            x + tw + 2 <= px || px + pw + 2 <= x || y + th + 2 <= py || py + ph + 2 <= y
        })
    };
    let y = candidates
        .iter()
        .copied()
        .find(|&y| free(y))
        .unwrap_or(candidates[0]);
    (x, y)
}

/// Order of drawing: farther first, so the nearer object (lower on the ground: larger
/// bottom edge) is drawn last and stays whole; ties keep their order.
pub fn nearer_last<T>(items: &mut [(Rect, T)]) {
    items.sort_by_key(|(r, _)| r.y + r.h);
}

/// Relative precision of the length [`on_pixels`] finds (3%: under a second for a
/// synopsis of 30 s).
const PIXEL_SEARCH_PRECISION: f64 = 0.03;
/// Longer lengths tried (in steps of 15%) when the grid's plan collides more on the pixels
/// than the budget; past that, the plan that collided least stands (its rate printed).
const PIXEL_SEARCH_GROWTH_STEPS: usize = 4;

/// A plan's collision rate on the pixels, and the frames its video would have.
type Measured = (f64, u64);

/// The automatic length, checked on the pixels. The grid plan (`grid`, the shortest
/// target length `grid_ms` whose *grid* collisions are within `budget`) counts each cell's
/// overlap as if the two objects' pixels in it met, so on the pixels it collides less
/// (vtest.avi: 3.1% where it planned 4.8%). So plans are composed without drawing
/// (`measured`: the render's own collision rate, and the frames the video would have)
/// and the target bisected, arranged at each length tried (`at_length`), down to the
/// shortest whose measured collisions are within the budget and whose video is no longer
/// than the best one's (a cap on objects at once can push pieces past a short target), to
/// [`PIXEL_SEARCH_PRECISION`]; never under half the grid's length, nor `range.0`. When the
/// grid's plan collides more than the budget on the pixels, longer targets (up to
/// `range.1`) are tried the same way. Returns the plan and the plans measured.
fn on_pixels<P>(
    grid: P,
    grid_ms: i64,
    budget: f64,
    range: (i64, i64),
    measured: &dyn Fn(&P) -> Result<Measured, SynopsisError>,
    at_length: &dyn Fn(i64) -> Result<P, SynopsisError>,
) -> Result<(P, u32), SynopsisError> {
    let mut checks = 1u32;
    let (rate, frames) = measured(&grid)?;
    let (mut lo, mut hi, mut best, mut best_frames) = if rate <= budget {
        ((grid_ms / 2).max(range.0), grid_ms, grid, frames)
    } else {
        // Longer until the pixels are within the budget (bisected below); else the plan
        // that collided least.
        let mut bad = grid_ms;
        let mut least = (rate, grid);
        let mut found = None;
        for _ in 0..PIXEL_SEARCH_GROWTH_STEPS {
            if bad >= range.1 {
                break;
            }
            let len = ((bad as f64 * 1.15) as i64).clamp(bad + 1, range.1);
            let p = at_length(len)?;
            checks += 1;
            let (rate, frames) = measured(&p)?;
            if rate <= budget {
                found = Some((len, p, frames));
                break;
            }
            if rate < least.0 {
                least = (rate, p);
            }
            bad = len;
        }
        match found {
            Some((len, p, frames)) => (bad, len, p, frames),
            None => return Ok((least.1, checks)),
        }
    };
    while (hi - lo) as f64 > PIXEL_SEARCH_PRECISION * hi as f64 && hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let p = at_length(mid)?;
        checks += 1;
        let (rate, frames) = measured(&p)?;
        if rate <= budget && frames <= best_frames {
            hi = mid;
            best = p;
            best_frames = frames;
        } else {
            lo = mid;
        }
    }
    Ok((best, checks))
}

/// What rendering produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub frames: u64,
    /// Per piece of the plan.
    pub shown: Vec<Shown>,
    /// Per stationary stretch of the plan: synopsis interval, ms, and whether its
    /// cut-out was pasted (else the background's median shows it).
    pub stills_shown: Vec<(i64, i64, bool)>,
    pub objects_shown: usize,
    pub max_at_once: usize,
    /// Object pixels that overlap another object shown at another relative time than in
    /// the footage (the synopsis made the overlap), as a share of object pixels.
    pub collision_rate: f64,
    /// Object pixels that overlap another object shown at the same relative time as in
    /// the footage (members of a group, [`group`]): the footage's own overlaps.
    pub footage_overlap_rate: f64,
    /// Moving draws, and those that repeat the piece's cut-out of the previous frame.
    pub moving_draws: u64,
    pub repeated_draws: u64,
    pub render_s: f64,
    /// Of which waiting for the encoder thread.
    pub encode_s: f64,
}

/// One object drawn in a frame: its cut-out and label, and its clock
/// ([`Piece::clock_key`]: the source time its clock shows at synopsis time 0; equal
/// clocks show one same moment of the footage); a distinct value for each stationary
/// stretch, which follows the background rather than a clock.
struct Draw {
    patch: Patch,
    label: String,
    clock: i64,
}

/// What the background of a synopsis moment is drawn from: one source's backgrounds, or
/// a camera's timeline of them ([`run_parts`]).
trait Scene {
    /// The background at timeline time `ms`, written into `out` (RGB24).
    fn blended_into(&self, ms: i64, out: &mut [u8]);
}

impl Scene for Backgrounds {
    fn blended_into(&self, ms: i64, out: &mut [u8]) {
        Backgrounds::blended_into(self, ms, out);
    }
}

/// A camera's timeline of backgrounds: each file's own, one after the other (switched
/// where one file's stretch ends and the next begins).
struct Timeline<'a> {
    /// (timeline offset of the stretch, its backgrounds, times from the stretch's start).
    parts: Vec<(i64, &'a Backgrounds)>,
}

impl Scene for Timeline<'_> {
    fn blended_into(&self, ms: i64, out: &mut [u8]) {
        let k = self
            .parts
            .partition_point(|(o, _)| *o <= ms)
            .saturating_sub(1);
        let (offset, b) = self.parts[k];
        b.blended_into(ms - offset, out);
    }
}

/// Step 4: compose and encode the synopsis into `output` (refused if it exists).
pub fn render(
    source: &SourceInput,
    tubes: &[TubeInput],
    plan: &Plan,
    backgrounds: &Backgrounds,
    cutouts: &Cutouts,
    output: &Path,
) -> Result<Rendered, SynopsisError> {
    render_on(
        source,
        tubes,
        plan,
        backgrounds,
        cutouts,
        Some(output),
        &|_, pts| label_time(source, pts),
    )
}

/// Step 4 without drawing: what [`render`] would give for `plan` (frames, objects shown,
/// most at once, the pixel collision rate, counted the same way) with nothing drawn or
/// encoded; how [`run_parts`] measures the plans of its length search.
pub fn compose_dry(
    source: &SourceInput,
    tubes: &[TubeInput],
    plan: &Plan,
    backgrounds: &Backgrounds,
    cutouts: &Cutouts,
) -> Result<Rendered, SynopsisError> {
    render_on(
        source,
        tubes,
        plan,
        backgrounds,
        cutouts,
        None,
        &|_, pts| label_time(source, pts),
    )
}

/// [`render`] over any [`Scene`]; `time_of(tube, ms)`: the label time of a tube's
/// timeline moment (its own source's wall clock or media time). With no `output`, a dry
/// run: the objects are composed and their collisions counted exactly as for the video,
/// but nothing else is drawn or encoded (the length search measures plans that way).
fn render_on(
    source: &SourceInput,
    tubes: &[TubeInput],
    plan: &Plan,
    backgrounds: &dyn Scene,
    cutouts: &Cutouts,
    output: Option<&Path>,
    time_of: &dyn Fn(usize, i64) -> String,
) -> Result<Rendered, SynopsisError> {
    validate_inputs(source, tubes)?;
    let t0 = Instant::now();
    let (w, h) = source.frame_size;
    let fps = source.fps;
    let shown = shown(plan, tubes, fps);
    // As long as the last piece or stationary stretch shown; the background follows the
    // plan's scene clock (the source time over the length the plan placed everything in,
    // the time band's; or the objects' own clock when they are shown as in the footage).
    let frames = shown
        .iter()
        .map(|s| s.last_frame + 1)
        .chain(
            plan.still_windows
                .iter()
                .map(|&(_, b)| (b as f64 * fps / 1000.0).ceil() as u64),
        )
        .max()
        .unwrap_or_else(|| (plan.target_ms as f64 * fps / 1000.0).ceil() as u64)
        .max(1);
    let stills: Vec<(i64, i64, Option<Patch>, String, Rect)> = plan
        .stills
        .iter()
        .zip(&plan.still_windows)
        .map(|(s, &(a, b))| {
            let t = &tubes[s.tube];
            let (from, to) = (t.boxes[s.first_box].0, t.boxes[s.last_box].0);
            let mid = &t.boxes[(s.first_box + s.last_box) / 2].1;
            let r = Rect::clamp(mid, w, h).unwrap_or(Rect {
                x: 0,
                y: 0,
                w: 1,
                h: 1,
            });
            (
                a,
                b,
                still_patch(cutouts, tubes, s),
                still_label(&time_of(s.tube, from), &time_of(s.tube, to), t.track_id),
                r,
            )
        })
        .collect();
    let mut writer = match output {
        Some(output) => Some(encode::WriterThread::spawn(output, w, h, fps)?),
        None => None,
    };
    let dry = writer.is_none();
    let n = (w * h) as usize;
    let mut img = vec![0u8; n * 3];
    let mut count = vec![0u8; n];
    // The clock of the first object drawn on each pixel (valid where `count` > 0).
    let mut first_clock = vec![0i64; n];
    let mut patch = Vec::new();
    let mut was_shown = vec![false; tubes.len()];
    let (mut obj_px, mut overlap_px, mut footage_px) = (0u64, 0u64, 0u64);
    let mut encode_s = 0.0;
    let mut max_at_once = 0usize;
    // Per piece, the scratch offset of the cut-out it showed last.
    let mut last_shown = vec![u64::MAX; plan.pieces.len()];
    let (mut moving_draws, mut repeated_draws) = (0u64, 0u64);
    // 5x7 labels at working resolutions up to 960 px wide, doubled above.
    let scale = if w > 960 { 2 } else { 1 };
    // Pieces by first frame; the active set is small.
    let mut by_start: Vec<usize> = (0..plan.pieces.len()).collect();
    by_start.sort_by_key(|&i| shown[i].first_frame);
    let mut next = 0;
    let mut active: Vec<usize> = Vec::new();
    let mut draws: Vec<(Rect, Draw)> = Vec::new();
    let mut label_only: Vec<(Rect, String)> = Vec::new();
    for f in 0..frames {
        while next < by_start.len() && shown[by_start[next]].first_frame <= f {
            active.push(by_start[next]);
            next += 1;
        }
        active.retain(|&i| shown[i].last_frame >= f);
        let t_ms = (f as f64 * 1000.0 / fps) as i64;
        let src_ms = plan.scene_clock.source_at(t_ms);
        if writer.is_some() {
            backgrounds.blended_into(src_ms, &mut img);
        }
        draws.clear();
        label_only.clear();
        // Stationary stretches: part of the background while the source time passes them.
        for (si, (s, (a, b, p, label, r))) in plan.stills.iter().zip(&stills).enumerate() {
            if !(*a..=*b).contains(&t_ms) {
                continue;
            }
            was_shown[s.tube] = true;
            match p {
                Some(p) => draws.push((
                    p.rect,
                    Draw {
                        patch: *p,
                        label: label.clone(),
                        clock: i64::MIN + si as i64,
                    },
                )),
                None => label_only.push((*r, label.clone())),
            }
        }
        let mut moving = 0usize;
        for &i in &active {
            let pc = &plan.pieces[i];
            let t = &tubes[pc.tube];
            let ps = &cutouts.patches[pc.tube];
            let (from, to) = (t.boxes[pc.first_box].0, t.boxes[pc.last_box].0);
            let want = pc.source_at(t_ms).clamp(from, to);
            let lo = ps.partition_point(|p| p.pts_ms < from);
            let hi = ps.partition_point(|p| p.pts_ms <= to);
            if lo >= hi {
                continue;
            }
            let k = ps[lo..hi]
                .partition_point(|p| p.pts_ms <= want)
                .saturating_sub(1);
            let p = ps[lo + k];
            moving_draws += 1;
            repeated_draws += u64::from(last_shown[i] == p.offset);
            last_shown[i] = p.offset;
            was_shown[pc.tube] = true;
            moving += 1;
            draws.push((
                p.rect,
                Draw {
                    patch: p,
                    // A dry run draws no label.
                    label: if dry {
                        String::new()
                    } else {
                        piece_label(&time_of(pc.tube, p.pts_ms), t.track_id, pc)
                    },
                    clock: pc.clock_key(),
                },
            ));
        }
        max_at_once = max_at_once.max(moving);
        nearer_last(&mut draws);
        // Collisions counted as pixels are covered: a pixel's objects all count as
        // colliding from the second one on, as the footage's own overlap when the second
        // shows the same moment as the first (same clock: same group, or both at their own time).
        for (r, d) in &draws {
            cutouts.read(&d.patch, &mut patch)?;
            for y in 0..r.h as usize {
                let row = (r.y as usize + y) * w as usize + r.x as usize;
                for x in 0..r.w as usize {
                    let q = (y * r.w as usize + x) * 4;
                    if patch[q + 3] == 0 {
                        continue;
                    }
                    let j = row + x;
                    obj_px += 1;
                    let px = match count[j] {
                        0 => {
                            first_clock[j] = d.clock;
                            0
                        }
                        1 => 2,
                        _ => 1,
                    };
                    if first_clock[j] == d.clock {
                        footage_px += px;
                    } else {
                        overlap_px += px;
                    }
                    count[j] = count[j].saturating_add(1);
                    if dry {
                        continue;
                    }
                    img[j * 3..j * 3 + 3].copy_from_slice(&patch[q..q + 3]);
                }
            }
        }
        for (r, _) in &draws {
            for y in r.y..r.y + r.h {
                let row = (y * w + r.x) as usize;
                count[row..row + r.w as usize].fill(0);
            }
        }
        let Some(writer) = writer.as_mut() else {
            continue;
        };
        // Labels: the nearest objects choose their place first.
        let mut placed: Vec<(i32, i32, i32, i32)> = Vec::with_capacity(draws.len());
        let labels = draws
            .iter()
            .rev()
            .map(|(r, d)| (r, &d.label))
            .chain(label_only.iter().map(|(r, l)| (r, l)));
        for (r, text) in labels {
            let (tw, th) = font::text_size(text, scale);
            let xy = place_label(*r, (tw, th), (w, h), &placed);
            placed.push((xy.0, xy.1, tw as i32, th as i32));
            font::draw_text(&mut img, w, h, xy.0, xy.1, text, scale);
        }
        let te = Instant::now();
        writer.push(img.clone())?;
        encode_s += te.elapsed().as_secs_f64();
    }
    let te = Instant::now();
    let written = match writer {
        Some(writer) => writer.finish()?,
        None => frames,
    };
    encode_s += te.elapsed().as_secs_f64();
    Ok(Rendered {
        frames: written,
        shown,
        stills_shown: stills.iter().map(|s| (s.0, s.1, s.2.is_some())).collect(),
        objects_shown: was_shown.iter().filter(|&&s| s).count(),
        max_at_once,
        moving_draws,
        repeated_draws,
        collision_rate: overlap_px as f64 / obj_px.max(1) as f64,
        footage_overlap_rate: footage_px as f64 / obj_px.max(1) as f64,
        render_s: t0.elapsed().as_secs_f64(),
        encode_s,
    })
}

/// A stationary stretch of an object, shown as part of the background.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationaryEntry {
    /// Source interval (media time, ms) and its wall-clock time when known.
    pub from_ms: i64,
    pub to_ms: i64,
    pub from_wall: Option<String>,
    pub to_wall: Option<String>,
    /// When the synopsis shows it (its background follows the source time).
    pub synopsis_start_ms: i64,
    pub synopsis_end_ms: i64,
    /// The object's cut-out was pasted into the background (else the median shows it).
    pub pasted: bool,
}

/// One segment of an object in the synopsis index: where it came from and where it is
/// shown. An object is one entry per moving segment, or one `background` entry when it
/// never moved (its stationary stretches say when).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexEntry {
    pub track_id: u64,
    pub label: String,
    pub source_id: String,
    pub source_path: PathBuf,
    /// The whole track (media time and wall clock).
    pub first_pts_ms: i64,
    pub last_pts_ms: i64,
    pub first_wall: Option<String>,
    pub last_wall: Option<String>,
    /// `tube` (a moving segment) or `background` (only ever stationary).
    pub shown_as: &'static str,
    /// This segment's number (1-based) and how many the object is shown in (0 of 0 for
    /// a `background` entry).
    pub segment: u32,
    pub segments: u32,
    /// Whether the segment comes from cutting a part longer than the synopsis.
    pub cut: bool,
    /// The source interval this entry shows (media time, wall clock).
    pub from_pts_ms: i64,
    pub to_pts_ms: i64,
    pub from_wall: Option<String>,
    pub to_wall: Option<String>,
    pub synopsis_start_ms: i64,
    pub synopsis_end_ms: i64,
    pub first_frame: u64,
    pub last_frame: u64,
    /// For a `tube` entry, how many times faster than in the footage it moves on screen:
    /// from `synopsis_start_ms`, source time advances `speed` ms per synopsis ms (indexes
    /// written before speeds: 1). A `background` entry (1 here) is shown while the scene
    /// passes it: its times are those of its `stationary` windows.
    pub speed: u32,
    /// The object's stationary stretches (shown as background), all of them on each of
    /// its entries.
    pub stationary: Vec<StationaryEntry>,
}

fn rfc3339(
    ms: Option<i64>,
    start: Option<DateTime<FixedOffset>>,
    zone: Option<chrono_tz::Tz>,
) -> Option<String> {
    let t = DateTime::from_timestamp_millis(ms?)?;
    Some(match (zone, start) {
        (Some(z), _) => t.with_timezone(&z).to_rfc3339(),
        (None, Some(s)) => t.with_timezone(s.offset()).to_rfc3339(),
        (None, None) => t.to_rfc3339(),
    })
}

/// Step 5a: the index entries: per tube (input order), one per moving segment, or one
/// `background` entry for an object that only stood still.
pub fn index_entries(
    source: &SourceInput,
    tubes: &[TubeInput],
    plan: &Plan,
    r: &Rendered,
) -> Vec<IndexEntry> {
    let origins = vec![(source, 0i64); tubes.len()];
    index_entries_on(source.fps, tubes, &origins, plan, r)
}

/// [`index_entries`] of tubes on a timeline: `origins[tube]` is the source the tube comes
/// from and the shift from its media time to the timeline (timeline = media + shift);
/// every time in an entry is the source's own (media time, wall clock).
fn index_entries_on(
    fps: f64,
    tubes: &[TubeInput],
    origins: &[(&SourceInput, i64)],
    plan: &Plan,
    r: &Rendered,
) -> Vec<IndexEntry> {
    let ms = |f: u64| (f as f64 * 1000.0 / fps).round() as i64;
    let frame = |t: i64| (t as f64 * fps / 1000.0).floor() as u64;
    let mut out = Vec::new();
    for (ti, t) in tubes.iter().enumerate() {
        let (source, shift) = origins[ti];
        let wall = |t: &TubeInput, pts: i64| {
            let w = t.first_wall_ms.map(|w| w + (pts - t.first_pts_ms));
            rfc3339(w, source.start, source.time_zone)
        };
        let stationary: Vec<StationaryEntry> = plan
            .stills
            .iter()
            .zip(&r.stills_shown)
            .filter(|(s, _)| s.tube == ti)
            .map(|(s, &(a, b, pasted))| {
                let (from, to) = (
                    t.boxes[s.first_box].0 - shift,
                    t.boxes[s.last_box].0 - shift,
                );
                StationaryEntry {
                    from_ms: from,
                    to_ms: to,
                    from_wall: wall(t, from),
                    to_wall: wall(t, to),
                    synopsis_start_ms: a,
                    synopsis_end_ms: b,
                    pasted,
                }
            })
            .collect();
        let base = |shown_as, segment, segments, cut, from: i64, to: i64| IndexEntry {
            track_id: t.track_id,
            label: t.label.clone(),
            source_id: source.source_id.clone(),
            source_path: source.path.clone(),
            first_pts_ms: t.first_pts_ms,
            last_pts_ms: t.last_pts_ms,
            first_wall: rfc3339(t.first_wall_ms, source.start, source.time_zone),
            last_wall: rfc3339(t.last_wall_ms, source.start, source.time_zone),
            shown_as,
            segment,
            segments,
            cut,
            from_pts_ms: from,
            to_pts_ms: to,
            from_wall: wall(t, from),
            to_wall: wall(t, to),
            synopsis_start_ms: 0,
            synopsis_end_ms: 0,
            first_frame: 0,
            last_frame: 0,
            speed: 1,
            stationary: stationary.clone(),
        };
        let mut any = false;
        for (p, s) in plan
            .pieces
            .iter()
            .zip(&r.shown)
            .filter(|(p, _)| p.tube == ti)
        {
            any = true;
            let (from, to) = (
                t.boxes[p.first_box].0 - shift,
                t.boxes[p.last_box].0 - shift,
            );
            out.push(IndexEntry {
                synopsis_start_ms: ms(s.first_frame),
                synopsis_end_ms: ms(s.last_frame + 1),
                first_frame: s.first_frame,
                last_frame: s.last_frame,
                speed: p.speed,
                ..base("tube", p.segment, p.segments, p.cut, from, to)
            });
        }
        if !any {
            let a = stationary
                .iter()
                .map(|s| s.synopsis_start_ms)
                .min()
                .unwrap_or(0);
            let b = stationary
                .iter()
                .map(|s| s.synopsis_end_ms)
                .max()
                .unwrap_or(0);
            let (from, to) = (t.boxes[0].0 - shift, t.boxes[t.boxes.len() - 1].0 - shift);
            let last = frame(b).saturating_sub(1).max(frame(a));
            out.push(IndexEntry {
                synopsis_start_ms: a,
                synopsis_end_ms: b,
                first_frame: frame(a),
                last_frame: last,
                ..base("background", 0, 0, false, from, to)
            });
        }
    }
    out
}

fn vtt_time(ms: i64) -> String {
    let ms = ms.max(0);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Step 5b: a WebVTT track, one cue per entry while it is shown, naming the source file,
/// the track, the segment and its original times (for click-through in a player).
pub fn webvtt(entries: &[IndexEntry]) -> String {
    let mut order: Vec<&IndexEntry> = entries.iter().collect();
    order.sort_by_key(|e| (e.synopsis_start_ms, e.track_id, e.segment));
    let mut s = String::from("WEBVTT - vigie synopsis\n\n");
    for e in order {
        let when = match (&e.from_wall, &e.to_wall) {
            (Some(a), Some(b)) => format!("{a} .. {b}"),
            _ => format!(
                "{:.3} s .. {:.3} s",
                e.from_pts_ms as f64 / 1000.0,
                e.to_pts_ms as f64 / 1000.0
            ),
        };
        let part = match (e.shown_as, e.segments) {
            ("background", _) => " (stationary, in the background)".to_string(),
            (_, n) if n > 1 => format!(" (segment {}/{})", e.segment, n),
            _ => String::new(),
        };
        let part = match e.speed {
            0 | 1 => part,
            n => format!("{part} (shown {n}x faster)"),
        };
        s.push_str(&format!(
            "{}#{}.{}\n{} --> {}\n#{} {}{} | {} | source {} ({:.3}-{:.3} s) | {}\n\n",
            e.source_id,
            e.track_id,
            e.segment,
            vtt_time(e.synopsis_start_ms),
            vtt_time(e.synopsis_end_ms),
            e.track_id,
            e.label,
            part,
            when,
            e.source_id,
            e.from_pts_ms as f64 / 1000.0,
            e.to_pts_ms as f64 / 1000.0,
            e.source_path.display(),
        ));
    }
    s
}

/// A finished synopsis.
#[derive(Debug, Clone)]
pub struct Synopsis {
    pub figures: Figures,
    pub entries: Vec<IndexEntry>,
}

/// All steps on every selected tube, with no unselected object to hide (see [`run_with`]).
pub fn run(
    source: &SourceInput,
    tubes: &[TubeInput],
    cfg: &SynopsisConfig,
    output: &Path,
    scratch_dir: &Path,
) -> Result<Synopsis, SynopsisError> {
    run_with(source, tubes, &[], cfg, output, scratch_dir)
}

/// All steps: backgrounds, extraction, plan, rendering into `output`. `hidden`: the boxes
/// (per track, time-ordered) of the source's objects that were *not* selected (a
/// synopsis filtered by a query): they are cleared from the cut-outs and filled opaque in
/// the backgrounds where they may show, so they are never visible.
pub fn run_with(
    source: &SourceInput,
    tubes: &[TubeInput],
    hidden: &[Vec<(i64, BBox)>],
    cfg: &SynopsisConfig,
    output: &Path,
    scratch_dir: &Path,
) -> Result<Synopsis, SynopsisError> {
    let part = PartInput {
        source: source.clone(),
        from_ms: 0,
        to_ms: source.duration_ms,
        tubes: tubes.to_vec(),
        hidden: hidden.to_vec(),
    };
    run_parts(std::slice::from_ref(&part), cfg, output, scratch_dir)
}

/// One source's stretch on a synopsis timeline (a camera's files one after the other).
#[derive(Debug, Clone)]
pub struct PartInput {
    pub source: SourceInput,
    /// The stretch of the source shown, media ms (`0..duration_ms`: all of it).
    pub from_ms: i64,
    pub to_ms: i64,
    /// Its selected tubes, in the source's media time; boxes outside the stretch are
    /// left out (a tube with none left is not shown).
    pub tubes: Vec<TubeInput>,
    /// Its unselected objects' boxes (media time), as in [`run_with`].
    pub hidden: Vec<Vec<(i64, BBox)>>,
}

/// Where each part sits on the timeline: `shift` = timeline time - media time.
fn timeline_shifts(parts: &[PartInput]) -> Vec<i64> {
    let mut offset = 0i64;
    parts
        .iter()
        .map(|p| {
            let shift = offset - p.from_ms;
            offset += (p.to_ms - p.from_ms).max(0);
            shift
        })
        .collect()
}

/// The tubes of every part on the timeline (boxes clipped to the part's stretch, then
/// shifted), with each one's part.
fn timeline_tubes(parts: &[PartInput], shifts: &[i64]) -> (Vec<TubeInput>, Vec<usize>) {
    let mut tubes = Vec::new();
    let mut part_of = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        for t in &p.tubes {
            let boxes: Vec<(i64, BBox)> = t
                .boxes
                .iter()
                .filter(|(pts, _)| (p.from_ms..=p.to_ms).contains(pts))
                .map(|&(pts, b)| (pts + shifts[k], b))
                .collect();
            if boxes.is_empty() {
                continue;
            }
            tubes.push(TubeInput { boxes, ..t.clone() });
            part_of.push(k);
        }
    }
    (tubes, part_of)
}

/// [`run_with`] over several sources of one camera, one after the other on one timeline,
/// in the order given (the caller orders them by corrected wall clock). Each source keeps
/// its own backgrounds (the synopsis shows the scene of the file, and so of the hour, its
/// timeline moment falls in), its own labels (its wall clock, or media time) and its own
/// times in the index; every source must have the same working size. An automatic
/// length (not `keep_order`) is then checked and shortened on the objects' pixels
/// ([`on_pixels`], [`compose_dry`]).
pub fn run_parts(
    parts: &[PartInput],
    cfg: &SynopsisConfig,
    output: &Path,
    scratch_dir: &Path,
) -> Result<Synopsis, SynopsisError> {
    if output.exists() {
        return Err(SynopsisError::OutputExists(output.to_path_buf()));
    }
    // Refuse bad settings before any decoding.
    cfg.validate()?;
    let Some(first) = parts.first() else {
        return Err(SynopsisError::NoTubes);
    };
    if let Some(p) = parts
        .iter()
        .find(|p| p.source.frame_size != first.source.frame_size)
    {
        return Err(SynopsisError::InvalidConfig(format!(
            "sources of one synopsis must share a working size: {} is {}x{}, {} is {}x{} \
             (make one synopsis per size, or re-analyse them at one --width)",
            first.source.source_id,
            first.source.frame_size.0,
            first.source.frame_size.1,
            p.source.source_id,
            p.source.frame_size.0,
            p.source.frame_size.1
        )));
    }
    if let Some(p) = parts
        .iter()
        .find(|p| p.from_ms < 0 || p.to_ms <= p.from_ms || p.to_ms > p.source.duration_ms)
    {
        return Err(SynopsisError::InvalidConfig(format!(
            "invalid stretch {}..{} ms of {} (expected within 0..{} ms)",
            p.from_ms, p.to_ms, p.source.source_id, p.source.duration_ms
        )));
    }
    let shifts = timeline_shifts(parts);
    let (tubes, part_of) = timeline_tubes(parts, &shifts);
    let timeline_ms: i64 = parts.iter().map(|p| p.to_ms - p.from_ms).sum();
    // What planning and rendering see: one footage of the timeline's length.
    let canvas = SourceInput {
        source_id: parts
            .iter()
            .map(|p| p.source.source_id.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        path: first.source.path.clone(),
        stream_index: None,
        frame_size: first.source.frame_size,
        duration_ms: timeline_ms,
        fps: parts
            .iter()
            .map(|p| p.source.fps)
            .fold(first.source.fps, f64::max),
        start: None,
        time_zone: None,
    };
    validate_inputs(&canvas, &tubes)?;
    for p in parts {
        if !(p.source.fps.is_finite() && p.source.fps > 0.0) {
            return Err(SynopsisError::InvalidConfig(format!(
                "invalid frame rate {} of {} (expected > 0)",
                p.source.fps, p.source.source_id
            )));
        }
    }
    let t = Instant::now();
    let mut bgs = Vec::with_capacity(parts.len());
    for p in parts {
        bgs.push(build_backgrounds_within(
            &p.source, p.from_ms, p.to_ms, cfg,
        )?);
    }
    let background_s = t.elapsed().as_secs_f64();
    // Step 2, each source in turn into one scratch file.
    let t0 = Instant::now();
    let scratch = tempfile::tempfile_in(scratch_dir).map_err(SynopsisError::Io)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, &scratch);
    let mut offset = 0u64;
    let mut cut = Cutouts {
        scratch: scratch.try_clone().map_err(SynopsisError::Io)?,
        patches: Vec::with_capacity(tubes.len()),
        covers: Vec::with_capacity(tubes.len()),
        box_patch: Vec::with_capacity(tubes.len()),
        hidden_px: 0,
        whole_boxes: 0,
        frames_decoded: 0,
        decode_s: 0.0,
        extract_s: 0.0,
    };
    for (k, p) in parts.iter().enumerate() {
        // This part's tubes as the timeline has them, back in media time (clipped).
        let local: Vec<TubeInput> = tubes
            .iter()
            .zip(&part_of)
            .filter(|(_, &pk)| pk == k)
            .map(|(t, _)| TubeInput {
                boxes: t.boxes.iter().map(|&(g, b)| (g - shifts[k], b)).collect(),
                ..t.clone()
            })
            .collect();
        if local.is_empty() {
            continue;
        }
        let pc = extract_part(
            &p.source,
            &local,
            &p.hidden,
            &bgs[k],
            p.from_ms,
            cfg,
            &mut out,
            &mut offset,
        )?;
        for mut list in pc.patches {
            for patch in &mut list {
                patch.pts_ms += shifts[k];
            }
            cut.patches.push(list);
        }
        cut.covers.extend(pc.covers);
        cut.box_patch.extend(pc.box_patch);
        cut.hidden_px += pc.hidden_px;
        cut.whole_boxes += pc.whole_boxes;
        cut.frames_decoded += pc.frames_decoded;
        cut.decode_s += pc.decode_s;
    }
    out.flush().map_err(SynopsisError::Io)?;
    drop(out);
    cut.extract_s = t0.elapsed().as_secs_f64();
    // Unselected objects filled where they may show in each file's medians.
    let mut redacted = 0;
    for (p, b) in parts.iter().zip(bgs.iter_mut()) {
        let hidden: Vec<Vec<(i64, BBox)>> = p
            .hidden
            .iter()
            .map(|h| h.iter().map(|&(t, b)| (t - p.from_ms, b)).collect())
            .collect();
        redacted += b.redact(&hidden, HIDE_PAD);
    }
    let scene = Timeline {
        parts: parts
            .iter()
            .zip(&shifts)
            .zip(&bgs)
            .map(|((p, s), b)| (p.from_ms + s, b))
            .collect(),
    };
    let time_of = |ti: usize, ms: i64| {
        let k = part_of[ti];
        label_time(&parts[k].source, ms - shifts[k])
    };
    let tp = Instant::now();
    let mut plan = plan_on_masks(&canvas, &tubes, &cut, cfg)?;
    let mut pixel_checks = 0;
    if cfg.length_ms.is_none() && !cfg.keep_order {
        let measured = |plan: &Plan| {
            render_on(&canvas, &tubes, plan, &scene, &cut, None, &time_of)
                .map(|r| (r.collision_rate, r.frames))
        };
        let at_length = |len: i64| {
            let fixed = SynopsisConfig {
                length_ms: Some(len),
                ..cfg.clone()
            };
            plan_on_masks(&canvas, &tubes, &cut, &fixed)
        };
        // Within what a given length may be (validated as such).
        let max_ms = cfg
            .max_length_ms
            .unwrap_or(canvas.duration_ms)
            .min(canvas.duration_ms)
            .min(MAX_LENGTH_MS)
            .max(cfg.min_segment_ms);
        let grid_ms = plan.target_ms;
        (plan, pixel_checks) = on_pixels(
            plan,
            grid_ms,
            cfg.max_collision,
            (cfg.min_segment_ms, max_ms),
            &measured,
            &at_length,
        )?;
    }
    let plan_s = tp.elapsed().as_secs_f64();
    let r = render_on(&canvas, &tubes, &plan, &scene, &cut, Some(output), &time_of)?;
    let synopsis_ms = (r.frames as f64 * 1000.0 / canvas.fps).round() as i64;
    let origins: Vec<(&SourceInput, i64)> = part_of
        .iter()
        .map(|&k| (&parts[k].source, shifts[k]))
        .collect();
    let entries = index_entries_on(canvas.fps, &tubes, &origins, &plan, &r);
    let cut_pieces = plan.pieces.iter().filter(|p| p.cut);
    let objects_cut = {
        let mut t: Vec<usize> = cut_pieces.clone().map(|p| p.tube).collect();
        t.dedup();
        t.len()
    };
    let source = &canvas;
    let figures = Figures {
        sources: parts.len(),
        source_duration_ms: source.duration_ms,
        synopsis_duration_ms: synopsis_ms,
        condensation: source.duration_ms as f64 / synopsis_ms.max(1) as f64,
        collision_rate: r.collision_rate,
        footage_overlap_rate: r.footage_overlap_rate,
        groups: plan.groups,
        object_speed: cfg.object_speed,
        box_collision: plan.arrangement.box_collision,
        max_collision: cfg.max_collision,
        collision_within_budget: r.collision_rate <= cfg.max_collision,
        objects_selected: tubes.len(),
        objects_shown: r.objects_shown,
        segments_shown: plan.pieces.len(),
        objects_cut,
        segments_cut: cut_pieces.count(),
        target_length_ms: plan.target_ms,
        stationary_stretches: plan.stills.len(),
        objects_stationary_only: entries
            .iter()
            .filter(|e| e.shown_as == "background")
            .count(),
        max_objects_at_once: r.max_at_once,
        max_objects: cfg.max_objects,
        objects_redacted: redacted,
        whole_boxes: cut.whole_boxes,
        cutouts_between: cut.patches.iter().flatten().filter(|p| p.between).count() as u64,
        repeated_draws: r.repeated_draws as f64 / r.moving_draws.max(1) as f64,
        frames: r.frames,
        fps: source.fps,
        decode_fps: cut.frames_decoded as f64 / cut.decode_s.max(1e-9),
        render_fps: r.frames as f64 / r.render_s.max(1e-9),
        decode_s: cut.decode_s,
        // Against decoding the whole footage at the measured rate (the cut-out pass skips
        // long empty stretches, so its own decoding time can be shorter).
        render_vs_decode: r.render_s
            / (source.duration_ms as f64 / 1000.0 * source.fps
                / (cut.frames_decoded as f64 / cut.decode_s.max(1e-9)))
            .max(1e-9),
        background_s,
        extract_s: cut.extract_s,
        plan_s,
        pixel_checks,
        render_s: r.render_s,
        encode_s: r.encode_s,
    };
    Ok(Synopsis { entries, figures })
}

#[cfg(test)]
mod tests;
