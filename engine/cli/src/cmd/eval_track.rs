//! `vigie eval track --video V --gt GT`: vigie's own detector + tracker scored against
//! MOTChallenge ground truth (MOTA, IDF1, HOTA), on every frame of the sequence.
//!
//! This is how the README's tracking figures on TUD-Campus and TUD-Stadtmitte are made:
//! by default through `vigie analyze`'s own pipeline (motion gate, tracker, offline
//! linking, noise filter) with each track's boxes as the synopsis shows them
//! (`--boxes`); `--every-frame` runs the detector and the tracker alone on every frame.

use std::path::PathBuf;

use serde_json::json;
use vigie_app::measure::Computed;
use vigie_app::Measurement;

use super::analyze::DetectorChoice;
use crate::output::{outln, print_json, Outcome};
use crate::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The sequence as a video file (frame n of the video = ground-truth frame n + 1).
    #[arg(long)]
    pub video: PathBuf,
    /// MOTChallenge ground truth (`gt/gt.txt`).
    #[arg(long)]
    pub gt: PathBuf,
    #[arg(long, value_enum, default_value = "nanodet")]
    pub detector: DetectorChoice,
    /// NanoDet's input: `auto` (by the frame's shape, as analysis: 512x288 for frames at
    /// least 1.6 times as wide as high, 416x352 from 13:11 up to 1.6, 416 otherwise), or `416` /
    /// `416x352` / `512x288` / `768x448` to force one (to compare them; 768x448 finds more
    /// small and distant vehicles in wide frames, at about 2.2x the detector's time).
    #[arg(long, default_value = "auto", value_parser = super::detect::parse_detector_input)]
    pub detector_input: vigie_app::bench::InputChoice,
    /// NanoDet's precision: `auto` (as analysis: int8 on CPUs with AVX512-VNNI or
    /// AVX-VNNI, float otherwise; doc/models.md "int8 (issue 18 item 3)"), or `float` /
    /// `int8` to force one (to compare them).
    #[arg(long, default_value = "auto", value_parser = super::detect::parse_detector_precision)]
    pub detector_precision: vigie_app::bench::PrecisionChoice,
    /// Minimum detector score kept (low-score boxes feed ByteTrack's second stage).
    #[arg(long, default_value_t = 0.1)]
    pub min_score: f32,
    /// Write vigie's MOTChallenge output here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Which boxes of a track are scored where the detector ran and missed the object:
    /// `shown` (as the synopsis shows it: interpolated across a gap of at most 2.5 s
    /// between two detections; on the every-frame path, which draws nothing, its
    /// detections), `detections` (none), `all` (every frame of the track's span:
    /// interpolated, or the tracker's predictions on the every-frame path). The output
    /// says which were scored.
    #[arg(long, value_enum, default_value = "shown")]
    pub boxes: BoxesChoice,
    /// Tracker: first-stage (high) score threshold.
    #[arg(long)]
    pub high_score: Option<f32>,
    /// Tracker: minimum score to start a new track.
    #[arg(long)]
    pub new_track_score: Option<f32>,
    /// Tracker: how long a lost track is kept, ms.
    #[arg(long)]
    pub track_buffer_ms: Option<i64>,
    /// Skip the offline pass that joins fragments of one object (as `vigie analyze`
    /// does after tracking a source), to measure what it brings.
    #[arg(long)]
    pub no_link: bool,
    /// Detector and tracker alone on every frame (no motion gate, no description, no
    /// colours for linking), instead of `vigie analyze`'s pipeline.
    #[arg(long)]
    pub every_frame: bool,
    /// Analysis path: the detector on every frame the motion gate lets through or a track
    /// moves in (the rule before the adaptive detection rate).
    #[arg(long)]
    pub no_adaptive_rate: bool,
    /// Analysis path: between refreshes, give the detector the moving regions and live
    /// tracks (crops at the picture's scale when they fit in one NanoDet input).
    #[arg(long)]
    pub crops: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BoxesChoice {
    Shown,
    Detections,
    All,
}

impl From<BoxesChoice> for vigie_app::bench::TrackBoxes {
    fn from(c: BoxesChoice) -> Self {
        match c {
            BoxesChoice::Shown => Self::Shown,
            BoxesChoice::Detections => Self::Detections,
            BoxesChoice::All => Self::All,
        }
    }
}

pub fn run(a: Args, global: &Global) -> anyhow::Result<Outcome> {
    // The video and the ground truth are declared (hashed and logged in the machine log)
    // before any detection is computed.
    let app = vigie_app::App::from_env()?;
    let m = Measurement::open(
        &app,
        global.operator()?.as_ref(),
        "eval track",
        &[Computed::Detections, Computed::Tracks],
        &[a.video.clone(), a.gt.clone()],
        global.reason.as_deref(),
    )?;
    let r = vigie_app::bench::eval_track(
        &m,
        &vigie_app::bench::EvalTrackRequest {
            video: a.video.clone(),
            gt: a.gt.clone(),
            detector: a.detector.into(),
            detector_input: a.detector_input,
            detector_precision: a.detector_precision,
            min_score: a.min_score,
            out: a.out.clone(),
            boxes: a.boxes.into(),
            high_score: a.high_score,
            new_track_score: a.new_track_score,
            track_buffer_ms: a.track_buffer_ms,
            link: !a.no_link,
            every_frame: a.every_frame,
            adaptive_rate: !a.no_adaptive_rate,
            detect_regions: a.crops,
        },
    )?;
    let model = r.detector_model.map(|m| m.spec().id);
    let boxes = r.boxes.as_str();
    let (n, detect_s, m) = (r.frames, r.detect_seconds, r.metrics);
    if global.json {
        print_json(&json!({
            "video": a.video, "gt": a.gt, "detector": format!("{:?}", a.detector).to_lowercase(),
            "detector_model": model, "detector_input": a.detector_input.to_string(),
            "detector_precision": a.detector_precision.to_string(),
            "boxes": boxes,
            "frames": n, "detect_seconds": detect_s, "metrics": m,
        }))?;
    } else {
        outln!(
            "{}: {} frames, detector {:?}{} ({:.1} ms/frame), boxes scored: {boxes}",
            a.video.display(),
            n,
            a.detector,
            model.map(|m| format!(" {m}")).unwrap_or_default(),
            detect_s * 1000.0 / n as f64
        );
        outln!(
            "MOTA {:.4}  IDF1 {:.4}  HOTA {:.4}  MOTP {:.4}  FP {}  FN {}  IDSW {}  precision {:.3}  recall {:.3}",
            m.mota, m.idf1, m.hota.hota, m.motp, m.num_false_positives, m.num_misses, m.num_switches,
            m.precision, m.recall
        );
    }
    Ok(Outcome::Success)
}
