//! `vigie eval colour`: how well vigie names colours, against colours labelled by eye.
//!
//! Why a labelled set of its own: colour names are what an investigator types
//! (`--lower blue`), so the measure that matters is whether the name vigie gives is the
//! one a person would give, and whether a search for that name finds the object. No public
//! data set labels clothing or vehicle colours under CCTV light, so the labels
//! (`eval/colour/labels.toml`) were written by looking at crops of ground-truth boxes,
//! before looking at vigie's output, and split into a tuning half and a test half that are
//! reported separately.
//!
//! The evaluation runs the describer exactly as `vigie analyze` does: frames at the working
//! width, the background model's foreground mask (videos; a still has none, so the box's
//! central part is used, as for an object absorbed into the background), one observation
//! per labelled object, then the summary's colour lists. The search figure uses the rule
//! the index applies ([`vigie_index::query::colour_matches`]). It goes through the
//! measurement door: every label file and source is declared and hashed before anything is
//! computed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vigie_core::{BBox, Colour, ColourShare, RgbFrame};
use vigie_decode::{DecodeConfig, Decoder, OutputSize};
use vigie_describe::{DescribeConfig, Describer, ObjectMask, Observation, Scene, TrackEnd};
use vigie_motion::{BackgroundModel, MotionConfig};

use crate::error::AppError;
use crate::measure::Measurement;

fn bad(e: impl std::fmt::Display) -> AppError {
    AppError::BadInput(e.to_string())
}

/// Which half of the labels an object belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Used to choose the naming's parameters.
    Tune,
    /// Held out: the figures to report.
    Test,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Tune => "tune",
            Split::Test => "test",
        }
    }
}

/// Which part of an object a label names (the parts `--colour`, `--upper`, `--lower` search).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Whole,
    Upper,
    Lower,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Whole => "whole",
            Part::Upper => "upper",
            Part::Lower => "lower",
        }
    }
}

/// The colour a person would give one part, and the other names accepted when the part is
/// ambiguous (two-tone, between two names, partly hidden).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartLabel {
    pub colour: Colour,
    #[serde(default)]
    pub alternatives: Vec<Colour>,
    #[serde(default)]
    pub ambiguous: bool,
}

impl PartLabel {
    /// Whether `c` is an accepted name for this part.
    pub fn accepts(&self, c: Colour) -> bool {
        c == self.colour || self.alternatives.contains(&c)
    }
}

/// One labelled object of `labels.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledObject {
    pub id: u32,
    /// `shared/...` (the shared data root), `cache/...` (the vigie cache) or a path
    /// relative to the label file.
    pub source: String,
    /// 0-based video frame (0 for a still image).
    #[serde(default)]
    pub frame: u64,
    /// `[x, y, width, height]` in the source's own pixels.
    #[serde(rename = "box")]
    pub box_px: [f32; 4],
    pub class: String,
    pub split: Split,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub whole: Option<PartLabel>,
    #[serde(default)]
    pub upper: Option<PartLabel>,
    #[serde(default)]
    pub lower: Option<PartLabel>,
}

impl LabelledObject {
    fn parts(&self) -> impl Iterator<Item = (Part, &PartLabel)> {
        [
            (Part::Whole, self.whole.as_ref()),
            (Part::Upper, self.upper.as_ref()),
            (Part::Lower, self.lower.as_ref()),
        ]
        .into_iter()
        .filter_map(|(p, l)| l.map(|l| (p, l)))
    }

    /// The data set an object comes from, for the per-data-set figures: the source's
    /// folder (`mot15-tud/TUD-Campus`) or file name for a bare file.
    pub fn dataset(&self) -> String {
        let p = Path::new(&self.source);
        let parent = p.parent().map(|d| d.to_string_lossy().into_owned());
        let name = match parent.as_deref() {
            Some(d) if !d.is_empty() && !matches!(d, "shared" | "cache" | "cache/footage") => {
                d.trim_start_matches("shared/datasets/").to_owned()
            }
            _ => p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        name
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelFile {
    object: Vec<LabelledObject>,
}

/// Read a TOML label file of kind `what`, naming the file in any error.
fn read_label_toml<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, AppError> {
    let text = std::fs::read_to_string(path).map_err(AppError::io(path))?;
    toml::from_str(&text)
        .map_err(|e| bad(format!("cannot read the {what} ({e}): {}", path.display())))
}

/// Read and check a label file: unique ids, positive boxes, at least one part each.
pub fn load_labels(path: &Path) -> Result<Vec<LabelledObject>, AppError> {
    let file: LabelFile = read_label_toml(path, "colour labels")?;
    let mut ids = BTreeSet::new();
    for o in &file.object {
        if !ids.insert(o.id) {
            return Err(bad(format!(
                "colour label id {} appears twice: {}",
                o.id,
                path.display()
            )));
        }
        if !(o.box_px[2] > 1.0 && o.box_px[3] > 1.0) {
            return Err(bad(format!(
                "colour label {} has an empty box {:?}: {}",
                o.id,
                o.box_px,
                path.display()
            )));
        }
        if o.parts().next().is_none() {
            return Err(bad(format!(
                "colour label {} names no part (whole, upper or lower): {}",
                o.id,
                path.display()
            )));
        }
    }
    Ok(file.object)
}

/// Where the label file's `shared/...` and `cache/...` sources live.
#[derive(Debug, Clone)]
pub struct Roots {
    /// The shared data root (`../shared` from the project root).
    pub shared: PathBuf,
    /// The vigie cache (`vigie_core::paths::cache_dir()`).
    pub cache: PathBuf,
}

/// The file a label's source names.
pub fn resolve_source(labels: &Path, source: &str, roots: &Roots) -> PathBuf {
    if let Some(rest) = source.strip_prefix("shared/") {
        roots.shared.join(rest)
    } else if let Some(rest) = source.strip_prefix("cache/") {
        roots.cache.join(rest)
    } else {
        labels.parent().unwrap_or(Path::new(".")).join(source)
    }
}

/// Every source file the labels need, in order, each once (to declare to the measurement).
pub fn label_sources(labels: &Path, objects: &[LabelledObject], roots: &Roots) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for o in objects {
        let p = resolve_source(labels, &o.source, roots);
        if seen.insert(p.clone()) {
            out.push(p);
        }
    }
    out
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvalColourRequest {
    pub labels: PathBuf,
    pub roots: Roots,
    /// Only this half (`None`: both, each reported).
    pub split: Option<Split>,
    /// Frame width the describer sees (as `vigie analyze --width`; 0 = native).
    pub width_px: u32,
}

/// One labelled part and what vigie named it.
#[derive(Debug, Clone, Serialize)]
pub struct PartResult {
    pub id: u32,
    pub dataset: String,
    pub split: Split,
    pub part: Part,
    pub label: PartLabel,
    /// vigie's colours for the part, largest share first.
    pub named: Vec<ColourShare>,
    pub first_right: bool,
    pub first_two_right: bool,
    /// Whether a search for the labelled colour (or an accepted alternative) returns it.
    pub found: bool,
}

/// Figures for one group of parts.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Score {
    pub parts: u32,
    pub ambiguous: u32,
    pub first_right: u32,
    pub first_two_right: u32,
    pub found: u32,
}

impl Score {
    fn add(&mut self, r: &PartResult) {
        self.parts += 1;
        self.ambiguous += u32::from(r.label.ambiguous || !r.label.alternatives.is_empty());
        self.first_right += u32::from(r.first_right);
        self.first_two_right += u32::from(r.first_two_right);
        self.found += u32::from(r.found);
    }

    fn rate(n: u32, d: u32) -> f64 {
        if d == 0 {
            0.0
        } else {
            f64::from(n) / f64::from(d)
        }
    }
    pub fn first_rate(&self) -> f64 {
        Self::rate(self.first_right, self.parts)
    }
    pub fn first_two_rate(&self) -> f64 {
        Self::rate(self.first_two_right, self.parts)
    }
    pub fn found_rate(&self) -> f64 {
        Self::rate(self.found, self.parts)
    }
}

/// A row of the report: split × data set (`all` for every data set) × part.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreRow {
    pub split: Split,
    pub dataset: String,
    pub part: Part,
    #[serde(flatten)]
    pub score: Score,
    pub first_rate: f64,
    pub first_two_rate: f64,
    pub found_rate: f64,
}

/// The evaluation's result.
#[derive(Debug, Clone, Serialize)]
pub struct ColourEval {
    /// The share a colour must cover for a search to return the object.
    pub search_min_share: f32,
    pub rows: Vec<ScoreRow>,
    pub parts: Vec<PartResult>,
    pub seconds: f64,
}

/// Judge vigie's colours for one labelled part.
pub fn judge(label: &PartLabel, named: &[ColourShare]) -> (bool, bool, bool) {
    let first = named.first().is_some_and(|c| label.accepts(c.colour));
    let first_two = named.iter().take(2).any(|c| label.accepts(c.colour));
    let found = std::iter::once(label.colour)
        .chain(label.alternatives.iter().copied())
        .any(|c| vigie_index::query::colour_matches(named, c));
    (first, first_two, found)
}

/// Run the describer on every labelled object and score its colour names.
pub fn eval_colour(m: &Measurement, req: &EvalColourRequest) -> Result<ColourEval, AppError> {
    let t = std::time::Instant::now();
    m.check(&req.labels)?;
    let objects: Vec<LabelledObject> = load_labels(&req.labels)?
        .into_iter()
        .filter(|o| req.split.is_none_or(|s| s == o.split))
        .collect();
    // Objects by source, each source's objects by frame.
    let mut by_source: BTreeMap<PathBuf, Vec<&LabelledObject>> = BTreeMap::new();
    for o in &objects {
        let p = resolve_source(&req.labels, &o.source, &req.roots);
        by_source.entry(p).or_default().push(o);
    }
    let mut summaries: BTreeMap<u32, vigie_core::TrackSummary> = BTreeMap::new();
    for (path, objs) in &by_source {
        m.check(path)?;
        describe_source(path, objs, req.width_px, &mut summaries)?;
    }
    let mut parts = Vec::new();
    for o in &objects {
        let s = summaries.get(&o.id);
        for (part, label) in o.parts() {
            let named: Vec<ColourShare> = match (s, part) {
                (None, _) => Vec::new(),
                (Some(s), Part::Whole) => s.colours.clone(),
                (Some(s), Part::Upper) => s.upper_colours.clone(),
                (Some(s), Part::Lower) => s.lower_colours.clone(),
            };
            let (first_right, first_two_right, found) = judge(label, &named);
            parts.push(PartResult {
                id: o.id,
                dataset: o.dataset(),
                split: o.split,
                part,
                label: label.clone(),
                named,
                first_right,
                first_two_right,
                found,
            });
        }
    }
    Ok(ColourEval {
        search_min_share: vigie_index::query::COLOUR_MIN_SHARE,
        rows: score_rows(&parts),
        parts,
        seconds: t.elapsed().as_secs_f64(),
    })
}

/// The report's rows: per split and part over all data sets, then per data set.
pub fn score_rows(parts: &[PartResult]) -> Vec<ScoreRow> {
    let mut acc: BTreeMap<(Split, bool, String, Part), Score> = BTreeMap::new();
    for r in parts {
        acc.entry((r.split, false, "all".to_owned(), r.part))
            .or_default()
            .add(r);
        acc.entry((r.split, true, r.dataset.clone(), r.part))
            .or_default()
            .add(r);
    }
    acc.into_iter()
        .map(|((split, _, dataset, part), score)| ScoreRow {
            split,
            dataset,
            part,
            first_rate: score.first_rate(),
            first_two_rate: score.first_two_rate(),
            found_rate: score.found_rate(),
            score,
        })
        .collect()
}

fn is_still(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("jpg" | "jpeg" | "png" | "bmp")
    )
}

/// Describe one source's labelled objects: one observation each, at its labelled frame.
fn describe_source(
    path: &Path,
    objs: &[&LabelledObject],
    width_px: u32,
    out: &mut BTreeMap<u32, vigie_core::TrackSummary>,
) -> Result<(), AppError> {
    let mut describer = Describer::new(DescribeConfig::default(), Scene::default());
    let mut observe = |frame: &RgbFrame,
                       src: (u32, u32),
                       mask: Option<&vigie_motion::ForegroundMask>,
                       o: &LabelledObject| {
        let (sx, sy) = (
            frame.width as f32 / src.0.max(1) as f32,
            frame.height as f32 / src.1.max(1) as f32,
        );
        let bbox = BBox {
            x: o.box_px[0] * sx,
            y: o.box_px[1] * sy,
            w: o.box_px[2] * sx,
            h: o.box_px[3] * sy,
        };
        let (w, h) = (frame.width, frame.height);
        let obs = Observation {
            track_id: u64::from(o.id),
            label: &o.class,
            bbox: &bbox,
            score: 1.0,
        };
        match mask {
            Some(mk) => {
                let is_object = |x: u32, y: u32| mk.at_frame(x, y, w, h);
                describer.observe(
                    &obs,
                    frame,
                    Some(ObjectMask {
                        is_object: &is_object,
                        fill: mk.fill_in(&bbox, w, h),
                    }),
                );
            }
            None => describer.observe(&obs, frame, None),
        }
        let d = describer.finish(TrackEnd {
            source_id: "eval",
            camera: "eval",
            track_id: u64::from(o.id),
            label: &o.class,
            confidence: 1.0,
            history: &[(frame.pts_ms, bbox)],
            frame_width: w,
            frame_height: h,
            start_wall_ms: None,
        });
        out.insert(o.id, d.summary);
    };
    if is_still(path) {
        let frame = vigie_detect::still::load_still(path).map_err(bad)?;
        let native = (frame.width, frame.height);
        let frame = scale_to_width(frame, width_px);
        for o in objs {
            observe(&frame, native, None, o);
        }
        return Ok(());
    }
    vigie_decode::init();
    let meta = vigie_decode::probe(path, None, None)?;
    let native = (meta.width, meta.height);
    let cfg = DecodeConfig {
        output_size: if width_px == 0 {
            OutputSize::Native
        } else {
            OutputSize::MaxWidth(width_px)
        },
        ..DecodeConfig::default()
    };
    cfg.validate()?;
    let mut by_frame: BTreeMap<u64, Vec<&LabelledObject>> = BTreeMap::new();
    for o in objs {
        by_frame.entry(o.frame).or_default().push(o);
    }
    let last = by_frame.keys().next_back().copied().unwrap_or(0);
    let mut dec = Decoder::open(path, &cfg)?;
    let mut model = BackgroundModel::new(MotionConfig::default()).map_err(bad)?;
    let mut index = 0u64;
    while let Some(frame) = dec.next_frame()? {
        let mask = model.apply(&frame);
        if let Some(os) = by_frame.get(&index) {
            for o in os {
                observe(&frame, native, Some(mask), o);
            }
        }
        index += 1;
        if index > last {
            break;
        }
    }
    if index <= last {
        return Err(bad(format!(
            "the labels name frame {last} but the video has {index} frames: {}",
            path.display()
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Whole tracks.
//
// What an investigator searches is a track, whose colours are pooled over every view of
// it (most of them small and far). `eval/colour/tracks.toml` labels persons (upper and
// lower body) by a time and a box; each source is analysed as `vigie analyze` does
// (detector, motion gate, tracker, offline linking, description) and each labelled person
// is matched to the person track whose box covers its box at that time (IoU >= 0.5).

/// One labelled person of `tracks.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledPerson {
    pub id: u32,
    /// As [`LabelledObject::source`].
    pub source: String,
    /// The ground-truth id, where the source has ground truth (for the record).
    #[serde(default)]
    pub gt_id: Option<u32>,
    /// When the person covers `box` (media time, ms from the source's start).
    pub t_ms: i64,
    /// `[x, y, width, height]` in the source's own pixels.
    #[serde(rename = "box")]
    pub box_px: [f32; 4],
    pub split: Split,
    pub upper: PartLabel,
    pub lower: PartLabel,
}

impl LabelledPerson {
    fn dataset(&self) -> String {
        LabelledObject {
            id: self.id,
            source: self.source.clone(),
            frame: 0,
            box_px: self.box_px,
            class: "person".into(),
            split: self.split,
            group: None,
            whole: None,
            upper: None,
            lower: None,
        }
        .dataset()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackLabelFile {
    person: Vec<LabelledPerson>,
}

/// Read and check a track label file: unique ids, positive boxes, times not negative.
pub fn load_track_labels(path: &Path) -> Result<Vec<LabelledPerson>, AppError> {
    let file: TrackLabelFile = read_label_toml(path, "track colour labels")?;
    let mut ids = BTreeSet::new();
    for o in &file.person {
        if !ids.insert(o.id) {
            return Err(bad(format!(
                "track label id {} appears twice: {}",
                o.id,
                path.display()
            )));
        }
        if !(o.box_px[2] > 1.0 && o.box_px[3] > 1.0) || o.t_ms < 0 {
            return Err(bad(format!(
                "track label {} has an empty box {:?} or a negative time: {}",
                o.id,
                o.box_px,
                path.display()
            )));
        }
    }
    Ok(file.person)
}

/// Every source file the track labels need, each once: the videos, and the
/// ground truth of those whose persons are named by ground-truth id ([`gt_file`]).
pub fn track_label_sources(
    labels: &Path,
    people: &[LabelledPerson],
    roots: &Roots,
) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for o in people {
        let src = resolve_source(labels, &o.source, roots);
        let gt = o.gt_id.map(|_| gt_file(&src));
        for p in std::iter::once(src).chain(gt) {
            if seen.insert(p.clone()) {
                out.push(p);
            }
        }
    }
    out
}

/// A MOTChallenge sequence's ground truth: `gt/gt.txt` beside the video.
pub fn gt_file(video: &Path) -> PathBuf {
    video
        .parent()
        .unwrap_or(Path::new("."))
        .join("gt")
        .join("gt.txt")
}

/// Matching a labelled box to a track: the track's box at the label's time must overlap it
/// by at least this IoU.
pub const TRACK_MATCH_MIN_IOU: f32 = 0.5;
/// The track's box at a time is its detection there, or interpolated between two
/// detections at most this far apart (the detector does not run on every frame).
pub const TRACK_MATCH_MAX_GAP_MS: i64 = 2000;
/// ... or its nearest detection, at most this far from the time (a frame at the sampling
/// rate).
pub const TRACK_MATCH_NEAREST_MS: i64 = 150;

/// A track's box at `t_ms` from its per-frame boxes (time-ordered): the box there,
/// interpolated between two boxes at most [`TRACK_MATCH_MAX_GAP_MS`] apart, or the nearest
/// within [`TRACK_MATCH_NEAREST_MS`].
pub fn box_at(boxes: &[(i64, BBox)], t_ms: i64) -> Option<BBox> {
    let i = boxes.partition_point(|(t, _)| *t < t_ms);
    if let Some((t, b)) = boxes.get(i) {
        if *t == t_ms {
            return Some(*b);
        }
    }
    if i > 0 && i < boxes.len() {
        let ((t0, a), (t1, b)) = (boxes[i - 1], boxes[i]);
        if t1 - t0 <= TRACK_MATCH_MAX_GAP_MS {
            let f = (t_ms - t0) as f32 / (t1 - t0) as f32;
            let l = |p: f32, q: f32| p + f * (q - p);
            return Some(BBox {
                x: l(a.x, b.x),
                y: l(a.y, b.y),
                w: l(a.w, b.w),
                h: l(a.h, b.h),
            });
        }
    }
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter_map(|j| boxes.get(j))
        .filter(|(t, _)| (t - t_ms).abs() <= TRACK_MATCH_NEAREST_MS)
        .min_by_key(|(t, _)| (t - t_ms).abs())
        .map(|(_, b)| *b)
}

/// The track (index into `tracks`) whose box at `t_ms` overlaps `label_box` the most, if
/// by at least [`TRACK_MATCH_MIN_IOU`]. `tracks`: each track's time-ordered boxes, in the
/// same pixels as `label_box`.
pub fn match_track(tracks: &[&[(i64, BBox)]], t_ms: i64, label_box: &BBox) -> Option<usize> {
    tracks
        .iter()
        .enumerate()
        .filter_map(|(k, boxes)| box_at(boxes, t_ms).map(|b| (k, b.iou(label_box))))
        .filter(|(_, iou)| *iou >= TRACK_MATCH_MIN_IOU)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

/// The track (index into `tracks`) that covers a ground-truth person's boxes (`gt`:
/// time-ordered, same pixels) at the most of their times, by IoU >= [`TRACK_MATCH_MIN_IOU`]:
/// the track an investigator would find for that person. `None` when no track covers any.
pub fn match_track_over(tracks: &[&[(i64, BBox)]], gt: &[(i64, BBox)]) -> Option<usize> {
    tracks
        .iter()
        .enumerate()
        .map(|(k, boxes)| {
            let n = gt
                .iter()
                .filter(|(t, g)| box_at(boxes, *t).is_some_and(|b| b.iou(g) >= TRACK_MATCH_MIN_IOU))
                .count();
            (k, n)
        })
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(k, n)| (*n, std::cmp::Reverse(*k)))
        .map(|(k, _)| k)
}

/// A ground-truth person's boxes by media time (MOTChallenge frames are 1-based).
fn gt_boxes(gt: &vigie_track::eval::MotFile, id: u32, fps: f64) -> Vec<(i64, BBox)> {
    let clock = vigie_track::mot::FrameClock::new(1000.0 / fps);
    gt.frames
        .iter()
        .flat_map(|(f, bs)| {
            bs.iter().filter(|b| b.id == i64::from(id)).map(move |b| {
                (
                    clock.pts_ms(*f),
                    BBox {
                        x: b.x as f32,
                        y: b.y as f32,
                        w: b.w as f32,
                        h: b.h as f32,
                    },
                )
            })
        })
        .collect()
}

/// What to evaluate on whole tracks.
#[derive(Debug, Clone)]
pub struct EvalTrackColourRequest {
    pub labels: PathBuf,
    pub roots: Roots,
    pub split: Option<Split>,
    /// How views are pooled (`None`: the default, as `vigie analyze`).
    pub pooling: Option<vigie_describe::ColourPooling>,
    pub detector: TrackDetector,
}

/// The detector the whole-track evaluation analyses with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrackDetector {
    /// NanoDet, chosen and run as `vigie analyze` does.
    #[default]
    Nanodet,
    /// The motion blobs, named `person`: for generated fixtures, in which NanoDet would
    /// see no person.
    MotionBlobsAsPersons,
}

/// [`vigie_pipeline::MotionObjectDetector`] whose blobs are named `person`.
struct BlobsAsPersons(vigie_pipeline::MotionObjectDetector);

impl vigie_pipeline::ObjectDetector for BlobsAsPersons {
    fn detect(
        &mut self,
        frame: &RgbFrame,
        mask: &vigie_motion::ForegroundMask,
    ) -> Result<Vec<vigie_core::Detection>, vigie_pipeline::StageError> {
        let mut d = self.0.detect(frame, mask)?;
        for x in &mut d {
            x.label = "person".into();
        }
        Ok(d)
    }
    fn name(&self) -> &str {
        "motion-as-person"
    }
}

/// One labelled person and the track it matched.
#[derive(Debug, Clone, Serialize)]
pub struct PersonResult {
    pub id: u32,
    pub dataset: String,
    pub split: Split,
    /// The matched track (`None`: no person track covered the box).
    pub track_id: Option<u64>,
    /// Another labelled person of the same half matched the same track first: this one is
    /// not counted again.
    pub duplicate_of: Option<u32>,
    /// Views of the matched track, and the tallest (working pixels).
    pub track_views: usize,
    pub track_max_height_px: f32,
    pub upper: PartResult,
    pub lower: PartResult,
}

/// Whole-track figures for one split, data set (`all` for every one) and part.
#[derive(Debug, Clone, Serialize)]
pub struct TrackScoreRow {
    pub split: Split,
    pub dataset: String,
    pub part: Part,
    /// Labelled persons (each track once), those no track matched, and the scores over
    /// the matched tracks.
    pub persons: u32,
    pub unmatched: u32,
    #[serde(flatten)]
    pub score: Score,
    pub first_rate: f64,
    pub first_two_rate: f64,
    pub found_rate: f64,
}

/// The whole-track evaluation's result.
#[derive(Debug, Clone, Serialize)]
pub struct TrackColourEval {
    pub search_min_share: f32,
    pub match_min_iou: f32,
    pub rows: Vec<TrackScoreRow>,
    pub persons: Vec<PersonResult>,
    /// Person tracks found in all sources.
    pub person_tracks: u32,
    pub seconds: f64,
}

/// One analysed source: each person track's boxes (source pixels) and summary.
struct AnalysedTracks {
    boxes: Vec<Vec<(i64, BBox)>>,
    summaries: Vec<vigie_core::TrackSummary>,
}

fn analyse_for_tracks(
    m: &Measurement,
    path: &Path,
    pooling: Option<vigie_describe::ColourPooling>,
    which: TrackDetector,
) -> Result<AnalysedTracks, AppError> {
    vigie_decode::init();
    let meta = vigie_decode::probe(path, None, None)?;
    let mut cfg = vigie_pipeline::AnalyzeConfig::default();
    cfg.decode = cfg.decode.clone().for_source(&meta);
    if let Some(p) = pooling {
        cfg.describe.pooling = p;
    }
    let model = crate::analyze::detector_model_for_source(
        meta.width,
        meta.height,
        cfg.decode.output_size,
        vigie_detect::InputChoice::default(),
        crate::analyze::resolve_precision(vigie_detect::PrecisionChoice::default(), "cpu"),
    );
    let mut detector: Box<dyn vigie_pipeline::ObjectDetector + Send> = match which {
        TrackDetector::Nanodet => {
            m.detector(crate::analyze::DetectorChoice::Nanodet, model, "cpu", true)?
        }
        TrackDetector::MotionBlobsAsPersons => {
            Box::new(BlobsAsPersons(vigie_pipeline::MotionObjectDetector {
                min_blob_frac: 0.0015,
            }))
        }
    };
    let input = vigie_pipeline::SourceInput {
        source_id: "eval".into(),
        camera: "eval".into(),
        path: path.to_owned(),
    };
    let a = vigie_pipeline::analyze_source(&input, &cfg, detector.as_mut(), |_| {
        std::ops::ControlFlow::Continue(())
    })?;
    let (sx, sy) = (
        meta.width as f32 / a.frame_size.0.max(1) as f32,
        meta.height as f32 / a.frame_size.1.max(1) as f32,
    );
    let mut out = AnalysedTracks {
        boxes: Vec::new(),
        summaries: Vec::new(),
    };
    for (d, tube) in a.descriptions.into_iter().zip(a.tubes) {
        if d.summary.label != "person" {
            continue;
        }
        out.boxes.push(
            tube.boxes
                .iter()
                .map(|(t, b)| {
                    (
                        *t,
                        BBox {
                            x: b.x * sx,
                            y: b.y * sy,
                            w: b.w * sx,
                            h: b.h * sy,
                        },
                    )
                })
                .collect(),
        );
        out.summaries.push(d.summary);
    }
    Ok(out)
}

fn part_result(
    p: &LabelledPerson,
    part: Part,
    label: &PartLabel,
    named: Vec<ColourShare>,
) -> PartResult {
    let (first_right, first_two_right, found) = judge(label, &named);
    PartResult {
        id: p.id,
        dataset: p.dataset(),
        split: p.split,
        part,
        label: label.clone(),
        named,
        first_right,
        first_two_right,
        found,
    }
}

/// Analyse every labelled source as `vigie analyze` does and score the colours of the
/// person tracks the labelled persons match.
pub fn eval_track_colour(
    m: &Measurement,
    req: &EvalTrackColourRequest,
) -> Result<TrackColourEval, AppError> {
    let t = std::time::Instant::now();
    m.check(&req.labels)?;
    let people: Vec<LabelledPerson> = load_track_labels(&req.labels)?
        .into_iter()
        .filter(|o| req.split.is_none_or(|s| s == o.split))
        .collect();
    let mut by_source: BTreeMap<PathBuf, Vec<&LabelledPerson>> = BTreeMap::new();
    for o in &people {
        by_source
            .entry(resolve_source(&req.labels, &o.source, &req.roots))
            .or_default()
            .push(o);
    }
    let mut persons = Vec::new();
    let mut person_tracks = 0u32;
    for (path, ps) in &by_source {
        m.check(path)?;
        let a = analyse_for_tracks(m, path, req.pooling, req.detector)?;
        // Persons named by ground-truth id are matched over every frame of their truth.
        let gt = if ps.iter().any(|p| p.gt_id.is_some()) {
            let g = gt_file(path);
            m.check(&g)?;
            let fps = vigie_decode::probe(path, None, None)?.fps.unwrap_or(25.0);
            let mot = vigie_track::eval::read_mot(&g)
                .map_err(|e| bad(format!("{e}: {}", g.display())))?;
            Some((mot, fps))
        } else {
            None
        };
        person_tracks += a.summaries.len() as u32;
        let tracks: Vec<&[(i64, BBox)]> = a.boxes.iter().map(Vec::as_slice).collect();
        let mut first_label: BTreeMap<(Split, u64), u32> = BTreeMap::new();
        for p in ps {
            let b = BBox {
                x: p.box_px[0],
                y: p.box_px[1],
                w: p.box_px[2],
                h: p.box_px[3],
            };
            let k = match (p.gt_id, &gt) {
                (Some(id), Some((g, fps))) => match_track_over(&tracks, &gt_boxes(g, id, *fps)),
                _ => match_track(&tracks, p.t_ms, &b),
            };
            let s = k.map(|k| &a.summaries[k]);
            let duplicate_of = s.and_then(|s| {
                let first = *first_label.entry((p.split, s.track_id)).or_insert(p.id);
                (first != p.id).then_some(first)
            });
            let (upper, lower) = s
                .map(|s| (s.upper_colours.clone(), s.lower_colours.clone()))
                .unwrap_or_default();
            persons.push(PersonResult {
                id: p.id,
                dataset: p.dataset(),
                split: p.split,
                track_id: s.map(|s| s.track_id),
                duplicate_of,
                track_views: k.map_or(0, |k| a.boxes[k].len()),
                track_max_height_px: k.map_or(0.0, |k| {
                    a.boxes[k].iter().map(|(_, b)| b.h).fold(0.0, f32::max)
                }),
                upper: part_result(p, Part::Upper, &p.upper, upper),
                lower: part_result(p, Part::Lower, &p.lower, lower),
            });
        }
    }
    persons.sort_by_key(|p| p.id);
    Ok(TrackColourEval {
        search_min_share: vigie_index::query::COLOUR_MIN_SHARE,
        match_min_iou: TRACK_MATCH_MIN_IOU,
        rows: track_score_rows(&persons),
        persons,
        person_tracks,
        seconds: t.elapsed().as_secs_f64(),
    })
}

/// Per split and part over all data sets, then per data set; each matched track once per
/// half, unmatched persons counted apart.
pub fn track_score_rows(persons: &[PersonResult]) -> Vec<TrackScoreRow> {
    // (split, per data set, data set, part) -> (persons, unmatched, score)
    type Key = (Split, bool, String, Part);
    let mut acc: BTreeMap<Key, (u32, u32, Score)> = BTreeMap::new();
    for p in persons.iter().filter(|p| p.duplicate_of.is_none()) {
        for r in [&p.upper, &p.lower] {
            for key in [
                (p.split, false, "all".to_owned(), r.part),
                (p.split, true, p.dataset.clone(), r.part),
            ] {
                let e = acc.entry(key).or_default();
                e.0 += 1;
                if p.track_id.is_some() {
                    e.2.add(r);
                } else {
                    e.1 += 1;
                }
            }
        }
    }
    acc.into_iter()
        .map(
            |((split, _, dataset, part), (persons, unmatched, score))| TrackScoreRow {
                split,
                dataset,
                part,
                persons,
                unmatched,
                first_rate: score.first_rate(),
                first_two_rate: score.first_two_rate(),
                found_rate: score.found_rate(),
                score,
            },
        )
        .collect()
}

/// A still scaled to the working width (as the decoder does for videos).
fn scale_to_width(frame: RgbFrame, width_px: u32) -> RgbFrame {
    if width_px == 0 || frame.width <= width_px {
        return frame;
    }
    let h =
        ((u64::from(frame.height) * u64::from(width_px)) / u64::from(frame.width)).max(1) as u32;
    let Some(img) = image::RgbImage::from_raw(frame.width, frame.height, frame.data.clone()) else {
        return frame;
    };
    let small = image::imageops::resize(&img, width_px, h, image::imageops::FilterType::Triangle);
    RgbFrame {
        width: width_px,
        height: h,
        data: small.into_raw(),
        ..frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(c: Colour, alt: &[Colour]) -> PartLabel {
        PartLabel {
            colour: c,
            alternatives: alt.to_vec(),
            ambiguous: !alt.is_empty(),
        }
    }

    fn share(c: Colour, s: f32) -> ColourShare {
        ColourShare {
            colour: c,
            share: s,
        }
    }

    #[test]
    fn judging_counts_first_first_two_and_search() {
        use Colour::*;
        let named = [share(Grey, 0.5), share(Blue, 0.3), share(Black, 0.15)];
        assert_eq!(judge(&label(Blue, &[]), &named), (false, true, true));
        assert_eq!(judge(&label(Grey, &[]), &named), (true, true, true));
        // Third colour under the search share: not found, not in the first two.
        assert_eq!(judge(&label(Black, &[]), &named), (false, false, false));
        // An accepted alternative counts.
        assert_eq!(judge(&label(White, &[Grey]), &named), (true, true, true));
        assert_eq!(judge(&label(Blue, &[]), &[]), (false, false, false));
    }

    fn bx(x: f32, y: f32, w: f32, h: f32) -> BBox {
        BBox { x, y, w, h }
    }

    #[test]
    fn a_tracks_box_at_a_time_is_interpolated_between_detections() {
        let boxes = [
            (0, bx(0.0, 0.0, 10.0, 20.0)),
            (1000, bx(100.0, 0.0, 10.0, 20.0)),
            (5000, bx(500.0, 0.0, 10.0, 20.0)),
        ];
        assert_eq!(box_at(&boxes, 0), Some(boxes[0].1));
        assert_eq!(box_at(&boxes, 500), Some(bx(50.0, 0.0, 10.0, 20.0)));
        // A gap longer than TRACK_MATCH_MAX_GAP_MS: only a detection close in time.
        assert_eq!(box_at(&boxes, 3000), None);
        assert_eq!(box_at(&boxes, 1100), Some(boxes[1].1));
        assert_eq!(box_at(&boxes, 4900), Some(boxes[2].1));
        // Before the first and after the last detection: within a frame only.
        assert_eq!(box_at(&boxes, -100), Some(boxes[0].1));
        assert_eq!(box_at(&boxes, -1000), None);
        assert_eq!(box_at(&boxes, 5100), Some(boxes[2].1));
        assert_eq!(box_at(&boxes, 6000), None);
        assert_eq!(box_at(&[], 0), None);
    }

    #[test]
    fn a_label_matches_the_track_that_overlaps_it_most() {
        let a = [
            (0, bx(0.0, 0.0, 20.0, 40.0)),
            (200, bx(20.0, 0.0, 20.0, 40.0)),
        ];
        let b = [
            (0, bx(12.0, 0.0, 20.0, 40.0)),
            (200, bx(12.0, 0.0, 20.0, 40.0)),
        ];
        let tracks: Vec<&[(i64, BBox)]> = vec![&a, &b];
        // At 100 ms, track a is at x = 10 (IoU 1 with the label), b at x = 12.
        assert_eq!(
            match_track(&tracks, 100, &bx(10.0, 0.0, 20.0, 40.0)),
            Some(0)
        );
        // At 0 ms: a at 0 (IoU 0.67 with a box at 4), b at 12 (IoU 0.43): a.
        assert_eq!(match_track(&tracks, 0, &bx(4.0, 0.0, 20.0, 40.0)), Some(0));
        // Overlapping both, but neither by IoU 0.5: no track.
        assert_eq!(match_track(&tracks, 0, &bx(6.0, 0.0, 20.0, 80.0)), None);
        // Nothing at that time.
        assert_eq!(match_track(&tracks, 9000, &bx(10.0, 0.0, 20.0, 40.0)), None);
    }

    #[test]
    fn a_ground_truth_person_matches_the_track_covering_most_of_its_boxes() {
        let gt: Vec<(i64, BBox)> = (0..10)
            .map(|i| (i * 100, bx(i as f32 * 10.0, 0.0, 20.0, 40.0)))
            .collect();
        // Track a: the first three boxes; b: the last six; c: elsewhere.
        let a: Vec<(i64, BBox)> = gt[..3].to_vec();
        let b: Vec<(i64, BBox)> = gt[4..].to_vec();
        let c = [
            (0, bx(300.0, 0.0, 20.0, 40.0)),
            (900, bx(300.0, 0.0, 20.0, 40.0)),
        ];
        let tracks: Vec<&[(i64, BBox)]> = vec![&a, &b, &c];
        assert_eq!(match_track_over(&tracks, &gt), Some(1));
        assert_eq!(match_track_over(&tracks[..1], &gt), Some(0));
        assert_eq!(match_track_over(&tracks[2..], &gt), None);
    }

    #[test]
    fn dataset_names_come_from_the_source_folder() {
        let mut o = LabelledObject {
            id: 1,
            source: "shared/datasets/mot15-tud/TUD-Campus/TUD-Campus.mp4".into(),
            frame: 0,
            box_px: [0.0, 0.0, 10.0, 10.0],
            class: "person".into(),
            split: Split::Tune,
            group: None,
            whole: None,
            upper: None,
            lower: None,
        };
        assert_eq!(o.dataset(), "mot15-tud/TUD-Campus");
        o.source = "cache/footage/vtest.avi".into();
        assert_eq!(o.dataset(), "vtest.avi");
        o.source = "img/a.png".into();
        assert_eq!(o.dataset(), "img");
    }
}
