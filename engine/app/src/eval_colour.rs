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

/// Read and check a label file: unique ids, positive boxes, at least one part each.
pub fn load_labels(path: &Path) -> Result<Vec<LabelledObject>, AppError> {
    let text = std::fs::read_to_string(path).map_err(AppError::io(path))?;
    let file: LabelFile = toml::from_str(&text).map_err(|e| {
        bad(format!(
            "cannot read the colour labels ({e}): {}",
            path.display()
        ))
    })?;
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
