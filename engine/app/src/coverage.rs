//! Coverage: for each camera, which wall-clock intervals were recorded, analysed (at what
//! sampling), damaged, or missing.
//!
//! Why: a search that finds nothing between 14:00 and 15:00 says nothing about what
//! happened then unless one knows whether footage of that hour exists, whether it was
//! analysed and how densely. "No hit" is not "nothing happened". Investigators (`vigie
//! coverage`), the note search adds to a time range it does not fully cover
//! ([`crate::results::time_coverage`]) and the magistrate reading the exploitation report
//! must all get the same answer, so it is computed once, here.
//!
//! Every camera and wall-clock start comes from [`SourceTiming`] (the clock correction in
//! force), never from the registry's raw start, so coverage, search and report agree on
//! when footage was recorded. The computation itself ([`compute`]) is pure over plain
//! [`SourceFacts`]: [`coverage`] builds them inside an entered case (and records the
//! consultation); administration builds them without entering the case, for the report
//! ([`compute_from`]).
//!
//! At each instant a camera is in the best state any of its recordings gives it:
//! `analysed` > `recorded` (not analysed) > `damaged` > `missing`. Overlapping recordings
//! of one camera are merged that way, and the overlap is reported. `damaged` is time
//! inside a recording with no usable picture: a hole in its timestamps, or the part after
//! a truncation or a read error up to the duration the container states. `missing` is
//! time with no recording at all between a camera's recordings, and before or after them
//! inside a requested range. A salvaged export (cut before its index) keeps the state of
//! what was recovered and is flagged. A source whose start (or length) is unknown cannot be
//! placed in time: it is listed apart, with how to fix it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use vigie_audit::event::{Event, ExportKind, FileHash};
use vigie_case::report::{
    CameraCoverageRow, CoverageIntervalRow, CoverageSection, UnplacedSourceRow,
};
use vigie_core::clock::{format_local, parse_zone, zone_offset_ms};
use vigie_evidence::SourceRecord;
use vigie_index::{QueryError, SourceInfo};

use crate::entered::EnteredCase;
use crate::error::AppError;
use crate::export::ExportTarget;
use crate::timing::SourceTiming;

/// Frame duration assumed when a source states no frame rate (25 fps).
const DEFAULT_FRAME_MS: i64 = 40;

// ---- types ------------------------------------------------------------------------------

/// What a camera's footage is at some wall-clock time. Ordered worst to best: where
/// recordings overlap, the best state wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageState {
    /// No recording of this camera.
    Missing,
    /// Inside a recording, but no usable picture (hole in the timestamps, truncated).
    Damaged,
    /// Recorded, not analysed: a search finds nothing there.
    Recorded,
    /// Recorded and analysed (see the interval's sampling).
    Analysed,
}

impl CoverageState {
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageState::Missing => "missing",
            CoverageState::Damaged => "damaged",
            CoverageState::Recorded => "recorded",
            CoverageState::Analysed => "analysed",
        }
    }

    /// The state said for people.
    pub fn describe(self) -> &'static str {
        match self {
            CoverageState::Missing => "missing (no recording)",
            CoverageState::Damaged => "damaged",
            CoverageState::Recorded => "recorded, not analysed",
            CoverageState::Analysed => "analysed",
        }
    }
}

/// Why part of a recording holds no usable picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DamageKind {
    /// The timestamps jump forward: no frame was recorded for a while.
    Gap,
    /// The file ends before the duration its container states.
    Truncated,
    /// Reading stopped on an error before the duration the container states.
    ReadError,
}

impl DamageKind {
    pub fn describe(self) -> &'static str {
        match self {
            DamageKind::Gap => "hole in the recording's timestamps",
            DamageKind::Truncated => "file truncated: ends before its stated duration",
            DamageKind::ReadError => "read error: the rest of the file could not be read",
        }
    }
}

/// One wall-clock interval `[from_wall_ms, to_wall_ms)` of one camera in one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub from_wall_ms: i64,
    pub to_wall_ms: i64,
    pub state: CoverageState,
    /// How analysed footage was sampled (`all`, `10fps`, `keyframes`...; several joined
    /// with `, ` where analysed recordings overlap); `None` for other states.
    pub sampling: Option<String>,
    /// The sources giving this state (none for `missing`).
    pub sources: Vec<String>,
    /// For `damaged`: why.
    pub damage: Option<DamageKind>,
    /// The footage comes from an export salvaged after it was cut before its index.
    pub salvaged: bool,
    /// For `analysed`: how densely the detector examined it (the analysis adapts its
    /// detection rate to the activity), frames detected per second, on average over the
    /// interval and in its least examined minute; `None` when the analysis did not record
    /// it (analysed before the rate was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examined: Option<ExaminedRate>,
}

/// Frames given to the detector per second of footage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExaminedRate {
    pub mean_detections_per_s: f64,
    /// The lowest rate of any minute of the analysis inside the interval.
    pub min_detections_per_s: f64,
}

impl Interval {
    pub fn duration_ms(&self) -> i64 {
        self.to_wall_ms - self.from_wall_ms
    }
}

/// Recordings of one camera that cover the same time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlap {
    pub from_wall_ms: i64,
    pub to_wall_ms: i64,
    pub sources: Vec<String>,
}

/// Milliseconds of a camera's span in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageTotals {
    /// The camera's span shown (every state together).
    pub span_ms: i64,
    /// Footage recorded and readable, analysed or not (`analysed_ms + not_analysed_ms`).
    pub recorded_ms: i64,
    /// State `analysed`.
    pub analysed_ms: i64,
    /// State `recorded` (recorded, not analysed).
    pub not_analysed_ms: i64,
    /// State `damaged`.
    pub damaged_ms: i64,
    /// State `missing`.
    pub missing_ms: i64,
    /// Time covered by more than one recording (counted once in the states above).
    pub overlap_ms: i64,
}

impl CoverageTotals {
    /// Share of the span analysed, in percent (`None` for an empty span).
    pub fn analysed_percent_of_span(&self) -> Option<f64> {
        (self.span_ms > 0).then(|| 100.0 * self.analysed_ms as f64 / self.span_ms as f64)
    }

    /// Share of the recorded footage analysed, in percent (`None` when nothing recorded).
    pub fn analysed_percent_of_recorded(&self) -> Option<f64> {
        (self.recorded_ms > 0).then(|| 100.0 * self.analysed_ms as f64 / self.recorded_ms as f64)
    }
}

/// One recording of a camera as coverage placed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceSpan {
    pub source_id: String,
    /// Where the recording lies (its first frame to its stated or decoded end).
    pub from_wall_ms: i64,
    pub to_wall_ms: i64,
    pub analysed: bool,
    pub sampling: Option<String>,
    pub salvaged: bool,
    pub truncated: bool,
    pub read_error: bool,
    /// Holes in its timestamps.
    pub gaps: u64,
    pub corrupt_packets: u64,
    pub corrupt_frames: u64,
    /// Frames timed from the frame rate (no usable timestamp).
    pub timestamps_synthesised: u64,
    pub timestamp_discontinuities: u64,
    /// The clock correction in force for it, said for people.
    pub correction: Option<String>,
}

/// The coverage of one camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraCoverage {
    pub camera: String,
    /// The IANA zone its local times are shown in (`None`: UTC).
    pub time_zone: Option<String>,
    /// The span shown: the requested range, else its first recording to its last.
    pub from_wall_ms: i64,
    pub to_wall_ms: i64,
    /// Contiguous, in time order, covering the span.
    pub intervals: Vec<Interval>,
    /// Its recordings, in time order (the whole recording, not clipped to the range).
    pub sources: Vec<SourceSpan>,
    pub overlaps: Vec<Overlap>,
    pub totals: CoverageTotals,
}

/// Why a source cannot be placed in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnplacedReason {
    /// Its wall-clock start is unknown.
    NoStart,
    /// Its length is unknown (no stated duration, and no frame decoded by an analysis).
    NoDuration,
}

/// A source that cannot be placed in time, with how to fix it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnplacedSource {
    pub source_id: String,
    pub camera: String,
    pub duration_ms: Option<u64>,
    pub analysed: bool,
    pub sampling: Option<String>,
    pub reason: UnplacedReason,
    /// What to do about it, for people.
    pub fix: String,
}

/// The coverage of a case's footage, per camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// The range asked for, if any (wall-clock ms since the Unix epoch).
    pub from_wall_ms: Option<i64>,
    pub to_wall_ms: Option<i64>,
    /// The camera asked for, if any.
    pub camera: Option<String>,
    /// One per camera with footage placed in time, by name.
    pub cameras: Vec<CameraCoverage>,
    /// Sources that cannot be placed in time.
    pub unplaced: Vec<UnplacedSource>,
}

/// What to cover: every camera and all time by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageRequest {
    /// Only this camera (its name, or the name it was analysed under).
    pub camera: Option<String>,
    /// Only this range of wall-clock time; time without recording in it counts as
    /// missing (ms since the Unix epoch, `[from, to)`).
    pub from_wall_ms: Option<i64>,
    pub to_wall_ms: Option<i64>,
}

impl CoverageRequest {
    /// From the flags' text (`--camera`, `--from`, `--to`: RFC 3339 with an offset, as in
    /// `vigie search`); the error names the bad flag.
    pub fn parse(
        camera: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Self, AppError> {
        let time = |flag: &'static str, s: &str| {
            vigie_core::parse_wall_clock(s)
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    AppError::Query(QueryError {
                        flag,
                        given: s.to_owned(),
                        expected: "an RFC 3339 time with an explicit offset, e.g. \
                                   2024-06-01T14:00:00+02:00 or 2024-06-01T12:00:00Z"
                            .into(),
                    })
                })
        };
        let req = Self {
            camera: camera
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
            from_wall_ms: from.map(|s| time("--from", s)).transpose()?,
            to_wall_ms: to.map(|s| time("--to", s)).transpose()?,
        };
        req.validate()?;
        Ok(req)
    }

    /// A range must end after it starts.
    pub fn validate(&self) -> Result<(), AppError> {
        if let (Some(f), Some(t)) = (self.from_wall_ms, self.to_wall_ms) {
            if t <= f {
                return Err(AppError::Query(QueryError {
                    flag: "--to",
                    given: format_local(t, None),
                    expected: format!(
                        "a time after --from {} (the range is empty or reversed; swap them)",
                        format_local(f, None)
                    ),
                }));
            }
        }
        Ok(())
    }

    fn matches(&self, s: &SourceFacts) -> bool {
        match &self.camera {
            None => true,
            Some(c) => s.camera == *c || s.analysed_as.as_deref() == Some(c.as_str()),
        }
    }
}

// ---- inputs -----------------------------------------------------------------------------

/// A hole in a recording's timestamps (media time, ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaGap {
    /// Media time of the last frame before the hole.
    pub after_ms: i64,
    /// How long no frame was recorded, beyond one frame duration.
    pub missing_ms: i64,
}

/// What an analysis found about a source's media time (from the index's parameters).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalysisFacts {
    /// `analysis.sampling` (`all`, `10fps`, `keyframes`...).
    pub sampling: Option<String>,
    /// Media time of the last decoded frame.
    pub last_pts_ms: Option<i64>,
    pub gaps: Vec<MediaGap>,
    pub truncated: bool,
    pub read_error: bool,
    pub corrupt_packets: u64,
    pub corrupt_frames: u64,
    pub timestamps_synthesised: u64,
    pub timestamp_discontinuities: u64,
    /// The detection rate actually used, per minute of media time: (start of the minute,
    /// frames analysed, frames detected), from `stats.detect_rate`.
    pub detect_rate: Vec<(i64, u64, u64)>,
}

impl AnalysisFacts {
    /// Read from an index source's `params` (`analysis.sampling` and the `decode` report).
    /// Missing keys (older analyses) read as nothing known.
    pub fn from_params(params: &Value) -> Self {
        let d = &params["decode"];
        let n = |k: &str| d[k].as_u64().unwrap_or(0);
        Self {
            sampling: params["analysis"]["sampling"].as_str().map(str::to_owned),
            last_pts_ms: d["last_pts_ms"].as_i64(),
            gaps: d["gaps"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|g| {
                    Some(MediaGap {
                        after_ms: g["after_ms"].as_i64()?,
                        missing_ms: g["missing_ms"].as_i64()?,
                    })
                })
                .collect(),
            truncated: d["truncated"].as_bool().unwrap_or(false),
            read_error: d["read_error"].as_bool().unwrap_or(false),
            corrupt_packets: n("corrupt_packets"),
            corrupt_frames: n("corrupt_frames"),
            timestamps_synthesised: n("timestamps_synthesised"),
            timestamp_discontinuities: n("timestamp_discontinuities"),
            detect_rate: params["stats"]["detect_rate"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    Some((
                        r["from_ms"].as_i64()?,
                        r["frames"].as_u64()?,
                        r["detected"].as_u64()?,
                    ))
                })
                .collect(),
        }
    }
}

/// Length of one detection-rate record (`vigie_pipeline::rate::DETECT_RATE_INTERVAL_MS`).
const RATE_MINUTE_MS: i64 = 60_000;

/// How densely `[from, to)` (wall-clock) was examined, from the per-minute detection
/// records of the sources `ids` (each placed at its start; a minute's detections spread
/// evenly over it, the last minute ending at the source's last frame).
fn examined_rate(
    from: i64,
    to: i64,
    ids: &[String],
    facts: &BTreeMap<&str, &SourceFacts>,
) -> Option<ExaminedRate> {
    let (mut detected, mut min_rate) = (0.0f64, f64::INFINITY);
    for id in ids {
        let s = facts.get(id.as_str())?;
        let (start, a) = (s.start_wall_ms?, s.analysis.as_ref()?);
        if a.detect_rate.is_empty() {
            return None;
        }
        for &(m, _, n) in &a.detect_rate {
            let m_from = start + m;
            let m_to = start
                + (m + RATE_MINUTE_MS).min(a.last_pts_ms.map_or(i64::MAX, |l| (l + 1).max(m + 1)));
            let overlap = (m_to.min(to) - m_from.max(from)).max(0);
            if overlap == 0 {
                continue;
            }
            detected += n as f64 * overlap as f64 / (m_to - m_from) as f64;
            min_rate = min_rate.min(n as f64 * 1000.0 / (m_to - m_from) as f64);
        }
    }
    let secs = (to - from) as f64 / 1000.0;
    (secs > 0.0 && min_rate.is_finite()).then(|| ExaminedRate {
        mean_detections_per_s: detected / secs,
        min_detections_per_s: min_rate,
    })
}

/// One source as coverage sees it: plain data, so the computation can be tested and run
/// without a case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceFacts {
    pub source_id: String,
    /// Its camera ([`SourceTiming::camera`]).
    pub camera: String,
    /// The camera name its analysis was indexed under, when it differs (`analyze
    /// --camera`): a camera filter finds the source by either name.
    pub analysed_as: Option<String>,
    /// Wall-clock time of its first frame, corrected ([`SourceTiming::start_wall_ms`]).
    pub start_wall_ms: Option<i64>,
    /// The duration its container states.
    pub duration_ms: Option<u64>,
    pub fps: Option<f64>,
    pub salvaged: bool,
    pub time_zone: Option<String>,
    pub correction: Option<String>,
    /// `None`: ingested, not analysed.
    pub analysis: Option<AnalysisFacts>,
}

impl SourceFacts {
    /// From a registry record, its timing (always [`EnteredCase::timing`], or
    /// administration's equivalent) and its index entry if it was analysed.
    pub fn new(rec: &SourceRecord, timing: &SourceTiming, analysed: Option<&SourceInfo>) -> Self {
        Self {
            source_id: rec.source_id.clone(),
            camera: timing.camera.clone(),
            analysed_as: analysed
                .map(|a| a.record.camera.clone())
                .filter(|c| *c != timing.camera),
            start_wall_ms: timing.start_wall_ms,
            duration_ms: rec.meta.duration_ms,
            fps: rec.meta.fps,
            salvaged: rec.salvage.is_some(),
            time_zone: timing.time_zone.clone(),
            correction: timing.correction.clone(),
            analysis: analysed.map(|a| AnalysisFacts::from_params(&a.record.params)),
        }
    }

    fn frame_ms(&self) -> i64 {
        self.fps
            .filter(|f| *f > 0.0 && f.is_finite())
            .map(|f| (1000.0 / f) as i64)
            .unwrap_or(DEFAULT_FRAME_MS)
            .max(1)
    }
}

// ---- computation ------------------------------------------------------------------------

/// One source's contribution to its camera: `[from, to)` in wall-clock ms.
#[derive(Debug, Clone)]
struct Piece {
    from: i64,
    to: i64,
    state: CoverageState,
    sampling: Option<String>,
    source_id: String,
    damage: Option<DamageKind>,
    salvaged: bool,
}

/// Where a source's footage lies and in which state, or why it cannot be placed.
fn pieces_of(s: &SourceFacts) -> Result<(Vec<Piece>, SourceSpan), UnplacedReason> {
    let start = s.start_wall_ms.ok_or(UnplacedReason::NoStart)?;
    let duration = s.duration_ms.map(|d| d.min(i64::MAX as u64) as i64);
    let piece = |from: i64, to: i64, state, damage| Piece {
        from: start + from,
        to: start + to,
        state,
        sampling: (state == CoverageState::Analysed).then(|| {
            s.analysis
                .as_ref()
                .and_then(|a| a.sampling.clone())
                .unwrap_or_else(|| "unknown".to_owned())
        }),
        source_id: s.source_id.clone(),
        damage,
        salvaged: s.salvaged,
    };
    let mut pieces = Vec::new();
    let empty = AnalysisFacts::default();
    let a = s.analysis.as_ref().unwrap_or(&empty);
    match &s.analysis {
        None => {
            let d = duration
                .filter(|d| *d > 0)
                .ok_or(UnplacedReason::NoDuration)?;
            pieces.push(piece(0, d, CoverageState::Recorded, None));
        }
        Some(a) => {
            let frame_ms = s.frame_ms();
            let stopped_early = a.truncated || a.read_error;
            // The analysed footage ends one frame after the last decoded frame; an analysis
            // that decoded nothing covers the stated duration, unless reading failed.
            let end = match a.last_pts_ms {
                Some(last) => last + frame_ms,
                None if stopped_early => 0,
                None => duration.unwrap_or(0),
            };
            let mut gaps = a.gaps.clone();
            gaps.sort_unstable_by_key(|g| (g.after_ms, g.missing_ms));
            let mut cursor = 0i64;
            for g in gaps {
                let hole_from = (g.after_ms + frame_ms).max(cursor);
                let hole_to = (g.after_ms + frame_ms + g.missing_ms).max(hole_from);
                if hole_from > cursor {
                    pieces.push(piece(cursor, hole_from, CoverageState::Analysed, None));
                }
                if hole_to > hole_from {
                    pieces.push(piece(
                        hole_from,
                        hole_to,
                        CoverageState::Damaged,
                        Some(DamageKind::Gap),
                    ));
                }
                cursor = cursor.max(hole_to);
            }
            if end > cursor {
                pieces.push(piece(cursor, end, CoverageState::Analysed, None));
            }
            if stopped_early {
                if let Some(d) = duration.filter(|d| *d > end.max(cursor)) {
                    let kind = if a.read_error {
                        DamageKind::ReadError
                    } else {
                        DamageKind::Truncated
                    };
                    let from = end.max(cursor);
                    pieces.push(piece(from, d, CoverageState::Damaged, Some(kind)));
                }
            }
            if pieces.is_empty() {
                return Err(UnplacedReason::NoDuration);
            }
        }
    }
    let from = pieces.iter().map(|p| p.from).min().unwrap_or(start);
    let to = pieces.iter().map(|p| p.to).max().unwrap_or(start);
    let span = SourceSpan {
        source_id: s.source_id.clone(),
        from_wall_ms: from,
        to_wall_ms: to,
        analysed: s.analysis.is_some(),
        sampling: s.analysis.as_ref().and_then(|a| a.sampling.clone()),
        salvaged: s.salvaged,
        truncated: a.truncated,
        read_error: a.read_error,
        gaps: a.gaps.len() as u64,
        corrupt_packets: a.corrupt_packets,
        corrupt_frames: a.corrupt_frames,
        timestamps_synthesised: a.timestamps_synthesised,
        timestamp_discontinuities: a.timestamp_discontinuities,
        correction: s.correction.clone(),
    };
    Ok((pieces, span))
}

fn fix_for(reason: UnplacedReason) -> String {
    match reason {
        UnplacedReason::NoStart => "its wall-clock start is unknown: set the recorder's clock \
                                    with `vigie clock set`, or give the start at ingest with \
                                    `vigie ingest --start`"
            .to_owned(),
        UnplacedReason::NoDuration => "its length is unknown (the container states none): \
                                       analyse it (`vigie analyze`) to measure it"
            .to_owned(),
    }
}

/// A source placed in time: its pieces, its span, and its facts.
type Placed<'a> = (Vec<Piece>, SourceSpan, &'a SourceFacts);

/// The coverage of `sources` for `req`. Pure: no I/O, no audit (see [`coverage`]).
pub fn compute(sources: &[SourceFacts], req: &CoverageRequest) -> Coverage {
    let mut by_camera: BTreeMap<&str, Vec<Placed<'_>>> = BTreeMap::new();
    let mut unplaced = Vec::new();
    for s in sources.iter().filter(|s| req.matches(s)) {
        match pieces_of(s) {
            Ok((pieces, span)) => by_camera
                .entry(s.camera.as_str())
                .or_default()
                .push((pieces, span, s)),
            Err(reason) => unplaced.push(UnplacedSource {
                source_id: s.source_id.clone(),
                camera: s.camera.clone(),
                duration_ms: s.duration_ms,
                analysed: s.analysis.is_some(),
                sampling: s.analysis.as_ref().and_then(|a| a.sampling.clone()),
                reason,
                fix: fix_for(reason),
            }),
        }
    }
    unplaced.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    let cameras = by_camera
        .into_iter()
        .map(|(camera, srcs)| camera_coverage(camera, srcs, req))
        .collect();
    Coverage {
        from_wall_ms: req.from_wall_ms,
        to_wall_ms: req.to_wall_ms,
        camera: req.camera.clone(),
        cameras,
        unplaced,
    }
}

fn camera_coverage(camera: &str, srcs: Vec<Placed<'_>>, req: &CoverageRequest) -> CameraCoverage {
    let time_zone = srcs.iter().find_map(|(_, _, s)| s.time_zone.clone());
    let facts: BTreeMap<&str, &SourceFacts> = srcs
        .iter()
        .map(|(_, _, s)| (s.source_id.as_str(), *s))
        .collect();
    let mut spans: Vec<SourceSpan> = srcs.iter().map(|(_, sp, _)| sp.clone()).collect();
    spans.sort_by(|a, b| (a.from_wall_ms, &a.source_id).cmp(&(b.from_wall_ms, &b.source_id)));
    let mut pieces: Vec<Piece> = srcs.into_iter().flat_map(|(p, _, _)| p).collect();
    let first = pieces.iter().map(|p| p.from).min().unwrap_or(0);
    let last = pieces.iter().map(|p| p.to).max().unwrap_or(0);
    let span_from = req.from_wall_ms.unwrap_or(first);
    let span_to = req.to_wall_ms.unwrap_or(last).max(span_from);
    for p in &mut pieces {
        p.from = p.from.max(span_from);
        p.to = p.to.min(span_to);
    }
    pieces.retain(|p| p.to > p.from);
    pieces.sort_by_key(|p| (p.from, p.to));

    let mut bounds: Vec<i64> = vec![span_from, span_to];
    bounds.extend(pieces.iter().flat_map(|p| [p.from, p.to]));
    bounds.sort_unstable();
    bounds.dedup();

    let mut intervals: Vec<Interval> = Vec::new();
    let mut overlaps: Vec<Overlap> = Vec::new();
    let mut active: Vec<&Piece> = Vec::new();
    let mut next = 0;
    for w in bounds.windows(2) {
        let (a, b) = (w[0], w[1]);
        while next < pieces.len() && pieces[next].from <= a {
            active.push(&pieces[next]);
            next += 1;
        }
        active.retain(|p| p.to > a);
        // Every piece boundary is a bound: the active pieces cover all of [a, b).
        let state = active
            .iter()
            .map(|p| p.state)
            .max()
            .unwrap_or(CoverageState::Missing);
        let chosen: Vec<&&Piece> = active.iter().filter(|p| p.state == state).collect();
        let sources: Vec<String> = chosen
            .iter()
            .map(|p| p.source_id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let samplings: BTreeSet<&str> = chosen
            .iter()
            .filter_map(|p| p.sampling.as_deref())
            .collect();
        let seg = Interval {
            from_wall_ms: a,
            to_wall_ms: b,
            state,
            sampling: (!samplings.is_empty())
                .then(|| samplings.into_iter().collect::<Vec<_>>().join(", ")),
            sources,
            damage: chosen.iter().find_map(|p| p.damage),
            salvaged: chosen.iter().any(|p| p.salvaged),
            examined: None,
        };
        match intervals.last_mut() {
            Some(prev)
                if prev.to_wall_ms == a
                    && prev.state == seg.state
                    && prev.sampling == seg.sampling
                    && prev.sources == seg.sources
                    && prev.damage == seg.damage
                    && prev.salvaged == seg.salvaged =>
            {
                prev.to_wall_ms = b;
            }
            _ => intervals.push(seg),
        }
        let recorders: BTreeSet<&str> = active.iter().map(|p| p.source_id.as_str()).collect();
        if recorders.len() > 1 {
            let sources: Vec<String> = recorders.into_iter().map(str::to_owned).collect();
            match overlaps.last_mut() {
                Some(o) if o.to_wall_ms == a && o.sources == sources => o.to_wall_ms = b,
                _ => overlaps.push(Overlap {
                    from_wall_ms: a,
                    to_wall_ms: b,
                    sources,
                }),
            }
        }
    }

    for i in &mut intervals {
        if i.state == CoverageState::Analysed {
            i.examined = examined_rate(i.from_wall_ms, i.to_wall_ms, &i.sources, &facts);
        }
    }
    let mut totals = CoverageTotals {
        span_ms: span_to - span_from,
        overlap_ms: overlaps.iter().map(|o| o.to_wall_ms - o.from_wall_ms).sum(),
        ..Default::default()
    };
    for i in &intervals {
        let d = i.duration_ms();
        match i.state {
            CoverageState::Analysed => totals.analysed_ms += d,
            CoverageState::Recorded => totals.not_analysed_ms += d,
            CoverageState::Damaged => totals.damaged_ms += d,
            CoverageState::Missing => totals.missing_ms += d,
        }
    }
    totals.recorded_ms = totals.analysed_ms + totals.not_analysed_ms;
    CameraCoverage {
        camera: camera.to_owned(),
        time_zone,
        from_wall_ms: span_from,
        to_wall_ms: span_to,
        intervals,
        sources: spans,
        overlaps,
        totals,
    }
}

/// Join registry records (each with its timing) and the index's analysed sources, and
/// compute their coverage. Index entries without a record are left out.
pub fn compute_from(
    timed: &[(SourceRecord, SourceTiming)],
    index_sources: &[SourceInfo],
    req: &CoverageRequest,
) -> Coverage {
    let analysed: BTreeMap<&str, &SourceInfo> = index_sources
        .iter()
        .map(|i| (i.record.source_id.as_str(), i))
        .collect();
    let facts: Vec<SourceFacts> = timed
        .iter()
        .map(|(rec, t)| SourceFacts::new(rec, t, analysed.get(rec.source_id.as_str()).copied()))
        .collect();
    compute(&facts, req)
}

impl Coverage {
    /// The wall-clock stretches analysed footage covers, all cameras together, merged and
    /// in order (`[from, to)`).
    pub fn analysed_spans(&self) -> Vec<(i64, i64)> {
        let mut spans: Vec<(i64, i64)> = self
            .cameras
            .iter()
            .flat_map(|c| &c.intervals)
            .filter(|i| i.state == CoverageState::Analysed)
            .map(|i| (i.from_wall_ms, i.to_wall_ms))
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
        for (a, b) in spans {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        merged
    }

    /// The zone the timeline's axis is in: the cameras' zone when they all share one,
    /// else `None` (UTC).
    pub fn display_zone(&self) -> Option<String> {
        let zones: BTreeSet<Option<&str>> = self
            .cameras
            .iter()
            .map(|c| c.time_zone.as_deref())
            .collect();
        match zones.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(z)] => Some((*z).to_owned()),
            _ => None,
        }
    }

    /// The exploitation report's section, with the timeline inlined.
    pub fn to_report_section(&self) -> CoverageSection {
        let cameras = self
            .cameras
            .iter()
            .map(|c| {
                let zone = c.time_zone.as_deref().and_then(|z| parse_zone(z).ok());
                CameraCoverageRow {
                    camera: c.camera.clone(),
                    time_zone: c.time_zone.clone(),
                    intervals: c
                        .intervals
                        .iter()
                        .map(|i| CoverageIntervalRow {
                            from_wall_ms: i.from_wall_ms,
                            to_wall_ms: i.to_wall_ms,
                            state: i.state.as_str().to_owned(),
                            sampling: i.sampling.clone(),
                            sources: i.sources.clone(),
                            note: interval_note(i),
                            local: zone.as_ref().map(|z| {
                                format!(
                                    "{} to {}",
                                    format_local(i.from_wall_ms, Some(z)),
                                    format_local(i.to_wall_ms, Some(z))
                                )
                            }),
                        })
                        .collect(),
                    recorded_ms: c.totals.recorded_ms,
                    analysed_ms: c.totals.analysed_ms,
                    not_analysed_ms: c.totals.not_analysed_ms,
                    damaged_ms: c.totals.damaged_ms,
                    missing_ms: c.totals.missing_ms,
                    overlap_ms: c.totals.overlap_ms,
                }
            })
            .collect();
        CoverageSection {
            cameras,
            unplaced: self
                .unplaced
                .iter()
                .map(|u| UnplacedSourceRow {
                    source_id: u.source_id.clone(),
                    camera: u.camera.clone(),
                    duration_ms: u.duration_ms,
                    analysed: u.analysed,
                    why: u.fix.clone(),
                })
                .collect(),
            timeline_svg: Some(timeline_svg(self)),
            unavailable: None,
        }
    }
}

/// What else to know about an interval, for people (`None` when nothing).
pub fn interval_note(i: &Interval) -> Option<String> {
    let mut notes = Vec::new();
    if let Some(d) = i.damage {
        notes.push(d.describe().to_owned());
    }
    if i.salvaged {
        notes.push("salvaged from a damaged export".to_owned());
    }
    if let Some(e) = i.examined {
        notes.push(format!(
            "examined at {:.1} detections/s (at least {:.1} in every minute)",
            e.mean_detections_per_s, e.min_detections_per_s
        ));
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

// ---- use case ---------------------------------------------------------------------------

/// The coverage of the case's footage (every registered source; analysis from the index
/// when there is one). Records one consultation before returning. A camera filter that
/// names no camera of the case is an error, never an empty answer.
pub fn coverage(case: &EnteredCase, req: &CoverageRequest) -> Result<Coverage, AppError> {
    req.validate()?;
    let index_sources = if case.layout().index_path().exists() {
        case.index()?.sources()?
    } else {
        Vec::new()
    };
    let timed: Vec<(SourceRecord, SourceTiming)> = case
        .sources()?
        .into_iter()
        .map(|rec| {
            let t = case.timing(&rec);
            (rec, t)
        })
        .collect();
    if let Some(c) = &req.camera {
        let names: BTreeSet<String> = timed
            .iter()
            .map(|(_, t)| t.camera.clone())
            .chain(index_sources.iter().map(|i| i.record.camera.clone()))
            .collect();
        if !names.contains(c) {
            return Err(AppError::Query(QueryError {
                flag: "--camera",
                given: c.clone(),
                expected: if names.is_empty() {
                    "a camera of this case (it has no footage yet: `vigie ingest`)".to_owned()
                } else {
                    format!(
                        "a camera of this case: {}",
                        names.into_iter().collect::<Vec<_>>().join(", ")
                    )
                },
            }));
        }
    }
    let cov = compute_from(&timed, &index_sources, req);
    case.record(&Event::CoverageRead {
        cameras: cov.cameras.len() as u64,
        from_wall_ms: req.from_wall_ms,
        to_wall_ms: req.to_wall_ms,
    })?;
    Ok(cov)
}

/// Where a timeline image goes (see [`crate::export`]): must be an `.svg` file that does
/// not exist yet. Resolve it before computing, so a bad name costs nothing.
pub fn timeline_target(case: &EnteredCase, requested: &Path) -> Result<ExportTarget, AppError> {
    match requested.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("svg") => {}
        _ => {
            return Err(AppError::BadExport(format!(
                "the timeline is an SVG image: name it e.g. coverage.svg: {}",
                requested.display()
            )))
        }
    }
    let target = case.export_target(requested)?;
    if target.path.exists() {
        return Err(AppError::BadExport(format!(
            "the timeline file already exists (choose another name; vigie never overwrites an \
             output): {}",
            target.path.display()
        )));
    }
    Ok(target)
}

/// Write the timeline of `cov` to `target` and record the disclosure with its hash.
pub fn write_timeline(
    case: &EnteredCase,
    cov: &Coverage,
    target: ExportTarget,
) -> Result<(ExportTarget, FileHash), AppError> {
    let svg = timeline_svg(cov);
    {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target.path)
            .map_err(AppError::io(&target.path))?;
        f.write_all(svg.as_bytes())
            .map_err(AppError::io(&target.path))?;
        f.sync_all().map_err(AppError::io(&target.path))?;
    }
    let files = case.record_export(
        ExportKind::CoverageTimeline,
        None,
        json!({
            "camera": cov.camera,
            "from_wall_ms": cov.from_wall_ms,
            "to_wall_ms": cov.to_wall_ms,
            "cameras": cov.cameras.iter().map(|c| c.camera.as_str()).collect::<Vec<_>>(),
        }),
        &[&target],
    )?;
    let file = files.into_iter().next().expect("one file recorded");
    Ok((target, file))
}

// ---- text helpers -----------------------------------------------------------------------

/// A duration for people: `850 ms`, `12.5 s`, `3 min 05 s`, `2 h 03 min`, `3 d 04 h`.
pub fn format_duration_ms(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    let s = ms / 1000;
    let out = if ms == 0 {
        "0 s".to_owned()
    } else if ms < 1000 {
        format!("{ms} ms")
    } else if s < 60 {
        let tenths = (ms % 1000) / 100;
        if tenths == 0 {
            format!("{s} s")
        } else {
            format!("{s}.{tenths} s")
        }
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} d {:02} h", s / 86_400, (s % 86_400) / 3600)
    };
    format!("{sign}{out}")
}

/// A wall-clock time in UTC (`2026-11-30 13:00:00Z`).
pub fn utc_label(wall_ms: i64) -> String {
    format_local(wall_ms, None)
}

/// A wall-clock time in the IANA zone `zone` (`2026-11-30 14:00:00+01:00`); `None` when
/// no zone is given or it is not a known zone.
pub fn local_label(wall_ms: i64, zone: Option<&str>) -> Option<String> {
    let z = parse_zone(zone?).ok()?;
    Some(format_local(wall_ms, Some(&z)))
}

// ---- timeline image ---------------------------------------------------------------------

const SVG_WIDTH: f64 = 1000.0;
const SVG_LABEL_W: f64 = 170.0;
const SVG_RIGHT: f64 = 30.0;
const SVG_TOP: f64 = 64.0;
const SVG_ROW_H: f64 = 28.0;
const SVG_BAR_H: f64 = 18.0;

const COLOUR_ANALYSED: &str = "#2e7d32";
const COLOUR_RECORDED: &str = "#64b5f6";
const COLOUR_DAMAGED: &str = "#c62828";
const COLOUR_SALVAGED: &str = "#6a1b9a";

fn fill_of(state: CoverageState) -> &'static str {
    match state {
        CoverageState::Analysed => COLOUR_ANALYSED,
        CoverageState::Recorded => COLOUR_RECORDED,
        CoverageState::Damaged => COLOUR_DAMAGED,
        CoverageState::Missing => "url(#vigie-missing)",
    }
}

/// Escape text for XML (element content and attribute values).
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn in_zone(wall_ms: i64, zone: Option<&Tz>, fmt: &str) -> String {
    let Some(utc) = DateTime::<Utc>::from_timestamp_millis(wall_ms) else {
        return String::new();
    };
    match zone {
        Some(z) => utc.with_timezone(z).format(fmt).to_string(),
        None => utc.format(fmt).to_string(),
    }
}

/// The tick step for a span: a round duration giving at most about ten ticks.
fn tick_step_ms(span_ms: i64) -> i64 {
    const STEPS_S: [i64; 21] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200,
        86_400, 172_800, 604_800, 1_209_600,
    ];
    for s in STEPS_S {
        if span_ms / (s * 1000) <= 10 {
            return s * 1000;
        }
    }
    let day = 86_400_000;
    ((span_ms / 10 + day - 1) / day).max(1) * day
}

/// The coverage as a timeline: one row per camera, a time axis with ticks labelled in the
/// cameras' zone (UTC when they have none or several), analysed in green (the sampling in
/// each bar's tooltip), recorded-not-analysed in blue, damaged in red, missing in hatched
/// grey, salvaged exports outlined; a legend; sources that cannot be placed in time named
/// under it. Self-contained SVG: no script, no external resource, no link.
pub fn timeline_svg(cov: &Coverage) -> String {
    let zone_name = cov.display_zone();
    let zone = zone_name.as_deref().and_then(|z| parse_zone(z).ok());
    let zone_label = zone
        .as_ref()
        .map(|z| z.name().to_owned())
        .unwrap_or_else(|| "UTC".to_owned());
    let t0 = cov
        .from_wall_ms
        .or_else(|| cov.cameras.iter().map(|c| c.from_wall_ms).min())
        .unwrap_or(0);
    let t1 = cov
        .to_wall_ms
        .or_else(|| cov.cameras.iter().map(|c| c.to_wall_ms).max())
        .unwrap_or(t0)
        .max(t0);
    let rows = cov.cameras.len().max(1) as f64;
    let legend_y = SVG_TOP + rows * SVG_ROW_H + 26.0;
    let notes = usize::from(cov.from_wall_ms.is_none() || cov.to_wall_ms.is_none())
        + usize::from(!cov.unplaced.is_empty());
    let height = legend_y + 24.0 + 20.0 * notes as f64;
    let plot_w = SVG_WIDTH - SVG_LABEL_W - SVG_RIGHT;
    let span = (t1 - t0).max(1) as f64;
    let x = |t: i64| SVG_LABEL_W + (t.clamp(t0, t1) - t0) as f64 / span * plot_w;

    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{SVG_WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {SVG_WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"11\" \
         role=\"img\" style=\"max-width:100%;height:auto\">"
    );
    let _ = writeln!(
        s,
        "<title>Coverage of the footage by camera, times in {}</title>",
        xml(&zone_label)
    );
    s.push_str(
        "<defs><pattern id=\"vigie-missing\" patternUnits=\"userSpaceOnUse\" width=\"6\" \
         height=\"6\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" \
         fill=\"#eeeeee\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#9e9e9e\" \
         stroke-width=\"2\"/></pattern></defs>\n",
    );
    s.push_str("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    let _ = writeln!(
        s,
        "<text x=\"8\" y=\"16\" font-size=\"13\" font-weight=\"bold\">Coverage by camera: {} to {} (times in {})</text>",
        xml(&format_local(t0, zone.as_ref())),
        xml(&format_local(t1, zone.as_ref())),
        xml(&zone_label)
    );

    // Time axis: ticks on round local times, a grid line through every row.
    let bottom = SVG_TOP + rows * SVG_ROW_H;
    if t1 > t0 {
        let step = tick_step_ms(t1 - t0);
        let off = zone.as_ref().map(|z| zone_offset_ms(z, t0)).unwrap_or(0);
        let mut tick = (t0 + off).div_euclid(step) * step - off;
        if tick < t0 {
            tick += step;
        }
        let fmt = if step >= 86_400_000 {
            "%Y-%m-%d"
        } else if step >= 60_000 {
            "%H:%M"
        } else {
            "%H:%M:%S"
        };
        let mut last_day = String::new();
        let mut n = 0;
        while tick <= t1 && n < 64 {
            let tx = x(tick);
            let _ = writeln!(
                s,
                "<line x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{bottom:.1}\" stroke=\"#cccccc\" stroke-width=\"1\"/>",
                SVG_TOP - 6.0
            );
            let _ = writeln!(
                s,
                "<text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                SVG_TOP - 10.0,
                xml(&in_zone(tick, zone.as_ref(), fmt))
            );
            let day = in_zone(tick, zone.as_ref(), "%Y-%m-%d");
            if step < 86_400_000 && day != last_day {
                let _ = writeln!(
                    s,
                    "<text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555555\">{}</text>",
                    SVG_TOP - 24.0,
                    xml(&day)
                );
                last_day = day;
            }
            tick += step;
            n += 1;
        }
    }

    if cov.cameras.is_empty() {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555555\">No footage can be placed in time.</text>",
            SVG_LABEL_W,
            SVG_TOP + SVG_ROW_H / 2.0 + 4.0
        );
    }
    for (row, cam) in cov.cameras.iter().enumerate() {
        let y = SVG_TOP + row as f64 * SVG_ROW_H;
        let bar_y = y + (SVG_ROW_H - SVG_BAR_H) / 2.0;
        let shown: String = if cam.camera.chars().count() > 26 {
            cam.camera.chars().take(25).chain(['…']).collect()
        } else {
            cam.camera.clone()
        };
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\"><title>{}</title>{}</text>",
            SVG_LABEL_W - 8.0,
            bar_y + SVG_BAR_H / 2.0 + 4.0,
            xml(&cam.camera),
            xml(&shown)
        );
        let cam_zone = cam.time_zone.as_deref().and_then(|z| parse_zone(z).ok());
        for i in &cam.intervals {
            let x1 = x(i.from_wall_ms);
            let w = (x(i.to_wall_ms) - x1).max(0.5);
            let outline = if i.salvaged {
                format!(
                    " stroke=\"{COLOUR_SALVAGED}\" stroke-width=\"1.5\" stroke-dasharray=\"3 2\""
                )
            } else {
                String::new()
            };
            let mut tip = format!(
                "{}: {}{}, {} to {} ({})",
                cam.camera,
                i.state.describe(),
                i.sampling
                    .as_deref()
                    .map(|s| format!(", sampling {s}"))
                    .unwrap_or_default(),
                format_local(i.from_wall_ms, cam_zone.as_ref().or(zone.as_ref())),
                format_local(i.to_wall_ms, cam_zone.as_ref().or(zone.as_ref())),
                format_duration_ms(i.duration_ms())
            );
            if let Some(n) = interval_note(i) {
                let _ = write!(tip, "; {n}");
            }
            if !i.sources.is_empty() {
                let _ = write!(tip, "; sources {}", i.sources.join(", "));
            }
            let _ = writeln!(
                s,
                "<rect class=\"{}\" x=\"{x1:.2}\" y=\"{bar_y:.1}\" width=\"{w:.2}\" height=\"{SVG_BAR_H}\" fill=\"{}\"{outline}><title>{}</title></rect>",
                i.state.as_str(),
                fill_of(i.state),
                xml(&tip)
            );
        }
    }
    let _ = writeln!(
        s,
        "<line x1=\"{SVG_LABEL_W}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\" stroke=\"#888888\" stroke-width=\"1\"/>",
        SVG_WIDTH - SVG_RIGHT
    );

    // Legend.
    let legend: [(&str, String); 5] = [
        ("analysed (sampling in the tooltip)", format!("fill=\"{COLOUR_ANALYSED}\"")),
        ("recorded, not analysed", format!("fill=\"{COLOUR_RECORDED}\"")),
        ("damaged", format!("fill=\"{COLOUR_DAMAGED}\"")),
        ("missing (no recording)", "fill=\"url(#vigie-missing)\"".to_owned()),
        (
            "salvaged export",
            format!("fill=\"#ffffff\" stroke=\"{COLOUR_SALVAGED}\" stroke-width=\"1.5\" stroke-dasharray=\"3 2\""),
        ),
    ];
    let mut lx = 8.0;
    for (label, style) in legend {
        let _ = writeln!(
            s,
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"14\" height=\"12\" {style}/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            legend_y - 10.0,
            lx + 18.0,
            legend_y,
            xml(label)
        );
        lx += 34.0 + label.chars().count() as f64 * 6.5;
    }
    let mut note_y = legend_y + 22.0;
    if cov.from_wall_ms.is_none() || cov.to_wall_ms.is_none() {
        let _ = writeln!(
            s,
            "<text x=\"8\" y=\"{note_y:.1}\" fill=\"#555555\">Blank: before a camera's first recording or after its last (give a range to count it as missing).</text>"
        );
        note_y += 20.0;
    }
    if !cov.unplaced.is_empty() {
        let names: Vec<String> = cov
            .unplaced
            .iter()
            .map(|u| format!("{} ({})", u.source_id, u.camera))
            .collect();
        let _ = writeln!(
            s,
            "<text x=\"8\" y=\"{note_y:.1}\" fill=\"{COLOUR_DAMAGED}\">Not shown, cannot be placed in time: {}</text>",
            xml(&names.join(", "))
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_796_043_600_000; // 2026-11-30T13:00:00Z

    fn analysed(sampling: &str, last_pts_ms: i64) -> AnalysisFacts {
        AnalysisFacts {
            sampling: Some(sampling.into()),
            last_pts_ms: Some(last_pts_ms),
            ..Default::default()
        }
    }

    fn src(id: &str, camera: &str, start: Option<i64>, duration_ms: u64) -> SourceFacts {
        SourceFacts {
            source_id: id.into(),
            camera: camera.into(),
            start_wall_ms: start,
            duration_ms: Some(duration_ms),
            fps: Some(10.0),
            ..Default::default()
        }
    }

    fn states(c: &CameraCoverage) -> Vec<(i64, i64, CoverageState)> {
        c.intervals
            .iter()
            .map(|i| (i.from_wall_ms - T0, i.to_wall_ms - T0, i.state))
            .collect()
    }

    #[test]
    fn a_hole_between_two_recordings_is_missing_and_the_unanalysed_one_recorded() {
        use CoverageState::*;
        let mut a = src("S1", "cam", Some(T0), 4_000);
        a.analysis = Some(analysed("10fps", 3_900));
        let b = src("S2", "cam", Some(T0 + 10_000), 4_000);
        let cov = compute(&[b, a], &CoverageRequest::default());
        assert_eq!(cov.cameras.len(), 1);
        let c = &cov.cameras[0];
        assert_eq!(
            states(c),
            vec![
                (0, 4_000, Analysed),
                (4_000, 10_000, Missing),
                (10_000, 14_000, Recorded)
            ]
        );
        assert_eq!(c.intervals[0].sampling.as_deref(), Some("10fps"));
        assert_eq!(c.intervals[0].sources, vec!["S1"]);
        assert_eq!(c.intervals[1].sources, Vec::<String>::new());
        assert_eq!(c.intervals[2].sampling, None);
        assert_eq!(c.totals.analysed_ms, 4_000);
        assert_eq!(c.totals.not_analysed_ms, 4_000);
        assert_eq!(c.totals.recorded_ms, 8_000);
        assert_eq!(c.totals.missing_ms, 6_000);
        assert_eq!(c.totals.span_ms, 14_000);
        let pct = c.totals.analysed_percent_of_recorded().unwrap();
        assert!((pct - 50.0).abs() < 1e-9);
        assert_eq!(
            c.sources
                .iter()
                .map(|s| s.source_id.as_str())
                .collect::<Vec<_>>(),
            ["S1", "S2"]
        );
        assert!(c.overlaps.is_empty());
        assert_eq!(cov.analysed_spans(), vec![(T0, T0 + 4_000)]);
    }

    #[test]
    fn overlapping_recordings_merge_best_state_first_and_the_overlap_is_noted() {
        use CoverageState::*;
        let mut a = src("S1", "cam", Some(T0), 10_000);
        a.analysis = Some(analysed("all", 9_900));
        let b = src("S2", "cam", Some(T0 + 6_000), 10_000);
        let mut c = src("S3", "cam", Some(T0 + 8_000), 4_000);
        c.analysis = Some(analysed("keyframes", 3_900));
        let cov = compute(&[a, b, c], &CoverageRequest::default());
        let cam = &cov.cameras[0];
        type Row<'a> = (i64, i64, CoverageState, Option<&'a str>, Vec<&'a str>);
        let got: Vec<Row> = cam
            .intervals
            .iter()
            .map(|i| {
                (
                    i.from_wall_ms - T0,
                    i.to_wall_ms - T0,
                    i.state,
                    i.sampling.as_deref(),
                    i.sources.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        // Analysed wins over recorded (S2 under S1 and S3); where two analysed recordings
        // overlap, both samplings and both sources are said.
        assert_eq!(
            got,
            vec![
                (0, 8_000, Analysed, Some("all"), vec!["S1"]),
                (
                    8_000,
                    10_000,
                    Analysed,
                    Some("all, keyframes"),
                    vec!["S1", "S3"]
                ),
                (10_000, 12_000, Analysed, Some("keyframes"), vec!["S3"]),
                (12_000, 16_000, Recorded, None, vec!["S2"]),
            ]
        );
        assert_eq!(cam.totals.recorded_ms, 16_000);
        assert_eq!(cam.totals.missing_ms, 0);
        assert_eq!(cam.totals.span_ms, 16_000);
        // 6-8 s S1+S2, 8-10 s S1+S2+S3, 10-12 s S2+S3.
        assert_eq!(cam.totals.overlap_ms, 6_000);
        let sets: Vec<Vec<&str>> = cam
            .overlaps
            .iter()
            .map(|o| o.sources.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            sets,
            vec![vec!["S1", "S2"], vec!["S1", "S2", "S3"], vec!["S2", "S3"]]
        );
        assert_eq!(cov.analysed_spans(), vec![(T0, T0 + 12_000)]);
    }

    #[test]
    fn a_gap_and_a_truncation_are_damaged_inside_the_recording() {
        use CoverageState::*;
        let mut a = src("S1", "cam", Some(T0), 20_000);
        a.analysis = Some(AnalysisFacts {
            sampling: Some("all".into()),
            last_pts_ms: Some(11_900),
            gaps: vec![MediaGap {
                after_ms: 1_900,
                missing_ms: 5_000,
            }],
            truncated: true,
            ..Default::default()
        });
        let cov = compute(&[a], &CoverageRequest::default());
        let c = &cov.cameras[0];
        assert_eq!(
            states(c),
            vec![
                (0, 2_000, Analysed),
                (2_000, 7_000, Damaged),
                (7_000, 12_000, Analysed),
                (12_000, 20_000, Damaged)
            ]
        );
        assert_eq!(c.intervals[1].damage, Some(DamageKind::Gap));
        assert_eq!(c.intervals[3].damage, Some(DamageKind::Truncated));
        assert_eq!(c.totals.damaged_ms, 13_000);
        assert!(c.sources[0].truncated);
        assert_eq!(c.sources[0].gaps, 1);
        // Search sees the analysed stretches only.
        assert_eq!(
            cov.analysed_spans(),
            vec![(T0, T0 + 2_000), (T0 + 7_000, T0 + 12_000)]
        );
    }

    #[test]
    fn a_read_error_with_no_frame_is_damaged_over_the_stated_duration() {
        let mut a = src("S1", "cam", Some(T0), 5_000);
        a.analysis = Some(AnalysisFacts {
            read_error: true,
            ..Default::default()
        });
        let cov = compute(&[a], &CoverageRequest::default());
        let i = &cov.cameras[0].intervals;
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].state, CoverageState::Damaged);
        assert_eq!(i[0].damage, Some(DamageKind::ReadError));
    }

    #[test]
    fn sources_without_a_start_or_a_length_are_listed_apart_with_the_fix() {
        let mut a = src("S1", "cam", None, 4_000);
        a.analysis = Some(analysed("10fps", 3_900));
        let mut b = src("S2", "cam2", Some(T0), 0);
        b.duration_ms = None;
        let c = src("S3", "cam", Some(T0), 4_000);
        let cov = compute(&[a, b, c], &CoverageRequest::default());
        assert_eq!(cov.cameras.len(), 1);
        assert_eq!(cov.unplaced.len(), 2);
        let u = &cov.unplaced[0];
        assert_eq!(u.source_id, "S1");
        assert_eq!(u.reason, UnplacedReason::NoStart);
        assert_eq!(u.duration_ms, Some(4_000));
        assert!(u.analysed);
        assert!(u.fix.contains("vigie clock set") && u.fix.contains("--start"));
        assert_eq!(cov.unplaced[1].reason, UnplacedReason::NoDuration);
        assert!(cov.unplaced[1].fix.contains("vigie analyze"));
    }

    #[test]
    fn a_range_clips_recordings_and_counts_time_without_them_as_missing() {
        use CoverageState::*;
        let mut a = src("S1", "cam", Some(T0), 10_000);
        a.analysis = Some(analysed("10fps", 9_900));
        let other = src("S9", "far", Some(T0 + 3_600_000), 10_000);
        let req = CoverageRequest {
            camera: None,
            from_wall_ms: Some(T0 - 5_000),
            to_wall_ms: Some(T0 + 6_000),
        };
        let cov = compute(&[a, other], &req);
        let c = &cov.cameras[0];
        assert_eq!(c.camera, "cam");
        assert_eq!(states(c), vec![(-5_000, 0, Missing), (0, 6_000, Analysed)]);
        assert_eq!(
            c.sources[0].to_wall_ms,
            T0 + 10_000,
            "the recording is not clipped"
        );
        // A camera with nothing in the range is missing over all of it.
        assert_eq!(cov.cameras[1].camera, "far");
        assert_eq!(states(&cov.cameras[1]), vec![(-5_000, 6_000, Missing)]);
        // A camera filter keeps one camera (by its name or the name it was analysed under).
        let mut named = src("S1", "cam", Some(T0), 10_000);
        named.analysed_as = Some("entrance".into());
        named.analysis = Some(analysed("all", 9_900));
        let req = CoverageRequest {
            camera: Some("entrance".into()),
            ..Default::default()
        };
        let cov = compute(&[named, src("S9", "far", Some(T0), 1_000)], &req);
        assert_eq!(cov.cameras.len(), 1);
        assert_eq!(cov.cameras[0].camera, "cam");
        // Only --from: from there to the camera's last recording.
        let mut a = src("S1", "cam", Some(T0), 10_000);
        a.analysis = Some(analysed("10fps", 9_900));
        let req = CoverageRequest {
            from_wall_ms: Some(T0 + 4_000),
            ..Default::default()
        };
        let cov = compute(&[a], &req);
        assert_eq!(states(&cov.cameras[0]), vec![(4_000, 10_000, Analysed)]);
    }

    #[test]
    fn the_index_parameters_are_read_as_written_by_analyze() {
        let params = json!({
            "analysis": {"detector": "motion", "sampling": "10fps"},
            "decode": {
                "last_pts_ms": 3900, "truncated": false, "read_error": false,
                "corrupt_packets": 2, "corrupt_frames": 1, "timestamps_synthesised": 0,
                "timestamp_discontinuities": 3,
                "gaps": [{"after_ms": 1960, "missing_ms": 10000}],
            },
        });
        let a = AnalysisFacts::from_params(&params);
        assert_eq!(a.sampling.as_deref(), Some("10fps"));
        assert_eq!(a.last_pts_ms, Some(3900));
        assert_eq!(
            a.gaps,
            vec![MediaGap {
                after_ms: 1960,
                missing_ms: 10_000
            }]
        );
        assert_eq!((a.corrupt_packets, a.corrupt_frames), (2, 1));
        assert_eq!(a.timestamp_discontinuities, 3);
        assert_eq!(
            AnalysisFacts::from_params(&json!({})),
            AnalysisFacts::default()
        );
    }

    #[test]
    fn the_detection_rate_recorded_by_analysis_says_how_densely_an_interval_was_examined() {
        // 2.5 minutes analysed at 10 fps: a busy first minute (every frame detected), two
        // quiet ones (a detection every 2 s, the refresh).
        let params = json!({
            "analysis": {"sampling": "10fps"},
            "decode": {"last_pts_ms": 149_900},
            "stats": {"detect_rate": [
                {"from_ms": 0, "frames": 600, "detected": 600},
                {"from_ms": 60_000, "frames": 600, "detected": 30},
                {"from_ms": 120_000, "frames": 300, "detected": 15},
            ]},
        });
        let mut a = src("S1", "cam", Some(T0), 150_000);
        a.analysis = Some(AnalysisFacts::from_params(&params));
        let cov = compute(&[a], &CoverageRequest::default());
        let i = &cov.cameras[0].intervals[0];
        let e = i.examined.expect("recorded rate");
        assert!(
            (e.mean_detections_per_s - 645.0 / 150.0).abs() < 0.01,
            "{e:?}"
        );
        assert!((e.min_detections_per_s - 0.5).abs() < 0.01, "{e:?}");
        assert!(interval_note(i)
            .unwrap()
            .contains("examined at 4.3 detections/s (at least 0.5 in every minute)"));
        // Older analyses did not record it: nothing is said.
        let mut old = src("S2", "cam2", Some(T0), 4_000);
        old.analysis = Some(analysed("10fps", 3_900));
        let cov = compute(&[old], &CoverageRequest::default());
        assert_eq!(cov.cameras[0].intervals[0].examined, None);
    }

    #[test]
    fn a_salvaged_export_is_flagged() {
        let mut a = src("S1", "cam", Some(T0), 4_000);
        a.salvaged = true;
        let cov = compute(&[a], &CoverageRequest::default());
        let i = &cov.cameras[0].intervals[0];
        assert!(i.salvaged);
        assert_eq!(i.state, CoverageState::Recorded);
        assert!(interval_note(i).unwrap().contains("salvaged"));
    }

    #[test]
    fn a_reversed_or_malformed_range_names_the_flag() {
        let e = CoverageRequest::parse(
            None,
            Some("2026-11-30T14:00:00+01:00"),
            Some("2026-11-30T13:00:00+01:00"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--to"), "{e}");
        let e = CoverageRequest::parse(None, Some("yesterday"), None).unwrap_err();
        assert!(e.to_string().contains("--from") && e.to_string().contains("RFC 3339"));
        let r =
            CoverageRequest::parse(Some(" cam "), Some("2026-11-30T14:00:00+01:00"), None).unwrap();
        assert_eq!(r.camera.as_deref(), Some("cam"));
        assert_eq!(r.from_wall_ms, Some(T0));
    }

    #[test]
    fn durations_read_for_people() {
        assert_eq!(format_duration_ms(0), "0 s");
        assert_eq!(format_duration_ms(850), "850 ms");
        assert_eq!(format_duration_ms(12_500), "12.5 s");
        assert_eq!(format_duration_ms(185_000), "3 min 05 s");
        assert_eq!(format_duration_ms(7_380_000), "2 h 03 min");
        assert_eq!(
            local_label(T0, Some("Europe/Paris")).unwrap(),
            "2026-11-30 14:00:00+01:00"
        );
        assert_eq!(local_label(T0, None), None);
        assert_eq!(utc_label(T0), "2026-11-30 13:00:00Z");
    }

    /// A minimal well-formedness check: every tag closes in order, attributes are quoted,
    /// no entity but the five XML ones and numeric references.
    fn check_xml(s: &str) -> Vec<String> {
        let mut stack: Vec<String> = Vec::new();
        let mut elements = Vec::new();
        let mut rest = s;
        while let Some(lt) = rest.find('<') {
            let text = &rest[..lt];
            check_text(text);
            let gt = rest[lt..].find('>').expect("a tag closes") + lt;
            let tag = &rest[lt + 1..gt];
            rest = &rest[gt + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(
                    stack.pop().as_deref(),
                    Some(name.trim()),
                    "unbalanced </{name}>"
                );
                continue;
            }
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = tag
                .split_whitespace()
                .next()
                .expect("a tag name")
                .to_owned();
            // Attributes: name="value" pairs, nothing else.
            let mut attrs = tag[name.len()..].trim();
            while !attrs.is_empty() {
                let eq = attrs
                    .find("=\"")
                    .unwrap_or_else(|| panic!("bad attribute in <{tag}>"));
                assert!(!attrs[..eq].contains(char::is_whitespace), "<{tag}>");
                let end = attrs[eq + 2..].find('"').expect("a closing quote") + eq + 2;
                check_text(&attrs[eq + 2..end]);
                attrs = attrs[end + 1..].trim_start();
            }
            elements.push(name.clone());
            if !self_closing {
                stack.push(name);
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        elements
    }

    fn check_text(t: &str) {
        let mut rest = t;
        while let Some(amp) = rest.find('&') {
            let semi = rest[amp..].find(';').expect("an entity ends") + amp;
            let ent = &rest[amp + 1..semi];
            assert!(
                ["amp", "lt", "gt", "quot", "#39"].contains(&ent),
                "entity &{ent};"
            );
            rest = &rest[semi + 1..];
        }
    }

    #[test]
    fn the_timeline_is_a_self_contained_svg_with_one_row_per_camera() {
        let mut a = src("S1", "cam <north>", Some(T0), 4_000);
        a.analysis = Some(analysed("10fps", 3_900));
        a.time_zone = Some("Europe/Paris".into());
        let mut b = src("S2", "cam <north>", Some(T0 + 10_000), 4_000);
        b.salvaged = true;
        b.time_zone = Some("Europe/Paris".into());
        let mut g = src("S3", "yard & gate", Some(T0), 20_000);
        g.time_zone = Some("Europe/Paris".into());
        g.analysis = Some(AnalysisFacts {
            sampling: Some("all".into()),
            last_pts_ms: Some(19_900),
            gaps: vec![MediaGap {
                after_ms: 1_900,
                missing_ms: 5_000,
            }],
            ..Default::default()
        });
        let lost = src("S4", "lost", None, 1_000);
        let cov = compute(&[a, b, g, lost], &CoverageRequest::default());
        let svg = timeline_svg(&cov);
        let elements = check_xml(&svg);
        assert_eq!(elements[0], "svg");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        for forbidden in [
            "<script", "href", "http://", "https://", "url(http", "@import",
        ] {
            let occurrences = svg.matches(forbidden).count();
            let allowed = usize::from(forbidden == "http://"); // the namespace only
            assert_eq!(occurrences, allowed, "{forbidden} in the SVG");
        }
        // One label per camera, escaped; bars of each state with their tooltip.
        assert!(svg.contains(">cam &lt;north&gt;</text>"));
        assert!(svg.contains(">yard &amp; gate</text>"));
        assert_eq!(svg.matches("<rect class=\"analysed\"").count(), 3);
        assert_eq!(svg.matches("<rect class=\"missing\"").count(), 1);
        assert_eq!(svg.matches("<rect class=\"damaged\"").count(), 1);
        assert_eq!(svg.matches("<rect class=\"recorded\"").count(), 1);
        assert!(svg.contains(&format!("fill=\"{COLOUR_DAMAGED}\"")));
        assert!(svg.contains("fill=\"url(#vigie-missing)\""));
        assert!(
            svg.contains("sampling 10fps"),
            "the sampling is in the tooltip"
        );
        assert!(
            svg.contains("stroke-dasharray"),
            "the salvaged export is outlined"
        );
        // The axis is in the cameras' zone: 14:00 local is 13:00 UTC.
        assert!(svg.contains("times in Europe/Paris"));
        assert!(svg.contains(">14:00:00</text>"), "{svg}");
        assert!(svg.contains(">2026-11-30</text>"));
        // Legend, and the source that cannot be placed.
        for label in [
            "recorded, not analysed",
            "damaged",
            "missing (no recording)",
        ] {
            assert!(svg.contains(label), "{label}");
        }
        assert!(svg.contains("cannot be placed in time: S4 (lost)"));
        // Empty coverage still renders.
        let empty = timeline_svg(&compute(&[], &CoverageRequest::default()));
        check_xml(&empty);
        assert!(empty.contains("No footage can be placed in time."));
        // UTC when no zone is set.
        let utc = timeline_svg(&compute(
            &[src("S1", "c", Some(T0), 4_000)],
            &CoverageRequest::default(),
        ));
        assert!(utc.contains("times in UTC") && utc.contains(">13:00:00</text>"));
    }
}
