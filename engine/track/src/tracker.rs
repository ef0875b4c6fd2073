//! ByteTrack-style multi-object tracker with an explicit push/flush lifecycle.
//!
//! Why ByteTrack: CCTV detections are often weak (occlusion, blur, small far objects).
//! Discarding low-score boxes breaks tracks; trusting them creates ghosts. ByteTrack keeps
//! both: high-score boxes are matched to every track first, then low-score boxes may only
//! *extend* tracks, never start one (ByteTrack: tracks seen in the previous frame; here
//! also lost tracks, when the box is the track's size, `lost_low_match`).
//!
//! Per frame ([`Tracker::update`]):
//! 1. predict every track with its Kalman filter to the frame's `pts_ms`;
//! 2. match high detections to confirmed tracks, IoU gate `high_match_iou_min`, optimal
//!    assignment (with `prefer_recent_tracks`, tracks seen in the previous frame are matched
//!    before lost ones, DeepSORT's matching cascade); a lost person's track takes only a
//!    box of its height within 1.25: a hidden person's prediction often lies on the nearer
//!    (taller) person walking in front, who must not continue the hidden one's track;
//! 3. match low detections to the confirmed tracks still unmatched that were seen last
//!    frame, gate `low_match_iou_min`, then (`lost_low_match`) the remaining low ones to
//!    lost tracks, same gate, height within 1.25; the rest become (or stay) lost;
//! 4. match the remaining high detections to tentative tracks (`tentative_match_iou_min`);
//!    a tentative track reaching `min_hits` is confirmed and gets the next id, one that
//!    misses a frame is dropped;
//! 5. start tentative tracks from the remaining detections scoring `new_track_score_min`;
//! 6. finish lost tracks unseen for more than `track_buffer_ms`.
//!
//! A track confirmed in step 4 first looks back (`backfill_ms`) through the boxes no
//! track took in the frames before its first one, low ones included, and takes those on
//! its way back ([`TrackerConfig::backfill_ms`]): an object that walks in partly hidden
//! scores low until it is in full view, and a recording knows when it really arrived.
//!
//! With `per_class`, a pair whose labels are not of one family
//! ([`crate::classes::same_family`]: `car`, `truck` and `bus` are, since COCO has no van)
//! is never matched; a track's label is the one most of its detections carried, and a
//! second box of another label of the family on an object already matched in the frame
//! starts no track (vigie's detector suppresses the family together, `vigie_detect::nms_groups`;
//! other detectors, or a looser NMS, may let both through). Ids are given at
//! confirmation, count up from 1 and are never reused. Finished tracks are collected
//! with [`Tracker::drain_finished`] during the run and [`Tracker::finish`] at the end.

use std::collections::VecDeque;

use vigie_core::classes::PERSON;
use vigie_core::{BBox, Detection};

use crate::assign::max_weight_matching;
use crate::classes::{same_family, LabelVotes};
use crate::config::{ConfigError, TrackerConfig, BACKFILL_MAX_MISSES};
use crate::kalman::Kalman;

/// Whether a history point is a measured box or the motion model's guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointSource {
    /// The box of the detection matched in this frame.
    Detection,
    /// No detection matched: the Kalman prediction (track was lost in this frame).
    Predicted,
}

/// One frame of a track.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrackPoint {
    pub pts_ms: i64,
    pub bbox_in_frame: BBox,
    /// Detection score, 0 for a predicted point.
    pub score: f32,
    pub source: PointSource,
}

/// Whether a confirmed track was matched in the last frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackState {
    /// Matched to a detection in the last frame.
    Tracked,
    /// Not matched in the last frame; kept (and predicted) for up to `track_buffer_ms`.
    Lost,
}

/// A confirmed track still alive.
#[derive(Debug, Clone)]
pub struct ActiveTrack {
    pub id: u64,
    pub label: String,
    pub state: TrackState,
    /// Every frame since the track's first detection (including the tentative frames before
    /// confirmation): detections, and predictions while lost; before the tentative's first
    /// detection, the boxes backfill took (detected frames where none was found are left
    /// out there). Time-ordered.
    pub history: Vec<TrackPoint>,
    kf: Kalman,
    last_detection_ms: i64,
    votes: LabelVotes,
    /// pts of the tentative track's first detection: points before it were taken by
    /// backfill at confirmation, and do not count in its measured speed (a young track
    /// must never look still because of where it stood, half hidden, before).
    born_ms: i64,
}

impl ActiveTrack {
    /// Whether the object stands still: its centre moved less than `max_speed_h_s` box
    /// heights per second over its last second of detections (or between its last two
    /// detections, when they are further apart: a still object is re-detected only every
    /// few seconds). Unknown (fewer than two detections, or less than 0.8 s apart) is not
    /// still.
    pub fn is_still(&self, max_speed_h_s: f32) -> bool {
        self.measured_speed_h_s()
            .is_some_and(|speed| speed < max_speed_h_s)
    }

    /// How fast the object moves, in box heights per second, measured on its detections
    /// since it was first seen by the tracker (backfilled points left out):
    /// its centre's displacement over its last second of detections (or between its last two detections, when they are further
    /// apart). `None` while unknown: fewer than two detections, or less than 0.8 s apart.
    ///
    /// Measured rather than taken from the Kalman filter, whose velocity starts at zero for
    /// a new track: a young track must never look slow.
    pub fn measured_speed_h_s(&self) -> Option<f32> {
        let mut dets = self
            .history
            .iter()
            .rev()
            .filter(|p| p.source == PointSource::Detection && p.pts_ms >= self.born_ms);
        let last = dets.next()?;
        let mut first = None;
        for p in dets {
            first = Some(p);
            if last.pts_ms - p.pts_ms >= 1000 {
                break;
            }
        }
        let first = first?;
        let dt_s = (last.pts_ms - first.pts_ms) as f32 / 1000.0;
        if dt_s < 0.8 {
            return None;
        }
        let (a, b) = (first.bbox_in_frame, last.bbox_in_frame);
        let (ca, cb) = (a.centre(), b.centre());
        let h = ((a.h + b.h) / 2.0).max(1.0);
        let moved = ((cb.0 - ca.0).powi(2) + (cb.1 - ca.1).powi(2)).sqrt() / h;
        Some(moved / dt_s)
    }

    /// The point for the most recent frame.
    pub fn last_point(&self) -> &TrackPoint {
        // A track is created from a detection, so its history is never empty.
        &self.history[self.history.len() - 1]
    }

    /// pts of the last matched detection.
    pub fn last_detection_pts_ms(&self) -> i64 {
        self.last_detection_ms
    }

    /// Current velocity of the box centre estimated by the motion model, pixels/second.
    pub fn velocity_px_s(&self, frame_interval_ms: f64) -> (f64, f64) {
        let (vx, vy) = self.kf.velocity_px_frame();
        let per_s = 1000.0 / frame_interval_ms;
        (vx * per_s, vy * per_s)
    }
}

/// Why a track ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Unseen for longer than `track_buffer_ms`.
    Lost,
    /// Still alive when the stream ended ([`Tracker::finish`]).
    EndOfStream,
}

/// A track that will not be updated again, for the describer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinishedTrack {
    pub id: u64,
    pub label: String,
    /// Time-ordered; starts and ends with a detection (trailing predictions are dropped).
    pub history: Vec<TrackPoint>,
    pub reason: FinishReason,
}

impl FinishedTrack {
    pub fn first_pts_ms(&self) -> i64 {
        self.history.first().map_or(0, |p| p.pts_ms)
    }
    pub fn last_pts_ms(&self) -> i64 {
        self.history.last().map_or(0, |p| p.pts_ms)
    }
    /// Detection points only.
    pub fn detections(&self) -> impl Iterator<Item = &TrackPoint> {
        self.history
            .iter()
            .filter(|p| p.source == PointSource::Detection)
    }
    /// Mean score of the detection points.
    pub fn mean_score(&self) -> f32 {
        let (n, s) = self
            .detections()
            .fold((0u32, 0f32), |(n, s), p| (n + 1, s + p.score));
        if n == 0 {
            0.0
        } else {
            s / n as f32
        }
    }
}

/// Something the caller did wrong while feeding the tracker.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrackError {
    #[error("frame at pts {pts_ms} ms is not after the previous frame ({previous_ms} ms): give the tracker frames in presentation order with strictly increasing timestamps (drop duplicated frames first)")]
    TimeNotIncreasing { pts_ms: i64, previous_ms: i64 },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Counters for diagnostics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TrackerStats {
    pub frames: u64,
    /// Detections with a non-finite or empty box, or a non-finite score: ignored.
    pub invalid_detections: u64,
    pub tentative_started: u64,
    /// Tentative tracks dropped before confirmation.
    pub tentative_dropped: u64,
    pub confirmed: u64,
    /// Points given to tracks at confirmation from the frames before their first one
    /// ([`TrackerConfig::backfill_ms`]).
    pub backfilled_points: u64,
    /// Lost tracks taken up again by a low detection of their size (`lost_low_match`).
    pub lost_low_matches: u64,
    pub finished: u64,
}

#[derive(Debug, Clone)]
struct Tentative {
    label: String,
    kf: Kalman,
    history: Vec<TrackPoint>,
    hits: u32,
    votes: LabelVotes,
}

/// Largest ratio between the height of a box taken by a lost person's track (any
/// score), or of a low box taken by backfill or by a lost track, and the track's box
/// expected there: a box much shorter is a part of the object (a head and shoulders
/// above a parked car, a torso behind a neighbour), much taller another object (on
/// TUD-Stadtmitte, a nearer person 1.35 times taller crossing in front of a hidden one
/// took the hidden one's track). A person
/// coming out from behind an occluder with a box of another height starts a new track,
/// which the offline linking ([`crate::link`]) joins to the old one by motion and colour.
const SAME_OBJECT_MAX_HEIGHT_RATIO: f32 = 1.25;

/// The tracker. One per video stream; not shared between threads.
#[derive(Debug)]
pub struct Tracker {
    cfg: TrackerConfig,
    confirmed: Vec<ActiveTrack>,
    tentative: Vec<Tentative>,
    finished: Vec<FinishedTrack>,
    next_id: u64,
    last_pts_ms: Option<i64>,
    stats: TrackerStats,
    /// The detections no track took, per detected frame, for the last `backfill_ms`.
    unused: VecDeque<(i64, Vec<Detection>)>,
}

fn valid(d: &Detection) -> bool {
    let b = &d.bbox_in_frame;
    [b.x, b.y, b.w, b.h, d.score].iter().all(|v| v.is_finite()) && b.w > 0.0 && b.h > 0.0
}

/// Two boxes of labels of one family overlapping at least this much in one frame are one
/// object labelled twice (vigie's detector suppresses the family together at 0.6, so this
/// is for detections from elsewhere or a looser NMS setting).
const SECOND_LABEL_IOU_MIN: f32 = 0.6;

/// A track as a stage of the association sees it: its predicted box, its label, and
/// whether a box must have its height ([`same_size`]) to be paired with it.
type Candidate<'a> = (BBox, &'a str, bool);

/// Whether `b` has the height of the box `expected` within [`SAME_OBJECT_MAX_HEIGHT_RATIO`].
fn same_size(b: &BBox, expected: &BBox) -> bool {
    let r = b.h / expected.h.max(1.0);
    (1.0 / SAME_OBJECT_MAX_HEIGHT_RATIO..=SAME_OBJECT_MAX_HEIGHT_RATIO).contains(&r)
}

/// Match `tracks` with detections `dets` (indices into `all`), gate `iou_min`; returns
/// (track index, detection index into `all`) pairs.
fn associate(
    tracks: &[Candidate<'_>],
    dets: &[usize],
    all: &[Detection],
    iou_min: f32,
    per_class: bool,
) -> Vec<(usize, usize)> {
    let pairs = max_weight_matching(tracks.len(), dets.len(), |t, d| {
        let det = &all[dets[d]];
        if per_class && !same_family(&det.label, tracks[t].1) {
            return None;
        }
        if tracks[t].2 && !same_size(&det.bbox_in_frame, &tracks[t].0) {
            return None;
        }
        let iou = tracks[t].0.iou(&det.bbox_in_frame);
        // Same objective as ByteTrack's lapjv with cost_limit: maximise sum(iou - iou_min).
        (iou >= iou_min).then(|| ((iou - iou_min) as f64 * 1e6).round() as i64 + 1)
    });
    pairs.into_iter().map(|(t, d)| (t, dets[d])).collect()
}

impl Tracker {
    /// A tracker with validated settings.
    pub fn new(cfg: TrackerConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Tracker {
            cfg,
            confirmed: Vec::new(),
            tentative: Vec::new(),
            finished: Vec::new(),
            next_id: 1,
            last_pts_ms: None,
            stats: TrackerStats::default(),
            unused: VecDeque::new(),
        })
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.cfg
    }

    pub fn stats(&self) -> TrackerStats {
        self.stats
    }

    /// Confirmed tracks alive after the last update (seen and lost).
    pub fn active(&self) -> &[ActiveTrack] {
        &self.confirmed
    }

    /// Where the motion model puts each confirmed track (in [`Tracker::active`]'s order)
    /// at `pts_ms`, without changing any track: what the caller expects to see in a frame
    /// it may not give to the detector.
    pub fn predicted_boxes(&self, pts_ms: i64) -> Vec<BBox> {
        let dt = self.last_pts_ms.map_or(0.0, |prev| {
            (pts_ms - prev) as f64 / self.cfg.frame_interval_ms
        });
        self.confirmed
            .iter()
            .map(|t| {
                let mut kf = t.kf.clone();
                kf.predict(dt, t.state == TrackState::Lost);
                kf.bbox()
            })
            .collect()
    }

    /// Whether a detection started a track that is not confirmed yet (it needs the next
    /// frames' detections to be).
    pub fn has_tentative(&self) -> bool {
        !self.tentative.is_empty()
    }

    /// Feed one frame's detections; returns the confirmed tracks alive after it (check
    /// `state` and `last_point()` for which were seen in this frame).
    pub fn update(
        &mut self,
        pts_ms: i64,
        detections: &[Detection],
    ) -> Result<&[ActiveTrack], TrackError> {
        if let Some(prev) = self.last_pts_ms {
            if pts_ms <= prev {
                return Err(TrackError::TimeNotIncreasing {
                    pts_ms,
                    previous_ms: prev,
                });
            }
            let dt = (pts_ms - prev) as f64 / self.cfg.frame_interval_ms;
            for t in &mut self.confirmed {
                t.kf.predict(dt, t.state == TrackState::Lost);
            }
            for t in &mut self.tentative {
                t.kf.predict(dt, false);
            }
        }
        self.last_pts_ms = Some(pts_ms);
        self.stats.frames += 1;
        let cfg = self.cfg.clone();

        let mut high = Vec::new();
        let mut low = Vec::new();
        for (i, d) in detections.iter().enumerate() {
            if !valid(d) {
                self.stats.invalid_detections += 1;
            } else if d.score >= cfg.high_score_min {
                high.push(i);
            } else if d.score >= cfg.low_score_min {
                low.push(i);
            }
        }

        // Stage 1: high detections against every confirmed track (with
        // `prefer_recent_tracks`: tracks seen last frame first, then lost ones).
        let boxes: Vec<Candidate<'_>> = self
            .confirmed
            .iter()
            .map(|t| {
                // The height rule of stage 1 is for persons: a pedestrian's box changes
                // height slowly, while a vehicle driving towards the camera, missed for a
                // few frames, comes back much taller than the lost track's (frozen)
                // predicted height (street-cctv-vehicles input_video.mp4 lost a car's
                // last 0.6 s to it, traffic-cctv video03.avi split a truck).
                let sized = t.state == TrackState::Lost && t.label == PERSON;
                (t.kf.bbox(), t.label.as_str(), sized)
            })
            .collect();
        let mut matched_track = vec![None::<usize>; self.confirmed.len()];
        let mut used_det = vec![false; detections.len()];
        let groups: Vec<Vec<usize>> = if cfg.prefer_recent_tracks {
            let (seen, lost): (Vec<usize>, Vec<usize>) = (0..self.confirmed.len())
                .partition(|&t| self.confirmed[t].state == TrackState::Tracked);
            vec![seen, lost]
        } else {
            vec![(0..self.confirmed.len()).collect()]
        };
        for group in groups {
            let gboxes: Vec<Candidate<'_>> = group.iter().map(|&t| boxes[t]).collect();
            let free: Vec<usize> = high.iter().copied().filter(|&d| !used_det[d]).collect();
            for (g, d) in associate(
                &gboxes,
                &free,
                detections,
                cfg.high_match_iou_min,
                cfg.per_class,
            ) {
                matched_track[group[g]] = Some(d);
                used_det[d] = true;
            }
        }
        // Stage 2: low detections against unmatched tracks seen in the previous frame.
        let rest: Vec<usize> = (0..self.confirmed.len())
            .filter(|&t| {
                matched_track[t].is_none() && self.confirmed[t].state == TrackState::Tracked
            })
            .collect();
        let rest_boxes: Vec<Candidate<'_>> = rest.iter().map(|&t| boxes[t]).collect();
        let m2 = associate(
            &rest_boxes,
            &low,
            detections,
            cfg.low_match_iou_min,
            cfg.per_class,
        );
        for (rt, d) in m2 {
            matched_track[rest[rt]] = Some(d);
            used_det[d] = true;
        }
        // Stage 2b (`lost_low_match`): low detections against lost tracks, gate
        // `low_match_iou_min`, where the box is the track's height within 1.25 (an object
        // coming out from behind another scores low first; a part of a neighbour is not
        // its size).
        if cfg.lost_low_match {
            let lost: Vec<usize> = (0..self.confirmed.len())
                .filter(|&t| {
                    matched_track[t].is_none() && self.confirmed[t].state == TrackState::Lost
                })
                .collect();
            let low_left: Vec<usize> = low.iter().copied().filter(|&d| !used_det[d]).collect();
            // Every lost track's height counts here, whatever its class.
            let lost_boxes: Vec<Candidate<'_>> = lost
                .iter()
                .map(|&t| (boxes[t].0, boxes[t].1, true))
                .collect();
            let pairs = associate(
                &lost_boxes,
                &low_left,
                detections,
                cfg.low_match_iou_min,
                cfg.per_class,
            );
            for (t, d) in pairs {
                matched_track[lost[t]] = Some(d);
                used_det[d] = true;
                self.stats.lost_low_matches += 1;
            }
        }
        drop(boxes);
        for (t, m) in self.confirmed.iter_mut().zip(&matched_track) {
            match m {
                Some(d) => {
                    let det = &detections[*d];
                    t.kf.update(&det.bbox_in_frame);
                    t.state = TrackState::Tracked;
                    t.last_detection_ms = pts_ms;
                    t.votes.add(&det.label, det.score);
                    if let Some(l) = t.votes.dominant() {
                        if l != t.label {
                            t.label = l.to_string();
                        }
                    }
                    t.history.push(TrackPoint {
                        pts_ms,
                        bbox_in_frame: det.bbox_in_frame,
                        score: det.score,
                        source: PointSource::Detection,
                    });
                }
                None => {
                    t.state = TrackState::Lost;
                    t.history.push(TrackPoint {
                        pts_ms,
                        bbox_in_frame: t.kf.bbox(),
                        score: 0.0,
                        source: PointSource::Predicted,
                    });
                }
            }
        }

        // Stage 3: remaining high detections against tentative tracks.
        let high_left: Vec<usize> = high.iter().copied().filter(|&d| !used_det[d]).collect();
        let tboxes: Vec<Candidate<'_>> = self
            .tentative
            .iter()
            .map(|t| (t.kf.bbox(), t.label.as_str(), false))
            .collect();
        let m3 = associate(
            &tboxes,
            &high_left,
            detections,
            cfg.tentative_match_iou_min,
            cfg.per_class,
        );
        drop(tboxes);
        let mut tent_match = vec![None::<usize>; self.tentative.len()];
        for (t, d) in m3 {
            tent_match[t] = Some(d);
            used_det[d] = true;
        }
        let old_tentative = std::mem::take(&mut self.tentative);
        for (mut t, m) in old_tentative.into_iter().zip(tent_match) {
            match m {
                Some(d) => {
                    let det = &detections[d];
                    t.kf.update(&det.bbox_in_frame);
                    t.hits += 1;
                    t.votes.add(&det.label, det.score);
                    if let Some(l) = t.votes.dominant() {
                        if l != t.label {
                            t.label = l.to_string();
                        }
                    }
                    t.history.push(TrackPoint {
                        pts_ms,
                        bbox_in_frame: det.bbox_in_frame,
                        score: det.score,
                        source: PointSource::Detection,
                    });
                    if t.hits >= cfg.min_hits {
                        self.confirm(t, pts_ms);
                    } else {
                        self.tentative.push(t);
                    }
                }
                None => {
                    self.stats.tentative_dropped += 1;
                    self.return_to_pool(t.history, &t.label);
                }
            }
        }

        // Stage 4: births.
        let mut born = vec![false; detections.len()];
        for &d in &high_left {
            let det = &detections[d];
            if used_det[d] || det.score < cfg.new_track_score_min {
                continue;
            }
            if cfg.per_class && self.second_label(detections, &used_det, &high_left, d) {
                continue;
            }
            self.stats.tentative_started += 1;
            born[d] = true;
            let mut votes = LabelVotes::default();
            votes.add(&det.label, det.score);
            let t = Tentative {
                votes,
                label: det.label.clone(),
                kf: Kalman::new(&det.bbox_in_frame),
                history: vec![TrackPoint {
                    pts_ms,
                    bbox_in_frame: det.bbox_in_frame,
                    score: det.score,
                    source: PointSource::Detection,
                }],
                hits: 1,
            };
            if cfg.min_hits <= 1 {
                self.confirm(t, pts_ms);
            } else {
                self.tentative.push(t);
            }
        }

        // Keep what no track took, for the tracks confirmed in the next frames.
        if cfg.backfill_ms > 0 {
            while self
                .unused
                .front()
                .is_some_and(|(t, _)| pts_ms - *t > cfg.backfill_ms)
            {
                self.unused.pop_front();
            }
            let left: Vec<Detection> = (0..detections.len())
                .filter(|&d| {
                    !used_det[d]
                        && !born[d]
                        && valid(&detections[d])
                        && detections[d].score >= cfg.low_score_min
                })
                .map(|d| detections[d].clone())
                .collect();
            // A frame with no box left is not kept: the pipeline also feeds the tracker
            // frames the detector never saw (empty), which must not count as misses.
            if !left.is_empty() {
                self.unused.push_back((pts_ms, left));
            }
        }

        // Stage 5: finish tracks lost for too long.
        let mut i = 0;
        while i < self.confirmed.len() {
            let t = &self.confirmed[i];
            let buffer = if t.is_still(cfg.still_speed_h_s) {
                cfg.still_track_buffer_ms
            } else {
                cfg.track_buffer_ms
            };
            if t.state == TrackState::Lost && pts_ms - t.last_detection_ms > buffer {
                let t = self.confirmed.remove(i);
                self.push_finished(t, FinishReason::Lost);
            } else {
                i += 1;
            }
        }
        Ok(&self.confirmed)
    }

    /// Whether detection `d` is a second box, of another label of the same family, on an
    /// object that already has one in this frame: a box matched to a track, or a birth
    /// candidate scoring higher (ties: the earlier one). Such a pair would otherwise give
    /// one van a `car` track and a `truck` track.
    fn second_label(
        &self,
        detections: &[Detection],
        used_det: &[bool],
        high_left: &[usize],
        d: usize,
    ) -> bool {
        let det = &detections[d];
        let same_object = |o: usize| {
            let other = &detections[o];
            o != d
                && other.label != det.label
                && same_family(&other.label, &det.label)
                && other.bbox_in_frame.iou(&det.bbox_in_frame) >= SECOND_LABEL_IOU_MIN
        };
        let matched = (0..detections.len()).any(|o| used_det[o] && same_object(o));
        let better_birth = high_left.iter().any(|&o| {
            !used_det[o]
                && detections[o].score >= self.cfg.new_track_score_min
                && same_object(o)
                && (detections[o].score > det.score || (detections[o].score == det.score && o < d))
        });
        matched || better_birth
    }

    /// The boxes of a tentative track that was dropped go back to the pool backfill reads:
    /// the frames where an object first scored high enough to start a track are the ones
    /// a later track of the same object should not lose.
    fn return_to_pool(&mut self, points: Vec<TrackPoint>, label: &str) {
        let Some(now_ms) = self.last_pts_ms else {
            return;
        };
        if self.cfg.backfill_ms <= 0 {
            return;
        }
        for p in points {
            // Older than what is kept: no track confirmed from now on looks that far back.
            if now_ms - p.pts_ms > self.cfg.backfill_ms {
                continue;
            }
            let det = Detection {
                bbox_in_frame: p.bbox_in_frame,
                label: label.to_string(),
                score: p.score,
            };
            match self.unused.binary_search_by_key(&p.pts_ms, |(t, _)| *t) {
                Ok(i) => self.unused[i].1.push(det),
                Err(i) => self.unused.insert(i, (p.pts_ms, vec![det])),
            }
        }
    }

    /// Extend a track being confirmed backwards through the detections no track took in
    /// the frames before its first point ([`TrackerConfig::backfill_ms`]): the box
    /// expected at each earlier frame is the earliest box found so far, moved back at the
    /// velocity of the track's first detections; the best overlapping detection of the
    /// track's class family (gate `low_match_iou_min`) is taken and removed from the pool.
    fn backfill(&mut self, history: &mut Vec<TrackPoint>, label: &str) {
        if self.cfg.backfill_ms <= 0 || self.unused.is_empty() {
            return;
        }
        let Some(first) = history.first().cloned() else {
            return;
        };
        let dets: Vec<&TrackPoint> = history
            .iter()
            .filter(|p| p.source == PointSource::Detection)
            .collect();
        let last = dets[dets.len() - 1];
        let dt = (last.pts_ms - first.pts_ms) as f32;
        let (c0, c1) = (first.bbox_in_frame.centre(), last.bbox_in_frame.centre());
        let v = if dt > 0.0 {
            ((c1.0 - c0.0) / dt, (c1.1 - c0.1) / dt)
        } else {
            (0.0, 0.0)
        };
        let (mut at_ms, mut at_box) = (first.pts_ms, first.bbox_in_frame);
        let mut found: Vec<TrackPoint> = Vec::new();
        let mut misses = 0;
        for (pts_ms, pool) in self.unused.iter_mut().rev() {
            if *pts_ms >= first.pts_ms {
                continue;
            }
            if first.pts_ms - *pts_ms > self.cfg.backfill_ms {
                break;
            }
            let back = (*pts_ms - at_ms) as f32;
            let expected = BBox {
                x: at_box.x + v.0 * back,
                y: at_box.y + v.1 * back,
                ..at_box
            };
            let best = pool
                .iter()
                .enumerate()
                .filter(|(_, d)| !self.cfg.per_class || same_family(&d.label, label))
                .filter(|(_, d)| same_size(&d.bbox_in_frame, &expected))
                .map(|(i, d)| (i, expected.iou(&d.bbox_in_frame)))
                .filter(|&(_, iou)| iou >= self.cfg.low_match_iou_min)
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
            match best {
                Some((i, _)) => {
                    let d = pool.swap_remove(i);
                    found.push(TrackPoint {
                        pts_ms: *pts_ms,
                        bbox_in_frame: d.bbox_in_frame,
                        score: d.score,
                        source: PointSource::Detection,
                    });
                    (at_ms, at_box) = (*pts_ms, d.bbox_in_frame);
                    misses = 0;
                }
                None => {
                    misses += 1;
                    if misses > BACKFILL_MAX_MISSES {
                        break;
                    }
                }
            }
        }
        if found.is_empty() {
            return;
        }
        self.stats.backfilled_points += found.len() as u64;
        found.reverse();
        found.append(history);
        *history = found;
    }

    fn confirm(&mut self, mut t: Tentative, pts_ms: i64) {
        let born_ms = t.history.first().map_or(pts_ms, |p| p.pts_ms);
        self.backfill(&mut t.history, &t.label);
        let id = self.next_id;
        self.next_id += 1;
        self.stats.confirmed += 1;
        self.confirmed.push(ActiveTrack {
            id,
            label: t.label,
            state: TrackState::Tracked,
            history: t.history,
            kf: t.kf,
            last_detection_ms: pts_ms,
            votes: t.votes,
            born_ms,
        });
    }

    fn push_finished(&mut self, t: ActiveTrack, reason: FinishReason) {
        let mut history = t.history;
        while history
            .last()
            .is_some_and(|p| p.source == PointSource::Predicted)
        {
            history.pop();
        }
        self.stats.finished += 1;
        self.finished.push(FinishedTrack {
            id: t.id,
            label: t.label,
            history,
            reason,
        });
    }

    /// Tracks finished (lost for good) since the last call, oldest first.
    pub fn drain_finished(&mut self) -> Vec<FinishedTrack> {
        std::mem::take(&mut self.finished)
    }

    /// End of stream: finish every confirmed track (tentative ones are dropped) and return
    /// all finished tracks not yet drained, ordered by id.
    pub fn finish(mut self) -> Vec<FinishedTrack> {
        let alive = std::mem::take(&mut self.confirmed);
        for t in alive {
            self.push_finished(t, FinishReason::EndOfStream);
        }
        self.stats.tentative_dropped += self.tentative.len() as u64;
        let mut out = std::mem::take(&mut self.finished);
        out.sort_by_key(|t| t.id);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, y: f32, label: &str, score: f32) -> Detection {
        Detection {
            bbox_in_frame: BBox {
                x,
                y,
                w: 30.0,
                h: 60.0,
            },
            label: label.into(),
            score,
        }
    }

    #[test]
    fn confirms_after_min_hits_and_keeps_the_id() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        assert!(tr
            .update(0, &[det(10.0, 10.0, "person", 0.9)])
            .unwrap()
            .is_empty());
        let a = tr.update(40, &[det(13.0, 10.0, "person", 0.9)]).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].id, 1);
        assert_eq!(
            a[0].history.len(),
            2,
            "tentative frames are kept in the history"
        );
        for i in 2..20 {
            let a = tr
                .update(i * 40, &[det(10.0 + 3.0 * i as f32, 10.0, "person", 0.9)])
                .unwrap();
            assert_eq!(a.len(), 1);
            assert_eq!(a[0].id, 1);
        }
        let f = tr.finish();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].history.len(), 20);
        assert_eq!(f[0].reason, FinishReason::EndOfStream);
    }

    #[test]
    fn low_score_detections_extend_but_never_start_tracks() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        // A low-score box alone never makes a track.
        for i in 0..5 {
            assert!(tr
                .update(i * 40, &[det(200.0, 10.0, "car", 0.3)])
                .unwrap()
                .is_empty());
        }
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        tr.update(0, &[det(10.0, 10.0, "person", 0.9)]).unwrap();
        tr.update(40, &[det(11.0, 10.0, "person", 0.9)]).unwrap();
        // Occluded: the detector's score drops, the track goes on.
        let a = tr.update(80, &[det(12.0, 10.0, "person", 0.3)]).unwrap();
        assert_eq!(a[0].state, TrackState::Tracked);
        assert_eq!(a[0].last_point().source, PointSource::Detection);
        assert_eq!(a[0].last_point().score, 0.3);
    }

    #[test]
    fn lost_tracks_are_predicted_then_finished_after_the_buffer() {
        let cfg = TrackerConfig {
            track_buffer_ms: 200,
            ..TrackerConfig::default()
        };
        let mut tr = Tracker::new(cfg).unwrap();
        for i in 0..5 {
            tr.update(i * 40, &[det(10.0 + 2.0 * i as f32, 10.0, "person", 0.9)])
                .unwrap();
        }
        let a = tr.update(200, &[]).unwrap();
        assert_eq!(a[0].state, TrackState::Lost);
        assert_eq!(a[0].last_point().source, PointSource::Predicted);
        // Predicted ahead along the motion.
        assert!(a[0].last_point().bbox_in_frame.x > 18.0);
        let mut finished = Vec::new();
        for i in 6..12 {
            tr.update(i * 40, &[]).unwrap();
            finished.extend(tr.drain_finished());
        }
        assert_eq!(finished.len(), 1);
        let f = &finished[0];
        assert_eq!(f.reason, FinishReason::Lost);
        assert_eq!(f.history.len(), 5, "trailing predictions are trimmed");
        assert!(tr.active().is_empty());
    }

    #[test]
    fn a_lost_track_is_recovered_with_the_same_id() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        for i in 0..5 {
            tr.update(i * 40, &[det(10.0 + 2.0 * i as f32, 10.0, "person", 0.9)])
                .unwrap();
        }
        for i in 5..10 {
            tr.update(i * 40, &[]).unwrap();
        }
        let a = tr.update(400, &[det(30.0, 10.0, "person", 0.9)]).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].id, 1);
        assert_eq!(a[0].state, TrackState::Tracked);
        let f = tr.finish();
        assert_eq!(f[0].history.len(), 11);
        assert_eq!(f[0].detections().count(), 6);
    }

    #[test]
    fn classes_are_not_mixed() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        tr.update(0, &[det(10.0, 10.0, "person", 0.9)]).unwrap();
        tr.update(40, &[det(10.0, 10.0, "person", 0.9)]).unwrap();
        tr.update(80, &[det(10.0, 10.0, "car", 0.9)]).unwrap();
        let a = tr.update(120, &[det(10.0, 10.0, "car", 0.9)]).unwrap();
        let labels: Vec<(u64, &str, TrackState)> = a
            .iter()
            .map(|t| (t.id, t.label.as_str(), t.state))
            .collect();
        assert_eq!(
            labels,
            vec![
                (1, "person", TrackState::Lost),
                (2, "car", TrackState::Tracked)
            ]
        );
    }

    #[test]
    fn a_van_called_car_then_truck_is_one_track_labelled_by_majority() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        // 20 frames: `car` in frames 0..6, then `truck`; in frames 6 and 7 both boxes
        // (per-class NMS keeps both), the second slightly shifted.
        for i in 0..20i64 {
            let x = 10.0 + 4.0 * i as f32;
            let mut dets = Vec::new();
            if i < 8 {
                dets.push(det(x, 10.0, "car", 0.8));
            }
            if i >= 6 {
                dets.push(det(x + 1.0, 11.0, "truck", 0.7));
            }
            let a = tr.update(i * 40, &dets).unwrap();
            if i >= 1 {
                assert_eq!(a.len(), 1, "frame {i}: {a:?}");
            }
        }
        let done = tr.finish();
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!(done[0].label, "truck", "most of its boxes say truck");
        assert_eq!(done[0].detections().count(), 20);
    }

    #[test]
    fn time_must_increase() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        tr.update(40, &[]).unwrap();
        let e = tr.update(40, &[]).unwrap_err();
        assert!(e.to_string().contains("strictly increasing"), "{e}");
    }

    #[test]
    fn invalid_detections_are_ignored_and_counted() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        let mut bad = det(0.0, 0.0, "person", 0.9);
        bad.bbox_in_frame.w = f32::NAN;
        let mut empty = det(0.0, 0.0, "person", 0.9);
        empty.bbox_in_frame.h = 0.0;
        tr.update(0, &[bad, empty]).unwrap();
        assert_eq!(tr.stats().invalid_detections, 2);
        assert_eq!(tr.stats().tentative_started, 0);
    }

    #[test]
    fn bad_config_is_refused() {
        let e = Tracker::new(TrackerConfig {
            track_buffer_ms: -1,
            ..TrackerConfig::default()
        })
        .unwrap_err();
        assert_eq!(e.name, "track_buffer_ms");
    }

    #[test]
    fn predicted_boxes_follow_the_motion_without_changing_the_tracks() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        for i in 0..10 {
            tr.update(i * 40, &[det(10.0 + 4.0 * i as f32, 10.0, "person", 0.9)])
                .unwrap();
        }
        let before = tr.active()[0].history.len();
        let now = tr.predicted_boxes(360)[0];
        let later = tr.predicted_boxes(760)[0];
        // 4 px per 40 ms: about 40 px further 400 ms later.
        assert!((later.x - now.x - 40.0).abs() < 6.0, "{now:?} {later:?}");
        assert_eq!(tr.active()[0].history.len(), before);
        assert_eq!(tr.active()[0].state, TrackState::Tracked);
    }

    #[test]
    fn speed_is_measured_on_detections_once_known() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        for i in 0..5 {
            tr.update(i * 100, &[det(10.0 + 3.0 * i as f32, 10.0, "person", 0.9)])
                .unwrap();
        }
        // 0.4 s of detections: too young to say.
        assert_eq!(tr.active()[0].measured_speed_h_s(), None);
        for i in 5..12 {
            tr.update(i * 100, &[det(10.0 + 3.0 * i as f32, 10.0, "person", 0.9)])
                .unwrap();
        }
        // 30 px/s with 60 px boxes: 0.5 box heights per second.
        let v = tr.active()[0].measured_speed_h_s().unwrap();
        assert!((v - 0.5).abs() < 0.02, "{v}");
        assert!(!tr.active()[0].is_still(0.1));
    }

    fn person(x: f32, score: f32) -> Detection {
        Detection {
            bbox_in_frame: BBox {
                x,
                y: 100.0,
                w: 40.0,
                h: 100.0,
            },
            label: "person".into(),
            score,
        }
    }

    /// A person walking in at 4 px per frame, scoring low (0.2) for `low` frames, then
    /// high; a parked car scoring low all along, elsewhere.
    fn walk_in(
        cfg: TrackerConfig,
        low: usize,
        frames: usize,
    ) -> (Vec<FinishedTrack>, TrackerStats) {
        let mut tr = Tracker::new(cfg).unwrap();
        for i in 0..frames {
            let score = if i < low { 0.2 } else { 0.8 };
            let mut car = det(400.0, 300.0, "car", 0.2);
            car.bbox_in_frame.w = 80.0;
            tr.update(i as i64 * 40, &[person(10.0 + 4.0 * i as f32, score), car])
                .unwrap();
        }
        let stats = tr.stats();
        (tr.finish(), stats)
    }

    #[test]
    fn a_track_confirmed_late_gets_the_low_boxes_before_it() {
        let (tracks, stats) = walk_in(TrackerConfig::default(), 10, 20);
        assert_eq!(tracks.len(), 1, "the low car starts no track");
        let t = &tracks[0];
        assert_eq!(t.label, "person");
        // Frames 0..10 scored 0.2: all within 1000 ms of frame 10, all taken.
        assert_eq!(t.first_pts_ms(), 0);
        assert_eq!(t.history.len(), 20);
        assert!(t.history.iter().all(|p| p.source == PointSource::Detection));
        assert_eq!(t.history[3].score, 0.2);
        assert_eq!(t.history[3].bbox_in_frame.x, 22.0);
        assert!(t.history.windows(2).all(|w| w[0].pts_ms < w[1].pts_ms));
        assert_eq!(stats.backfilled_points, 10);
    }

    #[test]
    fn backfill_looks_back_only_as_far_as_configured() {
        // 40 low frames (1600 ms): only those within 1000 ms of the first high one.
        let (tracks, _) = walk_in(TrackerConfig::default(), 40, 50);
        assert_eq!(tracks[0].first_pts_ms(), 40 * 40 - 1000);
        let off = TrackerConfig {
            backfill_ms: 0,
            ..TrackerConfig::default()
        };
        let (tracks, stats) = walk_in(off, 10, 20);
        assert_eq!(tracks[0].first_pts_ms(), 10 * 40);
        assert_eq!(stats.backfilled_points, 0);
    }

    #[test]
    fn backfill_follows_the_track_back_and_stops_where_it_is_not() {
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        // Frames 0-3: a low box far from where the person will be; frames 4-5: the
        // person, low; then missed for 4 detected frames that hold only the far box (the
        // gap ends the walk back before frame 5); frames 10-11: high.
        for i in 0..12i64 {
            let x = 10.0 + 4.0 * i as f32;
            let d = match i {
                0..=3 | 6..=9 => vec![person(400.0, 0.3)],
                4 | 5 => vec![person(x, 0.3)],
                _ => vec![person(x, 0.9)],
            };
            tr.update(i * 40, &d).unwrap();
        }
        let tracks = tr.finish();
        assert_eq!(tracks.len(), 1);
        let pts: Vec<i64> = tracks[0].detections().map(|p| p.pts_ms).collect();
        assert_eq!(
            pts,
            vec![400, 440],
            "4 misses in a row end it: frames 4-5 not reached"
        );
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        for i in 0..12i64 {
            let x = 10.0 + 4.0 * i as f32;
            let d = match i {
                0..=3 => vec![person(400.0, 0.3)],
                4..=7 => vec![person(x, 0.3)],
                8 => vec![],
                _ => vec![person(x, 0.9)],
            };
            tr.update(i * 40, &d).unwrap();
        }
        let tracks = tr.finish();
        let pts: Vec<i64> = tracks[0].detections().map(|p| p.pts_ms).collect();
        // One missed frame is crossed; the far boxes of frames 0-3 are not on its way.
        assert_eq!(pts, vec![160, 200, 240, 280, 360, 400, 440]);
    }

    #[test]
    fn frames_the_detector_did_not_see_are_not_misses() {
        // The pipeline feeds frames the motion gate kept from the detector as empty ones
        // while no track is live: five of them do not end the walk back.
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        for i in 0..11i64 {
            let x = 10.0 + 4.0 * i as f32;
            let d = match i {
                0..=3 => vec![person(x, 0.3)],
                4..=8 => vec![],
                _ => vec![person(x, 0.9)],
            };
            tr.update(i * 40, &d).unwrap();
        }
        let tracks = tr.finish();
        let pts: Vec<i64> = tracks[0].detections().map(|p| p.pts_ms).collect();
        assert_eq!(pts, vec![0, 40, 80, 120, 360, 400]);
    }

    #[test]
    fn a_backfilled_track_is_not_still_because_of_where_it_stood() {
        // Half hidden and standing for 1 s (low boxes), then walking fast in full view:
        // just confirmed, its speed is unknown (young), never "still".
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        for i in 0..27i64 {
            let (x, score) = if i < 25 {
                (10.0, 0.3)
            } else {
                (10.0 + 8.0 * (i - 24) as f32, 0.9)
            };
            tr.update(i * 40, &[person(x, score)]).unwrap();
        }
        let t = &tr.active()[0];
        assert!(t.history.len() > 20, "backfilled: {}", t.history.len());
        assert_eq!(t.measured_speed_h_s(), None);
        assert!(!t.is_still(0.1));
    }

    #[test]
    fn a_box_that_started_a_track_is_not_backfilled_into_another() {
        // min_hits 1: a birth is confirmed at once and its box must not stay in the pool.
        let cfg = TrackerConfig {
            min_hits: 1,
            ..TrackerConfig::default()
        };
        let mut tr = Tracker::new(cfg).unwrap();
        tr.update(0, &[person(100.0, 0.9)]).unwrap();
        tr.update(40, &[person(100.0, 0.9), person(112.0, 0.9)])
            .unwrap();
        let tracks = tr.finish();
        assert_eq!(tracks.len(), 2);
        let firsts: Vec<i64> = tracks.iter().map(|t| t.first_pts_ms()).collect();
        assert_eq!(firsts, vec![0, 40]);
    }

    #[test]
    fn a_lost_track_is_not_taken_up_by_a_sure_box_of_another_height() {
        // A far person (100 px high) walks left, seen for 5 frames, hidden for 4 (or not
        // hidden); then a sure box appears where its prediction lies. Of its height, it
        // is the same person come back; 1.4 times taller, it is a nearer person walking
        // in front (TUD-Stadtmitte, frames 50-62), who gets a track of its own. A track
        // seen in the previous frame, and a vehicle's (whose box grows fast as it comes
        // towards the camera), keep no height rule.
        let run = |h: f32, hidden: bool, label: &str| {
            let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
            for i in 0..16i64 {
                let x = 200.0 - 2.0 * i as f32;
                let mut d = person(x, 0.9);
                d.label = label.into();
                let dets = match i {
                    0..=4 => vec![d],
                    5..=8 if hidden => vec![],
                    5..=8 => vec![d],
                    _ => {
                        d.bbox_in_frame.x = x - 5.0;
                        d.bbox_in_frame.y = 200.0 - h;
                        d.bbox_in_frame.w = 0.4 * h;
                        d.bbox_in_frame.h = h;
                        vec![d]
                    }
                };
                tr.update(i * 40, &dets).unwrap();
            }
            let mut tracks: Vec<(i64, usize)> = tr
                .finish()
                .into_iter()
                .map(|t| (t.first_pts_ms(), t.detections().count()))
                .collect();
            tracks.sort();
            tracks
        };
        assert_eq!(
            run(110.0, true, "person"),
            vec![(0, 12)],
            "its own height: taken up again"
        );
        assert_eq!(
            run(140.0, true, "person"),
            vec![(0, 5), (360, 7)],
            "another height: a new track, the lost one keeps its own boxes"
        );
        assert_eq!(
            run(140.0, false, "person"),
            vec![(0, 16)],
            "a track seen in the previous frame takes it"
        );
        assert_eq!(
            run(140.0, true, "car"),
            vec![(0, 12)],
            "a vehicle's lost track takes it"
        );
    }

    #[test]
    fn a_lost_track_is_taken_up_again_by_a_low_box_of_its_size() {
        // Seen (high) for 5 frames, unseen for 3, then low boxes where it is expected.
        let run = |h: f32, lost_low_match: bool| {
            let cfg = TrackerConfig {
                lost_low_match,
                ..TrackerConfig::default()
            };
            let mut tr = Tracker::new(cfg).unwrap();
            for i in 0..12i64 {
                let mut d = person(10.0 + 4.0 * i as f32, 0.9);
                let dets = match i {
                    0..=4 => vec![d],
                    5..=7 => vec![],
                    _ => {
                        d.score = 0.3;
                        d.bbox_in_frame.h = h;
                        vec![d]
                    }
                };
                tr.update(i * 40, &dets).unwrap();
            }
            tr.finish()
                .into_iter()
                .map(|t| t.detections().count())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            run(100.0, true),
            vec![9],
            "one track, 5 high and 4 low boxes"
        );
        assert_eq!(
            run(100.0, false),
            vec![5],
            "ByteTrack: low boxes extend only seen tracks"
        );
        assert_eq!(
            run(60.0, true),
            vec![5],
            "a box not the track's size is not taken"
        );
    }

    #[test]
    fn the_boxes_of_a_dropped_tentative_go_to_the_track_confirmed_later() {
        // Frame 2 scores high enough to start a track, frame 3 not (the tentative is
        // dropped), frames 4-5 do: the track confirmed at frame 5 gets frames 0-3 back.
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        for (i, score) in [0.3, 0.3, 0.7, 0.4, 0.8, 0.8].into_iter().enumerate() {
            let i = i as i64;
            tr.update(i * 40, &[person(10.0 + 4.0 * i as f32, score)])
                .unwrap();
        }
        let tracks = tr.finish();
        assert_eq!(tracks.len(), 1);
        let scores: Vec<f32> = tracks[0].detections().map(|p| p.score).collect();
        assert_eq!(scores, vec![0.3, 0.3, 0.7, 0.4, 0.8, 0.8]);
    }

    #[test]
    fn backfill_takes_no_part_of_the_object() {
        // Frames 0-3: only the upper half of the person scores (a low box half as tall,
        // at the same place): not the object's box, not taken.
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        for i in 0..6i64 {
            let mut d = person(10.0 + 4.0 * i as f32, if i < 4 { 0.3 } else { 0.9 });
            if i < 4 {
                d.bbox_in_frame.h = 50.0;
            }
            tr.update(i * 40, &[d]).unwrap();
        }
        let tracks = tr.finish();
        assert_eq!(tracks[0].first_pts_ms(), 160);
    }

    #[test]
    fn a_box_taken_by_backfill_is_not_taken_again() {
        // Two persons confirmed one after the other along the same path: the low boxes
        // go to the first one confirmed.
        let mut tr = Tracker::new(TrackerConfig::default()).unwrap();
        for i in 0..8i64 {
            let x = 10.0 + 4.0 * i as f32;
            let mut d = vec![person(x, if i < 4 { 0.2 } else { 0.9 })];
            if i >= 6 {
                d.push(person(300.0, 0.9));
            }
            tr.update(i * 40, &d).unwrap();
        }
        let stats = tr.stats();
        let tracks = tr.finish();
        assert_eq!(tracks.len(), 2);
        assert_eq!(stats.backfilled_points, 4);
        assert_eq!(tracks[0].first_pts_ms(), 0);
        assert_eq!(tracks[1].first_pts_ms(), 240);
    }
}
