//! The use cases of the measurement door: benchmarks and evaluations that produce
//! detections, tracks or plate reads on files outside any case.
//!
//! Why here: vigie promises that detections, tracks and plate reads come only from an
//! entered case or from the measurement door. Every function of this module takes a
//! [`Measurement`] (whose entry, naming each input file's SHA-256, is already in the
//! machine log), builds its detectors and readers from it, and checks each file against
//! it before reading it. The front end keeps its flags and its printing; the metric code
//! (`vigie_detect::eval`, `vigie_track::eval`, `vigie_plate::eval`) is called from here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vigie_core::{RgbFrame, SamplingMode};
use vigie_decode::{DecodeConfig, Decoder, OutputSize};
use vigie_detect::eval::{parse_voc, ClassCounts, Evaluator};
use vigie_detect::still::load_still;
use vigie_detect::{Detection, DetectorConfig, CCTV_CLASSES};
// The detector input flag's type, for front ends (`--detector-input`).
pub use vigie_detect::choice::{BadInputChoice, BadPrecisionChoice, InputChoice, PrecisionChoice};
use vigie_pipeline::{analyze_source, AnalyzeConfig, SourceInput};
use vigie_policy::SessionConfig;
use vigie_track::eval::{read_mot, EvalConfig, MotFile, MotMetrics};
use vigie_track::mot::{parse_detections, track_frames, tracks_to_mot, FrameClock};
use vigie_track::TrackerConfig;

use crate::analyze::DetectorChoice;
use crate::error::AppError;
use crate::measure::Measurement;
use crate::plates::{cores, parse_device, PlateOptions, PlateStage};

fn bad(e: impl std::fmt::Display) -> AppError {
    AppError::BadInput(e.to_string())
}

/// An error with its causes, `a: b: c` (the metric crates put the line at fault in a
/// cause).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s += &format!(": {c}");
        cur = c.source();
    }
    s
}

/// Whether a path names a still image (JPEG, PNG) rather than a video.
pub fn is_still(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("jpg" | "jpeg" | "png")
    )
}

/// NanoDet settings (the front end's detector flags).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorParams {
    /// COCO names kept; `None`: the CCTV classes; `["all"]`: every class.
    pub classes: Option<Vec<String>>,
    pub score: f32,
    /// Weak bicycles and motorcycles under a sure rider: [`DetectorConfig::ridden_score_min`].
    pub ridden_score: f32,
    pub nms_iou: f32,
    pub device: String,
    /// ONNX Runtime intra-op threads per session (0 = one per core).
    pub threads: usize,
    /// The detector input: by the frame's shape (`Auto`), or forced.
    pub input: InputChoice,
    /// The detector precision: by the machine (`Auto`), or forced.
    pub precision: PrecisionChoice,
}

impl DetectorParams {
    /// The detector settings for frames of `frame_w` x `frame_h` pixels (as the detector
    /// receives them: the model is chosen by their shape, `vigie_detect::choice`).
    pub(crate) fn config(
        &self,
        threads_override: Option<usize>,
        frame_w: u32,
        frame_h: u32,
    ) -> Result<DetectorConfig, AppError> {
        let device = parse_device(&self.device)?;
        let threads = threads_override.unwrap_or(if self.threads == 0 {
            cores()
        } else {
            self.threads
        });
        let classes = match &self.classes {
            None => CCTV_CLASSES.iter().map(|s| s.to_string()).collect(),
            Some(c) if c.len() == 1 && c[0] == "all" => Vec::new(),
            Some(c) => c.clone(),
        };
        let config = DetectorConfig {
            model: vigie_detect::detector_model_for(
                frame_w,
                frame_h,
                self.input,
                crate::analyze::resolve_precision(self.precision, &self.device),
            )
            .model,
            classes,
            score_threshold: self.score,
            ridden_score_min: self.ridden_score,
            nms_iou: self.nms_iou,
            session: SessionConfig {
                device,
                intra_op_threads: threads,
            },
            ..DetectorConfig::default()
        };
        config.validate()?;
        Ok(config)
    }
}

// ---- detect FILE ------------------------------------------------------------------------

/// How a video is sampled by `detect FILE`.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectFileRequest {
    pub file: PathBuf,
    pub detector: DetectorParams,
    pub sample: SamplingMode,
    /// Stop after this many analysed frames (0 = no limit).
    pub max_frames: u64,
    pub width: u32,
}

/// Run NanoDet on a still or on the frames of a video; `on_frame` sees each frame's
/// detections. Returns the number of frames analysed.
pub fn detect_file(
    m: &Measurement,
    req: &DetectFileRequest,
    mut on_frame: impl FnMut(&RgbFrame, &[Detection]) -> std::io::Result<()>,
) -> Result<u64, AppError> {
    m.check(&req.file)?;
    req.detector.config(None, 0, 0)?;
    // Built for the first frame's size (the model is chosen by it).
    let mut det: Option<vigie_detect::Detector> = None;
    let mut detect = |frame: &RgbFrame| -> Result<Vec<Detection>, AppError> {
        let d = match &mut det {
            Some(d) => d,
            None => {
                det.insert(m.nanodet(req.detector.config(None, frame.width, frame.height)?)?)
            }
        };
        Ok(d.detect(frame)?)
    };
    let io = |e: std::io::Error| AppError::Io {
        path: PathBuf::from("<stdout>"),
        source: e,
    };
    let mut n = 0u64;
    if is_still(&req.file) {
        let frame = load_still(&req.file)?;
        let dets = detect(&frame)?;
        on_frame(&frame, &dets).map_err(io)?;
        n = 1;
    } else {
        vigie_decode::init();
        let cfg = DecodeConfig {
            sampling: req.sample,
            output_size: OutputSize::MaxWidth(req.width),
            ..DecodeConfig::default()
        };
        cfg.validate()?;
        let mut dec = Decoder::open(&req.file, &cfg)?;
        while let Some(frame) = dec.next_frame()? {
            let dets = detect(&frame)?;
            on_frame(&frame, &dets).map_err(io)?;
            n += 1;
            if req.max_frames > 0 && n >= req.max_frames {
                break;
            }
        }
    }
    Ok(n)
}

// ---- eval detect --------------------------------------------------------------------------

/// The `NAME.jpg|png` + `NAME.xml` pairs of a Pascal VOC folder, in file-name order, at
/// most `limit` (0 = all). Lists the folder only: nothing is read.
pub fn voc_pairs(dir: &Path, limit: usize) -> Result<Vec<(PathBuf, PathBuf)>, AppError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        bad(format!(
            "cannot list the evaluation folder ({e}; name a folder of images with VOC .xml files): {}",
            dir.display()
        ))
    })?;
    let mut pairs = Vec::new();
    for e in entries {
        let p = e.map_err(AppError::io(dir))?.path();
        if is_still(&p) {
            let xml = p.with_extension("xml");
            if xml.is_file() {
                pairs.push((p, xml));
            }
        }
    }
    pairs.sort();
    if limit > 0 {
        pairs.truncate(limit);
    }
    Ok(pairs)
}

/// Precision and recall of NanoDet over VOC pairs.
#[derive(Debug, Clone)]
pub struct DetectEval {
    pub images: u64,
    pub per_class: BTreeMap<String, ClassCounts>,
    pub total: ClassCounts,
    /// Kept classes not annotated in the folder (not scored).
    pub not_annotated: Vec<String>,
    /// The detector models that ran (chosen per image or video by its shape, or
    /// forced), with the images each scored, in order of first use.
    pub models: Vec<(vigie_policy::AllowedModelId, u64)>,
    /// Bicycle and motorcycle boxes kept under the score threshold for the person sitting
    /// on them ([`vigie_detect::ridden`]), over all images.
    pub ridden_kept: u64,
    pub detect_seconds: f64,
    pub seconds: f64,
}

impl DetectEval {
    /// The one model that ran, when only one did.
    pub fn single_model(&self) -> Option<vigie_policy::AllowedModelId> {
        match self.models.as_slice() {
            [(m, _)] => Some(*m),
            _ => None,
        }
    }
}

/// Count one image for `model` in [`DetectEval::models`].
pub(crate) fn count_model(
    models: &mut Vec<(vigie_policy::AllowedModelId, u64)>,
    model: vigie_policy::AllowedModelId,
) {
    match models.iter_mut().find(|(m, _)| *m == model) {
        Some((_, n)) => *n += 1,
        None => models.push((model, 1)),
    }
}

/// A bicycle or motorcycle with the person sitting on it (by the per-frame rider rule the
/// tracker and the detector share, [`vigie_detect::ridden::riders`]) as one box covering
/// both, as vigie reports a ridden vehicle; each person rides at most one vehicle. The
/// person's box stays in the list.
pub fn attach_riders_per_frame(dets: &mut [Detection]) {
    let seat = vigie_track::riders::RiderConfig::default().seat;
    let riders = vigie_detect::ridden::riders(dets, 0.0, &seat);
    for (v, rider) in riders.into_iter().enumerate() {
        if let Some(p) = rider {
            let vb = vigie_core::BBox::from(dets[v].bbox_in_frame);
            dets[v].bbox_in_frame = vb.union(&dets[p].bbox_in_frame.into()).into();
        }
    }
}

/// Score NanoDet on declared VOC pairs at `iou`; with `riders`, a ridden bicycle or
/// motorcycle is scored with its rider's box united to its own ([`attach_riders_per_frame`]).
pub fn eval_detect(
    m: &Measurement,
    params: &DetectorParams,
    pairs: &[(PathBuf, PathBuf)],
    iou: f32,
    riders: bool,
) -> Result<DetectEval, AppError> {
    if !(iou > 0.0 && iou <= 1.0) {
        return Err(bad(format!("invalid --iou {iou} (expected > 0 and <= 1)")));
    }
    let config = params.config(None, 0, 0)?;
    let mut truths = Vec::with_capacity(pairs.len());
    for (img, xml) in pairs {
        m.check(img)?;
        m.check(xml)?;
        let text = std::fs::read_to_string(xml).map_err(AppError::io(xml))?;
        truths.push(parse_voc(&text, &xml.display().to_string())?);
    }
    // Classes scored: the kept ones that the annotations use at all (a vehicle data set
    // does not annotate people; counting every detected person as a false positive would
    // say nothing about the detector).
    let annotated: BTreeSet<&str> = truths.iter().flatten().map(|g| g.label.as_str()).collect();
    let kept: Vec<String> = if config.classes.is_empty() {
        CCTV_CLASSES.iter().map(|s| s.to_string()).collect()
    } else {
        config.classes.clone()
    };
    let (classes, unannotated): (Vec<String>, Vec<String>) = kept
        .into_iter()
        .partition(|c| annotated.contains(c.as_str()));
    if classes.is_empty() {
        return Err(bad(format!("none of the requested classes is annotated in this folder (annotated: {}); choose some with --classes", annotated.into_iter().collect::<Vec<_>>().join(", "))));
    }
    // One detector per model used: each image gets the model its shape chooses.
    let mut dets_by_model: Vec<(vigie_policy::AllowedModelId, vigie_detect::Detector)> = Vec::new();
    let mut models = Vec::new();
    let mut ev = Evaluator::new(iou, &classes);
    let t = Instant::now();
    let mut infer_s = 0.0;
    let mut ridden_kept = 0u64;
    for ((img, _), truth) in pairs.iter().zip(&truths) {
        let frame = load_still(img)?;
        let cfg = params.config(None, frame.width, frame.height)?;
        let model = cfg.model;
        let i = match dets_by_model.iter().position(|(m, _)| *m == model) {
            Some(i) => i,
            None => {
                dets_by_model.push((model, m.nanodet(cfg)?));
                dets_by_model.len() - 1
            }
        };
        count_model(&mut models, model);
        let ti = Instant::now();
        let mut dets = dets_by_model[i].1.detect(&frame)?;
        infer_s += ti.elapsed().as_secs_f64();
        ridden_kept += dets.iter().filter(|d| d.rider_score.is_some()).count() as u64;
        if riders {
            attach_riders_per_frame(&mut dets);
        }
        ev.add(&dets, truth);
    }
    Ok(DetectEval {
        images: ev.images,
        total: ev.total(),
        per_class: ev.counts,
        not_annotated: unannotated,
        models,
        ridden_kept,
        detect_seconds: infer_s,
        seconds: t.elapsed().as_secs_f64(),
    })
}

// ---- bench detect -------------------------------------------------------------------------

/// NanoDet latency (one session) and throughput (one session per worker).
#[derive(Debug, Clone)]
pub struct DetectBench {
    pub frame_size: (u32, u32),
    /// The model timed (chosen by the frames' shape, or forced).
    pub model: vigie_policy::AllowedModelId,
    pub median_ms: f64,
    pub p90_ms: f64,
    /// Threads of the latency session.
    pub latency_threads: usize,
    pub throughput_fps: f64,
    pub threads_per_worker: usize,
    pub cores: usize,
}

fn bench_frames(path: &Path, n: usize) -> Result<Vec<RgbFrame>, AppError> {
    if is_still(path) {
        return Ok(vec![load_still(path)?]);
    }
    vigie_decode::init();
    let cfg = DecodeConfig {
        output_size: OutputSize::MaxWidth(960),
        ..DecodeConfig::default()
    };
    let mut dec = Decoder::open(path, &cfg)?;
    let mut frames = Vec::new();
    while frames.len() < n {
        match dec.next_frame()? {
            Some(f) => frames.push(f),
            None => break,
        }
    }
    if frames.is_empty() {
        return Err(bad(format!(
            "the file has no decodable frame: {}",
            path.display()
        )));
    }
    Ok(frames)
}

/// Time NanoDet on `frames` frames of a declared file.
pub fn bench_detect(
    m: &Measurement,
    params: &DetectorParams,
    file: &Path,
    frames_n: usize,
    workers: usize,
) -> Result<DetectBench, AppError> {
    if frames_n == 0 || workers == 0 {
        return Err(bad("invalid --frames/--workers 0 (expected >= 1)"));
    }
    m.check(file)?;
    let frames = bench_frames(file, frames_n)?;
    let (fw, fh) = (frames[0].width, frames[0].height);
    // Latency: one session using every core.
    let mut det = m.nanodet(params.config(None, fw, fh)?)?;
    let model = det.config().model;
    for f in frames.iter().cycle().take(3) {
        det.detect(f)?;
    }
    let mut lat_ms = Vec::with_capacity(frames_n);
    for f in frames.iter().cycle().take(frames_n) {
        let t = Instant::now();
        det.detect(f)?;
        lat_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    drop(det);
    lat_ms.sort_by(f64::total_cmp);
    let median = lat_ms[lat_ms.len() / 2];
    let p90 = lat_ms[(lat_ms.len() * 9 / 10).min(lat_ms.len() - 1)];
    // Throughput: `workers` sessions in parallel, one per thread.
    let cores = cores();
    let per = if params.threads == 0 {
        (cores / workers).max(1)
    } else {
        params.threads
    };
    let mut dets = Vec::new();
    for _ in 0..workers {
        dets.push(m.nanodet(params.config(Some(per), fw, fh)?)?);
    }
    let t = Instant::now();
    std::thread::scope(|s| -> Result<(), AppError> {
        let handles: Vec<_> = dets
            .iter_mut()
            .enumerate()
            .map(|(w, d)| {
                let frames = &frames;
                s.spawn(move || -> Result<(), vigie_detect::DetectError> {
                    for f in frames
                        .iter()
                        .cycle()
                        .skip(w)
                        .step_by(workers)
                        .take(frames_n / workers + usize::from(w < frames_n % workers))
                    {
                        d.detect(f)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| bad("a benchmark worker panicked"))??;
        }
        Ok(())
    })?;
    Ok(DetectBench {
        frame_size: (fw, fh),
        model,
        median_ms: median,
        p90_ms: p90,
        latency_threads: if params.threads == 0 {
            cores
        } else {
            params.threads
        },
        throughput_fps: frames_n as f64 / t.elapsed().as_secs_f64(),
        threads_per_worker: per,
        cores,
    })
}

// ---- bench decode / analyze ---------------------------------------------------------------

/// Seconds the `ffmpeg` CLI takes to decode a declared file to nothing (`-f null`).
pub fn time_ffmpeg(m: &Measurement, path: &Path) -> Result<f64, AppError> {
    m.check(path)?;
    let t = Instant::now();
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-threads",
            "0",
            "-i",
        ])
        .arg(path)
        .args(["-map", "0:v:0", "-f", "null", "-"])
        .output()
        .map_err(|e| {
            bad(format!(
                "cannot run the `ffmpeg` CLI ({e}; tools/setup installs it)"
            ))
        })?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(bad(format!(
            "ffmpeg failed on this file: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(secs)
}

/// Seconds and frames of vigie's decoder on a declared file (decode timing only).
pub fn time_decoder(
    m: &Measurement,
    path: &Path,
    cfg: &DecodeConfig,
) -> Result<(f64, u64), AppError> {
    m.check(path)?;
    let t = Instant::now();
    let mut d = Decoder::open(path, cfg)?;
    d.run_to_end()?;
    let frames = d.finish().frames_decoded;
    Ok((t.elapsed().as_secs_f64(), frames))
}

/// `bench analyze`: what to run.
#[derive(Debug, Clone)]
pub struct BenchAnalyzeRequest {
    pub file: PathBuf,
    pub detector: DetectorChoice,
    /// NanoDet's input: by the decoded frame's shape (as analysis), or forced.
    pub detector_input: InputChoice,
    /// NanoDet's precision: by the machine (as analysis), or forced.
    pub detector_precision: PrecisionChoice,
    pub device: String,
    pub sampling: SamplingMode,
    pub width: OutputSize,
    pub decoder_threads: usize,
    /// Plate reading (nanodet only); `None` skips it.
    pub plates: Option<PlateOptions>,
    pub plate_min_width_px: f32,
    /// Run the pipeline this many times, alternating with `ffmpeg -f null`; medians are
    /// reported (at least 1).
    pub runs: usize,
    /// `false`: the detector on every frame the gate lets through or a track moves in (the
    /// rule before the adaptive rate), to measure what the adaptive rate saves.
    pub adaptive_rate: bool,
    /// Also analyse the file with the detector on every sampled frame, and score this
    /// run's tracks against that one's ([`QualityCost`]).
    pub compare_full: bool,
    /// Between refreshes, the detector examines the moving regions and live tracks
    /// (crops when they fit, `AnalyzeConfig::detect_regions`).
    pub detect_regions: bool,
    /// The analysis decoder's loop filter (`AnalyzeConfig::loop_filter`).
    pub loop_filter: vigie_decode::LoopFilter,
    /// Also run, in each round, the other loop-filter setting (`Apply` against `SkipAll`),
    /// and score the skipping run's tracks against the deblocking run's.
    pub compare_loop_filter: bool,
    /// Detect a frame together with the frame one detection step ahead
    /// (`AnalyzeConfig::detect_ahead`).
    pub detect_ahead: bool,
    /// Also run, in each round, the other `detect_ahead` setting, and count the tracks
    /// that are the same in both (all of them: only the time may change).
    pub compare_detect_ahead: bool,
}

/// The same analysis with the other `detect_ahead` setting, timed in the same rounds.
#[derive(Debug, Clone)]
pub struct AheadComparison {
    pub other_detect_ahead: bool,
    /// Median seconds of the other setting's runs.
    pub other_seconds: f64,
    pub other_tracks: usize,
    /// Tracks whose boxes are the same, frame for frame, in both runs.
    pub identical_tubes: usize,
    /// Whether both runs detected the same frames, and described every track the same
    /// (colours, times, scores, thumbnails' pixels).
    pub same_detected_frames: bool,
    pub same_descriptions: bool,
}

/// The same analysis with the other loop-filter setting, timed in the same rounds.
#[derive(Debug, Clone)]
pub struct LoopFilterComparison {
    pub other: vigie_decode::LoopFilter,
    /// Median seconds of the other setting's runs.
    pub other_seconds: f64,
    pub other_tracks: usize,
    /// Tracks whose boxes are the same, frame for frame, in both runs.
    pub identical_tubes: usize,
    /// The skipping run's tracks scored against the deblocking run's.
    pub quality: QualityCost,
}

/// What detecting fewer frames cost, against a run with the detector on every sampled
/// frame of the same file: that run's tracks are the reference (MOTChallenge scoring on
/// the analysed frames, this run's boxes interpolated across the frames it did not
/// detect).
#[derive(Debug, Clone)]
pub struct QualityCost {
    pub tracks: usize,
    pub full_tracks: usize,
    pub full_frames_detected: u64,
    pub full_seconds: f64,
    /// Reference tracks followed on at least 80 % / 20-80 % / under 20 % of their frames.
    pub mostly_tracked: usize,
    pub partially_tracked: usize,
    pub mostly_lost: usize,
    pub id_switches: usize,
    pub mota: f64,
    pub idf1: f64,
}

/// The plate stage of `bench analyze`.
#[derive(Debug, Clone)]
pub struct PlateBench {
    pub vehicle_tracks: u64,
    pub tracks_read: u64,
    pub tracks_with_plate: u64,
    pub crops: u64,
    /// Most crops held in memory at once (tracks are read as their last crop arrives).
    pub max_crops_held: u64,
    pub decode_ms: f64,
    pub read_ms: f64,
    pub ms_per_vehicle_track: f64,
    pub read_ms_per_crop: f64,
}

/// `bench analyze`: the figures.
#[derive(Debug, Clone)]
pub struct BenchAnalyze {
    pub file: PathBuf,
    pub codec: String,
    pub resolution: (u32, u32),
    pub detector: String,
    /// The NanoDet model that ran (`None` for the motion detector).
    pub detector_model: Option<vigie_policy::AllowedModelId>,
    pub sampling: String,
    pub source_seconds: f64,
    pub frames_decoded: u64,
    pub frames_analysed: u64,
    pub frames_detected: u64,
    pub frames_gated_out: u64,
    pub tracks: usize,
    pub seconds: f64,
    pub ffmpeg_null_seconds: f64,
    pub ms_waiting_for_decoder: f64,
    pub ms_motion: f64,
    pub ms_track: f64,
    pub ms_describe: f64,
    pub ms_per_detected_frame: f64,
    /// Share of the analysed frames given to the detector, and of their area.
    pub detector_frame_share: f64,
    pub detected_area_share: f64,
    /// Detected frames examined in crops rather than whole.
    pub frames_in_crops: u64,
    /// Detected frames whose detections came with an earlier frame's, and frames
    /// detected that way but not needed (`AnalysisStats::frames_detected_ahead`).
    pub frames_detected_ahead: u64,
    pub detected_ahead_unused: u64,
    pub ahead_comparison: Option<AheadComparison>,
    pub detect_reasons: vigie_pipeline::rate::DetectReasons,
    pub quality: Option<QualityCost>,
    /// The analysis decoder's loop filter, and the thumbnails cut again from recorded
    /// pictures because of it (with the time that took, per source).
    pub loop_filter: vigie_decode::LoopFilter,
    pub thumbnails_recut: u64,
    pub ms_thumbnails: f64,
    pub loop_filter_comparison: Option<LoopFilterComparison>,
    pub plates: Option<PlateBench>,
    pub peak_rss_mib: Option<f64>,
}

impl BenchAnalyze {
    pub fn source_fps(&self) -> f64 {
        self.frames_decoded as f64 / self.seconds
    }
    pub fn realtime_factor(&self) -> f64 {
        self.source_seconds / self.seconds
    }
    pub fn ffmpeg_fps(&self) -> f64 {
        self.frames_decoded as f64 / self.ffmpeg_null_seconds
    }
    pub fn ratio_to_ffmpeg_decode(&self) -> f64 {
        self.source_fps() / self.ffmpeg_fps()
    }

    /// The `--json` document (stable: fields are only added).
    pub fn to_json(&self) -> Value {
        let detector_model = self.detector_model.map(|m| {
            let spec = m.spec();
            json!({
                "id": spec.id, "sha256": spec.sha256_hex(),
                "input": [spec.preprocess.width, spec.preprocess.height],
            })
        });
        // Added after: one more key inside would pass `json!`'s recursion limit.
        let mut v = json!({
            "file": self.file, "codec": self.codec, "resolution": [self.resolution.0, self.resolution.1],
            "detector": self.detector, "sampling": self.sampling,
            "source_seconds": self.source_seconds, "frames_decoded": self.frames_decoded,
            "frames_analysed": self.frames_analysed, "frames_detected": self.frames_detected,
            "frames_gated_out": self.frames_gated_out, "tracks": self.tracks,
            "seconds": self.seconds, "source_fps": self.source_fps(), "realtime_factor": self.realtime_factor(),
            "ffmpeg_null_seconds": self.ffmpeg_null_seconds, "ratio_to_ffmpeg_decode": self.ratio_to_ffmpeg_decode(),
            "ms_per_analysed_frame": {
                "waiting_for_decoder": self.ms_waiting_for_decoder,
                "motion": self.ms_motion,
                "track": self.ms_track,
                "describe": self.ms_describe,
            },
            "ms_per_detected_frame": self.ms_per_detected_frame,
            "detector_frame_share": self.detector_frame_share,
            "detected_area_share": self.detected_area_share,
            "frames_in_crops": self.frames_in_crops,
            "detect_reasons": self.detect_reasons,
            "quality_vs_full_detection": self.quality.as_ref().map(|q| json!({
                "tracks": q.tracks, "full_tracks": q.full_tracks,
                "full_frames_detected": q.full_frames_detected, "full_seconds": q.full_seconds,
                "mostly_tracked": q.mostly_tracked, "partially_tracked": q.partially_tracked,
                "mostly_lost": q.mostly_lost, "id_switches": q.id_switches,
                "mota": q.mota, "idf1": q.idf1,
            })),
            "loop_filter": self.loop_filter,
            "thumbnails_recut": self.thumbnails_recut,
            "ms_thumbnails": self.ms_thumbnails,
            "loop_filter_comparison": self.loop_filter_comparison.as_ref().map(|c| json!({
                "other": c.other, "other_seconds": c.other_seconds,
                "other_realtime_factor": self.source_seconds / c.other_seconds,
                "other_tracks": c.other_tracks, "identical_tubes": c.identical_tubes,
                "tracks": c.quality.tracks, "reference_tracks": c.quality.full_tracks,
                "mostly_tracked": c.quality.mostly_tracked,
                "partially_tracked": c.quality.partially_tracked,
                "mostly_lost": c.quality.mostly_lost, "id_switches": c.quality.id_switches,
                "mota": c.quality.mota, "idf1": c.quality.idf1,
            })),
            "plates": self.plates.as_ref().map(|p| json!({
                "vehicle_tracks": p.vehicle_tracks, "tracks_read": p.tracks_read,
                "tracks_with_plate": p.tracks_with_plate, "crops": p.crops,
                "max_crops_held": p.max_crops_held,
                "decode_ms": p.decode_ms, "read_ms": p.read_ms,
                "ms_per_vehicle_track": p.ms_per_vehicle_track,
                "read_ms_per_crop": p.read_ms_per_crop,
            })),
            "peak_rss_mib": self.peak_rss_mib,
        });
        v["detector_model"] = detector_model.into();
        v["frames_detected_ahead"] = self.frames_detected_ahead.into();
        v["detected_ahead_unused"] = self.detected_ahead_unused.into();
        v["detect_ahead_comparison"] = self
            .ahead_comparison
            .as_ref()
            .map(|c| {
                json!({
                    "other_detect_ahead": c.other_detect_ahead,
                    "other_seconds": c.other_seconds,
                    "other_realtime_factor": self.source_seconds / c.other_seconds,
                    "other_tracks": c.other_tracks, "identical_tubes": c.identical_tubes,
                    "same_detected_frames": c.same_detected_frames,
                    "same_descriptions": c.same_descriptions,
                })
            })
            .into();
        v
    }
}

/// Peak resident memory of this process, from the kernel (`VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The whole analysis pipeline on a declared file, against `ffmpeg -f null` decoding of
/// the same file measured in the same run. Nothing is written to any case.
pub fn bench_analyze(m: &Measurement, req: &BenchAnalyzeRequest) -> Result<BenchAnalyze, AppError> {
    m.check(&req.file)?;
    let meta = vigie_decode::probe(&req.file, None, None)?;
    let model = crate::analyze::detector_model_for_source(
        meta.width,
        meta.height,
        req.width,
        req.detector_input,
        crate::analyze::resolve_precision(req.detector_precision, &req.device),
    );
    let pairs = (req.detect_ahead || req.compare_detect_ahead) && !req.detect_regions;
    let mut detector = m.detector(req.detector, model, &req.device, pairs)?;
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.sampling = req.sampling;
    cfg.decode.output_size = req.width;
    cfg.decode.threads = req.decoder_threads;
    cfg.detect_rate.adaptive = req.adaptive_rate;
    cfg.detect_regions = req.detect_regions;
    cfg.record_detected_frames =
        req.compare_full || req.compare_loop_filter || req.compare_detect_ahead;
    cfg.loop_filter = req.loop_filter;
    cfg.detect_ahead = req.detect_ahead;
    let ahead_cfg = AnalyzeConfig {
        detect_ahead: !req.detect_ahead,
        ..cfg.clone()
    };
    let other_cfg = AnalyzeConfig {
        loop_filter: if req.loop_filter == vigie_decode::LoopFilter::Apply {
            vigie_decode::LoopFilter::SkipAll
        } else {
            vigie_decode::LoopFilter::Apply
        },
        ..cfg.clone()
    };
    let input = SourceInput {
        source_id: "bench".into(),
        camera: "bench".into(),
        path: req.file.clone(),
    };
    let run = |cfg: &AnalyzeConfig,
               detector: &mut dyn vigie_pipeline::ObjectDetector|
     -> Result<(vigie_pipeline::Analysis, f64), AppError> {
        let t0 = Instant::now();
        let a = analyze_source(&input, cfg, detector, |_| {
            std::ops::ControlFlow::Continue(())
        })?;
        Ok((a, t0.elapsed().as_secs_f64()))
    };
    // ffmpeg first (also warms the page cache for both), then alternately: the machine's
    // load moves both the same way within one round.
    let (mut t_ff, mut t_run, mut t_other) = (Vec::new(), Vec::new(), Vec::new());
    let (mut last, mut other) = (None, None);
    let (mut t_ahead, mut ahead) = (Vec::new(), None);
    for round in 0..req.runs.max(1) {
        t_ff.push(time_ffmpeg(m, &req.file)?);
        // The other detect-ahead setting first in every other round: the first run of a
        // round meets the colder caches.
        let ahead_first = req.compare_detect_ahead && round % 2 == 1;
        if ahead_first {
            let (o, s) = run(&ahead_cfg, detector.as_mut())?;
            t_ahead.push(s);
            ahead = Some(o);
        }
        let (a, s) = run(&cfg, detector.as_mut())?;
        t_run.push(s);
        last = Some(a);
        if req.compare_loop_filter {
            let (o, s) = run(&other_cfg, detector.as_mut())?;
            t_other.push(s);
            other = Some(o);
        }
        if req.compare_detect_ahead && !ahead_first {
            let (o, s) = run(&ahead_cfg, detector.as_mut())?;
            t_ahead.push(s);
            ahead = Some(o);
        }
    }
    let mut a = last.expect("at least one run");
    let (ff_s, secs) = (median_s(t_ff), median_s(t_run));
    let loop_filter_comparison = other.map(|o| {
        let (skipping, deblocking) = if cfg.loop_filter == vigie_decode::LoopFilter::Apply {
            (&o, &a)
        } else {
            (&a, &o)
        };
        let other_seconds = median_s(t_other);
        LoopFilterComparison {
            other: other_cfg.loop_filter,
            other_seconds,
            other_tracks: o.tubes.len(),
            identical_tubes: a.tubes.iter().filter(|t| o.tubes.contains(t)).count(),
            quality: quality_cost(
                skipping,
                deblocking,
                other_seconds,
                meta.fps.unwrap_or(25.0),
            ),
        }
    });
    let ahead_comparison = ahead.map(|o| AheadComparison {
        other_detect_ahead: ahead_cfg.detect_ahead,
        other_seconds: median_s(t_ahead),
        other_tracks: o.tubes.len(),
        identical_tubes: a.tubes.iter().filter(|t| o.tubes.contains(t)).count(),
        same_detected_frames: a.detected_pts_ms == o.detected_pts_ms,
        same_descriptions: a.descriptions == o.descriptions,
    });
    let quality = if req.compare_full {
        let full_cfg = AnalyzeConfig {
            motion_gate: false,
            ..cfg.clone()
        };
        let (full, full_s) = run(&full_cfg, detector.as_mut())?;
        Some(quality_cost(&a, &full, full_s, meta.fps.unwrap_or(25.0)))
    } else {
        None
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let per = |d: Duration, n: u64| ms(d) / n.max(1) as f64;
    // The plate stage, timed apart (it runs after tracking, on the vehicle tracks).
    let plates = match req
        .plates
        .as_ref()
        .filter(|_| req.detector == DetectorChoice::Nanodet)
    {
        Some(opts) => {
            let pcfg = opts.config(parse_device(&req.device)?, cores())?;
            let mut stage = PlateStage(m.plate_reader(pcfg)?);
            let pass = vigie_pipeline::plates::PlatePassConfig {
                min_vehicle_width_px: req.plate_min_width_px,
                ..Default::default()
            };
            let (p, _) = vigie_pipeline::plates::read_plates(
                &input,
                &cfg.decode,
                &mut a,
                &pass,
                &mut stage,
            )?;
            Some(PlateBench {
                vehicle_tracks: p.vehicle_tracks,
                tracks_read: p.tracks_eligible,
                tracks_with_plate: p.tracks_with_plate,
                crops: p.crops,
                max_crops_held: p.max_crops_held,
                decode_ms: ms(p.decode),
                read_ms: ms(p.read),
                ms_per_vehicle_track: p.ms_per_track(),
                read_ms_per_crop: per(p.read, p.crops),
            })
        }
        None => None,
    };
    let st = &a.stats;
    Ok(BenchAnalyze {
        file: req.file.clone(),
        codec: meta.codec.clone(),
        resolution: (meta.width, meta.height),
        detector: detector.name().to_owned(),
        detector_model: (req.detector == DetectorChoice::Nanodet).then_some(model.model),
        sampling: cfg.decode.sampling.to_string(),
        source_seconds: a.duration_ms as f64 / 1000.0,
        frames_decoded: a.decode.frames_decoded,
        frames_analysed: st.frames_analysed,
        frames_detected: st.frames_detected,
        frames_gated_out: st.frames_gated_out,
        tracks: a.descriptions.len(),
        seconds: secs,
        ffmpeg_null_seconds: ff_s,
        ms_waiting_for_decoder: per(st.times.wait_for_frames, st.frames_analysed),
        ms_motion: per(st.times.motion, st.frames_analysed),
        ms_track: per(st.times.track, st.frames_analysed),
        ms_describe: per(st.times.describe, st.frames_analysed),
        ms_per_detected_frame: per(st.times.detect, st.frames_detected),
        detector_frame_share: st.detector_frame_share(),
        detected_area_share: st.detected_area_share(),
        frames_in_crops: st.frames_in_crops,
        frames_detected_ahead: st.frames_detected_ahead,
        detected_ahead_unused: st.detected_ahead_unused,
        ahead_comparison,
        detect_reasons: st.detect_reasons,
        quality,
        loop_filter: cfg.loop_filter,
        thumbnails_recut: st.thumbnails_recut,
        ms_thumbnails: ms(st.times.thumbnails),
        loop_filter_comparison,
        plates,
        peak_rss_mib: peak_rss_mib(),
    })
}

fn median_s(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A kept track's boxes as the analysis knows them: its detections and, between two of
/// them, the box interpolated at each frame `between(p0, p1)` lists, when no detector ran
/// in between (frames nobody looked at, where the tracker's motion model carried the
/// track) or when the two detections are at most `fill_up_to_ms` apart (the detector ran
/// and missed the object: partly hidden, or scored under the threshold). A longer gap
/// with a detector run in it is left empty. `detected_pts_ms` is sorted.
fn tube_boxes(
    tube: &vigie_pipeline::Tube,
    detected_pts_ms: &[i64],
    fill_up_to_ms: i64,
    between: &dyn Fn(i64, i64) -> Vec<i64>,
) -> Vec<(i64, vigie_core::BBox)> {
    let mut out = Vec::with_capacity(tube.boxes.len());
    for (i, &(p0, b0)) in tube.boxes.iter().enumerate() {
        out.push((p0, b0));
        let Some(&(p1, b1)) = tube.boxes.get(i + 1) else {
            continue;
        };
        let first_after = detected_pts_ms.partition_point(|&p| p <= p0);
        let looked_between = detected_pts_ms.get(first_after).is_some_and(|&p| p < p1);
        if looked_between && p1 - p0 > fill_up_to_ms {
            continue;
        }
        for p in between(p0, p1) {
            let t = (p - p0) as f32 / (p1 - p0) as f32;
            let l = |x: f32, y: f32| x + (y - x) * t;
            out.push((
                p,
                vigie_core::BBox {
                    x: l(b0.x, b1.x),
                    y: l(b0.y, b1.y),
                    w: l(b0.w, b1.w),
                    h: l(b0.h, b1.h),
                },
            ));
        }
    }
    out
}

/// Score `a` (this run) against `full` (the detector on every sampled frame).
fn quality_cost(
    a: &vigie_pipeline::Analysis,
    full: &vigie_pipeline::Analysis,
    full_seconds: f64,
    fps: f64,
) -> QualityCost {
    let clock = FrameClock::new(1000.0 / fps.max(0.1));
    let frames = &full.detected_pts_ms;
    let between = |p0: i64, p1: i64| {
        let i = frames.partition_point(|&p| p <= p0);
        let j = frames.partition_point(|&p| p < p1);
        frames[i..j.max(i)].to_vec()
    };
    let to_mot = |an: &vigie_pipeline::Analysis, fill: bool| {
        let mut f = MotFile::default();
        for tube in &an.tubes {
            let boxes = if fill {
                tube_boxes(tube, &an.detected_pts_ms, 0, &between)
            } else {
                tube.boxes.clone()
            };
            for (pts, b) in boxes {
                f.frames
                    .entry(clock.frame(pts))
                    .or_default()
                    .push(vigie_track::eval::MotBox {
                        id: tube.track_id as i64,
                        x: b.x as f64,
                        y: b.y as f64,
                        w: b.w as f64,
                        h: b.h as f64,
                        conf: 1.0,
                    });
            }
        }
        f
    };
    let m = vigie_track::eval::evaluate(
        &to_mot(full, false),
        &to_mot(a, true),
        &EvalConfig::default(),
    );
    QualityCost {
        tracks: a.tubes.len(),
        full_tracks: full.tubes.len(),
        full_frames_detected: full.stats.frames_detected,
        full_seconds,
        mostly_tracked: m.mostly_tracked,
        partially_tracked: m.partially_tracked,
        mostly_lost: m.mostly_lost,
        id_switches: m.num_switches,
        mota: m.mota,
        idf1: m.idf1,
    }
}

// ---- eval track / eval mot -----------------------------------------------------------------

/// `eval track --video V --gt GT`: what to run.
#[derive(Debug, Clone)]
pub struct EvalTrackRequest {
    pub video: PathBuf,
    pub gt: PathBuf,
    pub detector: DetectorChoice,
    /// NanoDet's input: by the video's shape (as analysis), or forced.
    pub detector_input: InputChoice,
    /// NanoDet's precision: by the machine (as analysis), or forced.
    pub detector_precision: PrecisionChoice,
    pub min_score: f32,
    /// Write vigie's MOTChallenge output here.
    pub out: Option<PathBuf>,
    /// Which boxes of a track are scored.
    pub boxes: TrackBoxes,
    pub high_score: Option<f32>,
    pub new_track_score: Option<f32>,
    pub track_buffer_ms: Option<i64>,
    /// Join fragments of one object after tracking, as analysis does.
    pub link: bool,
    /// Run the detector and tracker on every frame, outside the analysis pipeline (no
    /// motion gate, no description): the tracker alone. Default: `vigie analyze`'s own
    /// pipeline on every frame (motion gate, tracker, offline linking with colours), its
    /// person tracks scored.
    pub every_frame: bool,
    /// Analysis path only: `false` runs the detector on every frame the gate lets through
    /// or a track moves in (the rule before the adaptive detection rate).
    pub adaptive_rate: bool,
    /// Analysis path only: between refreshes the detector examines the moving regions and
    /// live tracks (crops when they fit, `AnalyzeConfig::detect_regions`).
    pub detect_regions: bool,
}

/// Which boxes of a track `eval track` scores, between two of its detections where the
/// detector ran and did not see the object (frames the detector never looked at carry
/// the interpolated box in every mode: that is what the analysis says of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrackBoxes {
    /// The object as the synopsis shows it (default): across a gap of at most
    /// [`vigie_synopsis::MAX_INTERPOLATION_GAP_MS`] the box is interpolated, as the
    /// synopsis draws it; a longer gap (an occlusion the offline linking bridged) is left
    /// empty, as the synopsis leaves it. Analysis path only; the every-frame path scores
    /// its detections instead (and says so, [`EvalTrack::boxes`]).
    #[default]
    Shown,
    /// Only the frames where the detector saw the object (and those it never looked at).
    Detections,
    /// Every frame inside a track's span: interpolated (analysis path) or the Kalman
    /// prediction (every-frame path) across any gap.
    All,
}

impl TrackBoxes {
    /// The mode's name on the command line and in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackBoxes::Shown => "shown",
            TrackBoxes::Detections => "detections",
            TrackBoxes::All => "all",
        }
    }
}

/// `eval track`: the scores.
#[derive(Debug, Clone)]
pub struct EvalTrack {
    /// The NanoDet model that ran (`None` for the motion detector).
    pub detector_model: Option<vigie_policy::AllowedModelId>,
    /// The boxes scored: as asked, except that the every-frame path has no `Shown`
    /// (nothing is drawn from it) and scores its detections then.
    pub boxes: TrackBoxes,
    pub frames: i64,
    pub detect_seconds: f64,
    pub metrics: MotMetrics,
}

/// A per-frame detector as a closure (NanoDet or the motion detector).
type FrameDetector<'a> =
    Box<dyn FnMut(&RgbFrame) -> Result<Vec<vigie_core::Detection>, AppError> + 'a>;

/// vigie's own detector and tracker on a declared video, scored against declared
/// MOTChallenge ground truth (persons only): by default through `vigie analyze`'s
/// pipeline ([`eval_track_analysis`]), or the detector and tracker alone on every frame
/// (`every_frame`).
pub fn eval_track(m: &Measurement, req: &EvalTrackRequest) -> Result<EvalTrack, AppError> {
    m.check(&req.video)?;
    m.check(&req.gt)?;
    let gt = read_mot(&req.gt).map_err(|e| bad(chain(&e)))?;
    let meta = vigie_decode::probe(&req.video, None, None)?;
    let fps = meta.fps.unwrap_or(25.0);
    let clock = FrameClock::new(1000.0 / fps);
    // Every frame is decoded at its native size, as the detector receives it.
    let model = crate::analyze::detector_model_for_source(
        meta.width,
        meta.height,
        OutputSize::Native,
        req.detector_input,
        crate::analyze::resolve_precision(req.detector_precision, "cpu"),
    );
    let detector_model = (req.detector == DetectorChoice::Nanodet).then_some(model.model);
    if !req.every_frame {
        let mut e = eval_track_analysis(m, req, model, &gt, clock)?;
        e.detector_model = detector_model;
        return Ok(e);
    }
    let mut detector: FrameDetector = match req.detector {
        DetectorChoice::Nanodet => {
            let cfg = DetectorConfig {
                model: model.model,
                classes: vec!["person".into()],
                score_threshold: req.min_score.clamp(0.01, 0.99),
                ..Default::default()
            };
            let mut d = m.nanodet(cfg)?;
            Box::new(move |f| Ok(d.detect(f)?.into_iter().map(Into::into).collect()))
        }
        DetectorChoice::Motion => {
            let mut md = vigie_motion::MotionDetector::new(vigie_motion::MotionConfig::default())
                .map_err(bad)?;
            Box::new(move |f| Ok(md.detect(f).0))
        }
    };
    let cfg = DecodeConfig {
        output_size: OutputSize::Native,
        ..Default::default()
    };
    let mut dec = Decoder::open(&req.video, &cfg)?;
    let t0 = Instant::now();
    let mut frames = Vec::new();
    let mut n = 0i64;
    while let Some(f) = dec.next_frame()? {
        n += 1;
        let dets = detector(&f).map_err(|e| bad(format!("detector failed on frame {n}: {e}")))?;
        frames.push((n, dets));
    }
    if frames.is_empty() {
        return Err(bad(format!(
            "no frame could be decoded from {}",
            req.video.display()
        )));
    }
    let detect_seconds = t0.elapsed().as_secs_f64();
    let mut tcfg = TrackerConfig {
        frame_interval_ms: 1000.0 / fps,
        ..Default::default()
    };
    if let Some(v) = req.high_score {
        tcfg.high_score_min = v;
    }
    if let Some(v) = req.new_track_score {
        tcfg.new_track_score_min = v;
    }
    if let Some(v) = req.track_buffer_ms {
        tcfg.track_buffer_ms = v;
    }
    let mut tracks = track_frames(&frames, tcfg, clock).map_err(bad)?;
    // The same offline pass as `vigie analyze` (without colours: no pixels are
    // described here).
    let link = vigie_track::link::LinkConfig {
        enabled: req.link,
        ..Default::default()
    };
    tracks = vigie_track::link::link_fragments(tracks, &link, &|_| None)
        .into_iter()
        .map(|l| l.track)
        .collect();
    let hyp = tracks_to_mot(&tracks, clock, req.boxes == TrackBoxes::All);
    if let Some(out) = &req.out {
        let f = std::fs::File::create(out).map_err(AppError::io(out))?;
        hyp.write(std::io::BufWriter::new(f))
            .map_err(AppError::io(out))?;
    }
    Ok(EvalTrack {
        detector_model,
        boxes: if req.boxes == TrackBoxes::All {
            TrackBoxes::All
        } else {
            TrackBoxes::Detections
        },
        frames: n,
        detect_seconds,
        metrics: vigie_track::eval::evaluate(&gt, &hyp, &EvalConfig::default()),
    })
}

/// `eval track` through `vigie analyze`'s pipeline: every frame decoded at native size
/// goes through the motion gate, the detector when the gate lets it, the tracker, the
/// offline linking (with colours) and the noise filter, exactly as in an analysis; the
/// person tracks' boxes are scored ([`TrackBoxes`]: by default as the synopsis shows
/// them, interpolated across short gaps).
fn eval_track_analysis(
    m: &Measurement,
    req: &EvalTrackRequest,
    model: vigie_detect::DetectorModel,
    gt: &MotFile,
    clock: FrameClock,
) -> Result<EvalTrack, AppError> {
    let mut detector = m.detector(req.detector, model, "cpu", !req.detect_regions)?;
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.sampling = SamplingMode::All;
    cfg.decode.output_size = OutputSize::Native;
    cfg.detect_rate.adaptive = req.adaptive_rate;
    cfg.detect_regions = req.detect_regions;
    cfg.record_detected_frames = true;
    cfg.tracker.frame_interval_ms = clock.frame_interval_ms;
    if let Some(v) = req.high_score {
        cfg.tracker.high_score_min = v;
    }
    if let Some(v) = req.new_track_score {
        cfg.tracker.new_track_score_min = v;
    }
    if let Some(v) = req.track_buffer_ms {
        cfg.tracker.track_buffer_ms = v;
    }
    cfg.link.enabled = req.link;
    let input = SourceInput {
        source_id: "eval".into(),
        camera: "eval".into(),
        path: req.video.clone(),
    };
    let t0 = Instant::now();
    let a = analyze_source(&input, &cfg, detector.as_mut(), |_| {
        std::ops::ControlFlow::Continue(())
    })?;
    let seconds = t0.elapsed().as_secs_f64();
    let mut hyp = MotFile::default();
    for (d, tube) in a.descriptions.iter().zip(&a.tubes) {
        if d.summary.label != "person" {
            continue;
        }
        let mut push = |pts: i64, b: &vigie_core::BBox| {
            hyp.frames
                .entry(clock.frame(pts))
                .or_default()
                .push(vigie_track::eval::MotBox {
                    id: tube.track_id as i64,
                    x: b.x as f64,
                    y: b.y as f64,
                    w: b.w as f64,
                    h: b.h as f64,
                    conf: 1.0,
                });
        };
        // Every frame decoded is analysed here: frames between two detections nobody
        // looked at carry the interpolated box (what the analysis says of them); across
        // the detector's misses, as `req.boxes` says.
        let every = |p0: i64, p1: i64| {
            (clock.frame(p0) + 1..clock.frame(p1))
                .map(|f| clock.pts_ms(f))
                .collect::<Vec<_>>()
        };
        let fill_up_to_ms = match req.boxes {
            TrackBoxes::Detections => 0,
            TrackBoxes::Shown => vigie_synopsis::MAX_INTERPOLATION_GAP_MS,
            TrackBoxes::All => i64::MAX,
        };
        for (pts, b) in tube_boxes(tube, &a.detected_pts_ms, fill_up_to_ms, &every) {
            push(pts, &b);
        }
    }
    if let Some(out) = &req.out {
        let f = std::fs::File::create(out).map_err(AppError::io(out))?;
        hyp.write(std::io::BufWriter::new(f))
            .map_err(AppError::io(out))?;
    }
    Ok(EvalTrack {
        detector_model: None,
        boxes: req.boxes,
        frames: a.stats.frames_analysed as i64,
        detect_seconds: seconds,
        metrics: vigie_track::eval::evaluate(gt, &hyp, &EvalConfig::default()),
    })
}

/// `eval mot`: score tracker output, or track MOTChallenge detections and score them.
#[derive(Debug, Clone)]
pub struct EvalMotRequest {
    pub gt: PathBuf,
    pub hyp: Option<PathBuf>,
    pub det: Option<PathBuf>,
    pub fps: f64,
    pub fill_gaps: bool,
    /// With `det`: write the tracks here (a new file, never overwritten).
    pub write_hyp: Option<PathBuf>,
    pub iou: f64,
    pub gt_conf_min: f64,
}

/// Track a declared detection file with the default tracker, optionally writing the result.
fn track_detections(
    m: &Measurement,
    det: &Path,
    req: &EvalMotRequest,
) -> Result<MotFile, AppError> {
    if !(req.fps.is_finite() && req.fps > 0.1 && req.fps <= 1000.0) {
        return Err(bad(format!(
            "invalid --fps {} (expected > 0.1 and <= 1000)",
            req.fps
        )));
    }
    m.check(det)?;
    let text = std::fs::read_to_string(det).map_err(|e| {
        bad(format!(
            "cannot read the detections (--det; check the path; {e}): {}",
            det.display()
        ))
    })?;
    let frames = parse_detections(&text, "person").map_err(|e| {
        bad(format!(
            "invalid detection file (--det): {}: {}",
            det.display(),
            chain(&e)
        ))
    })?;
    let clock = FrameClock::new(1000.0 / req.fps);
    let cfg = TrackerConfig {
        frame_interval_ms: clock.frame_interval_ms,
        ..TrackerConfig::default()
    };
    let tracks = track_frames(&frames, cfg, clock).map_err(bad)?;
    let hyp = tracks_to_mot(&tracks, clock, req.fill_gaps);
    if let Some(out) = &req.write_hyp {
        use std::io::Write;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(out)
            .map_err(|e| {
                bad(format!(
                    "cannot create --write-hyp ({e}; it must not exist yet: choose a new path): {}",
                    out.display()
                ))
            })?;
        let mut w = std::io::BufWriter::new(file);
        hyp.write(&mut w)
            .and_then(|_| w.flush())
            .map_err(AppError::io(out))?;
    }
    Ok(hyp)
}

/// CLEAR-MOT, IDF1 and HOTA of declared tracker output (or of vigie's tracker over
/// declared detections) against declared ground truth.
pub fn eval_mot(m: &Measurement, req: &EvalMotRequest) -> Result<MotMetrics, AppError> {
    if !(req.iou > 0.0 && req.iou <= 1.0) {
        return Err(bad(format!(
            "invalid --iou {} (expected > 0 and <= 1)",
            req.iou
        )));
    }
    if !req.gt_conf_min.is_finite() {
        return Err(bad(format!(
            "invalid --gt-conf-min {} (expected a finite number, usually 1)",
            req.gt_conf_min
        )));
    }
    m.check(&req.gt)?;
    let gt = read_mot(&req.gt)
        .map_err(|e| bad(format!("cannot use the ground truth (--gt): {}", chain(&e))))?;
    if gt.rows() == 0 {
        return Err(bad(format!(
            "the ground truth has no rows: pass a MOTChallenge gt.txt with --gt: {}",
            req.gt.display()
        )));
    }
    let hyp = match (&req.hyp, &req.det) {
        (Some(h), _) => {
            m.check(h)?;
            read_mot(h).map_err(|e| {
                bad(format!(
                    "cannot use the tracker output (--hyp): {}",
                    chain(&e)
                ))
            })?
        }
        (None, Some(d)) => track_detections(m, d, req)?,
        (None, None) => {
            return Err(bad(
                "pass the tracker output with --hyp, or detections with --det",
            ))
        }
    };
    let cfg = EvalConfig {
        iou_distance_max: 1.0 - req.iou,
        gt_conf_min: req.gt_conf_min,
    };
    Ok(vigie_track::eval::evaluate(&gt, &hyp, &cfg))
}

// ---- eval plates ----------------------------------------------------------------------------

/// A labelled plate set: its samples and every file they are read from.
#[derive(Debug, Clone)]
pub struct PlateDataset {
    pub samples: Vec<vigie_plate::eval::Sample>,
    /// Label files and images: what the measurement must declare.
    pub files: Vec<PathBuf>,
}

/// Load a plate dataset's labels (openalpr or nomeroff layout) and list every file the
/// evaluation reads (labels and images).
pub fn plate_dataset(dir: &Path) -> Result<PlateDataset, AppError> {
    let samples = vigie_plate::eval::load_dataset(dir)
        .map_err(|e| bad(format!("cannot load the plate dataset: {e}")))?;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(AppError::io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let nomeroff: Vec<PathBuf> = entries
        .iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("accuracy_test_data") && n.ends_with(".json"))
        })
        .cloned()
        .collect();
    let mut files: BTreeSet<PathBuf> = if nomeroff.is_empty() {
        entries
            .into_iter()
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("txt"))
            .collect()
    } else {
        nomeroff.into_iter().collect()
    };
    files.extend(samples.iter().map(|s| s.image.clone()));
    Ok(PlateDataset {
        samples,
        files: files.into_iter().collect(),
    })
}

/// `eval plates`: the report and the models used.
#[derive(Debug, Clone)]
pub struct PlatesEval {
    pub report: vigie_plate::eval::EvalReport,
    pub models: Vec<String>,
}

/// Read every sample of a declared plate dataset and score the reads.
pub fn eval_plates(
    m: &Measurement,
    opts: &PlateOptions,
    device: &str,
    dataset: &PlateDataset,
    on_sample: impl FnMut(&vigie_plate::eval::SampleResult),
) -> Result<PlatesEval, AppError> {
    for s in &dataset.samples {
        m.check(&s.image)?;
    }
    let cfg = opts.config(parse_device(device)?, cores())?;
    let mut reader = m.plate_reader(cfg)?;
    let report = vigie_plate::eval::evaluate(&mut reader, &dataset.samples, on_sample)?;
    Ok(PlatesEval {
        report,
        models: reader.model_ids().iter().map(|s| s.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_detect::test_support::det;

    #[test]
    fn a_tracks_boxes_across_a_miss_follow_the_scoring_mode() {
        // Detections at frames 0, 4 (100 ms apart) and 40 (3.6 s after). Frames 1-3: the
        // detector never looked; 5-39: it ran at 20 and missed the object.
        let b = |x: f32| vigie_core::BBox {
            x,
            y: 0.0,
            w: 10.0,
            h: 20.0,
        };
        let clock = FrameClock::new(100.0);
        let tube = vigie_pipeline::Tube {
            track_id: 1,
            boxes: vec![(0, b(0.0)), (400, b(40.0)), (4000, b(400.0))],
        };
        let detected = [0, 400, 2000, 4000];
        let every = |p0: i64, p1: i64| {
            (clock.frame(p0) + 1..clock.frame(p1))
                .map(|f| clock.pts_ms(f))
                .collect::<Vec<_>>()
        };
        let frames = |fill: i64| -> Vec<i64> {
            tube_boxes(&tube, &detected, fill, &every)
                .iter()
                .map(|(p, _)| *p / 100)
                .collect()
        };
        let first: Vec<i64> = (0..=4).collect();
        let mut with_40 = first.clone();
        with_40.push(40);
        assert_eq!(frames(0), with_40, "frames nobody looked at only");
        assert_eq!(
            frames(vigie_synopsis::MAX_INTERPOLATION_GAP_MS),
            with_40,
            "a 3.6 s miss is longer than what the synopsis interpolates"
        );
        assert_eq!(frames(i64::MAX).len(), 41, "every frame of the span");
        let filled = tube_boxes(&tube, &detected, 3600, &every);
        assert_eq!(filled.len(), 41);
        let at_22 = filled.iter().find(|(p, _)| *p == 2200).unwrap().1;
        assert_eq!(at_22.x, 220.0, "interpolated on the straight line");
    }

    #[test]
    fn a_rider_is_scored_with_the_machine_a_pedestrian_beside_it_is_not() {
        let mut dets = vec![
            det("motorcycle", 0.8, 200.0, 200.0, 60.0, 40.0),
            det("person", 0.7, 217.0, 162.0, 26.0, 64.0),
            // The same machine boxed again, lower: the rider rides one of them only.
            det("motorcycle", 0.4, 203.0, 200.0, 60.0, 40.0),
            det("person", 0.9, 400.0, 150.0, 26.0, 80.0),
            det("bicycle", 0.6, 320.0, 215.0, 60.0, 40.0),
        ];
        attach_riders_per_frame(&mut dets);
        let b = |i: usize| {
            let b = dets[i].bbox_in_frame;
            (b.x, b.y, b.w, b.h)
        };
        assert_eq!(b(0), (200.0, 162.0, 60.0, 78.0), "machine and rider");
        assert_eq!(b(2), (203.0, 200.0, 60.0, 40.0), "the rider is taken");
        assert_eq!(b(1), (217.0, 162.0, 26.0, 64.0), "the person's box stays");
        // A pedestrian beside a bicycle (not over it) is not its rider.
        assert_eq!(b(4), (320.0, 215.0, 60.0, 40.0));
    }
}
