//! `vigie detect IMAGE|VIDEO`, `vigie eval detect`, `vigie bench detect`: the object
//! detector on stills and footage, its precision/recall against Pascal VOC boxes, and its
//! latency and throughput.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use serde_json::json;
use vigie_app::bench::DetectorParams;
use vigie_app::measure::Computed;
use vigie_app::types::NanodetDetection as Detection;
use vigie_app::Measurement;
use vigie_core::{RgbFrame, SamplingMode};

use crate::output::{print_json, Outcome};
use crate::Global;

/// Open the measurement door for `command` on `files` (hashed and logged before any
/// detection is computed).
fn measurement(global: &Global, command: &str, files: &[PathBuf]) -> anyhow::Result<Measurement> {
    let app = vigie_app::App::from_env()?;
    Ok(Measurement::open(
        &app,
        global.operator()?.as_ref(),
        command,
        &[Computed::Detections],
        files,
        global.reason.as_deref(),
    )?)
}

/// Detector flags shared by the three commands.
#[derive(Debug, Clone, clap::Args)]
pub struct DetectorFlags {
    /// Classes to keep, comma-separated COCO names (default: person, bicycle, car,
    /// motorcycle, bus, truck); `all` keeps every class.
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    /// Minimum class score (0..1).
    #[arg(long, default_value_t = 0.35)]
    pub score: f32,
    /// A bicycle or motorcycle box scoring at least this is kept, under `--score`, when a
    /// person scoring `--score` sits on it (as analysis does; doc/models.md "Weak
    /// two-wheelers under a sure rider"); set it to `--score` to keep no weak box.
    #[arg(long, default_value_t = 0.2)]
    pub ridden_score: f32,
    /// IoU above which overlapping boxes of one class are merged (0..1).
    #[arg(long, default_value_t = 0.6)]
    pub nms_iou: f32,
    /// Execution device: cpu, cuda or cuda:N (CUDA needs a `--features cuda` build).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// ONNX Runtime intra-op threads per session (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// NanoDet's input: `auto` (by the frame's shape, as analysis: 512x288 for frames at
    /// least 1.6 times as wide as high, 416x352 from 13:11 up to 1.6, 416 otherwise), or `416` /
    /// `416x352` / `512x288` / `768x448` to force one (to compare them; 768x448 finds more
    /// small and distant vehicles in wide frames, at about 2.2x the detector's time).
    #[arg(long, default_value = "auto", value_parser = parse_detector_input)]
    pub detector_input: vigie_app::bench::InputChoice,
    /// NanoDet's precision: `auto` (as analysis: int8 on CPUs with AVX512-VNNI or
    /// AVX-VNNI, float otherwise; doc/models.md "int8 (issue 18 item 3)"), or `float` /
    /// `int8` to force one (to compare them).
    #[arg(long, default_value = "auto", value_parser = parse_detector_precision)]
    pub detector_precision: vigie_app::bench::PrecisionChoice,
}

/// `--detector-precision auto|float|int8`.
pub fn parse_detector_precision(s: &str) -> Result<vigie_app::bench::PrecisionChoice, String> {
    s.parse()
        .map_err(|e: vigie_app::bench::BadPrecisionChoice| e.to_string())
}

/// `--detector-input auto|416|416x352|512x288`.
pub fn parse_detector_input(s: &str) -> Result<vigie_app::bench::InputChoice, String> {
    s.parse()
        .map_err(|e: vigie_app::bench::BadInputChoice| e.to_string())
}

impl DetectorFlags {
    fn params(&self) -> DetectorParams {
        DetectorParams {
            classes: self.classes.clone(),
            score: self.score,
            ridden_score: self.ridden_score,
            nms_iou: self.nms_iou,
            device: self.device.clone(),
            threads: self.threads,
            input: self.detector_input,
            precision: self.detector_precision,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A still (JPEG, PNG) or a video file.
    pub file: PathBuf,
    #[command(flatten)]
    pub detector: DetectorFlags,
    /// Video only: frames to analyse (`all`, `nonref`, `keyframes` or e.g. `2fps`).
    #[arg(long, default_value = "2fps")]
    pub sample: SamplingMode,
    /// Video only: stop after this many analysed frames (0 = no limit).
    #[arg(long, default_value_t = 0)]
    pub max_frames: u64,
    /// Video only: working width frames are scaled to before detection.
    #[arg(long, default_value_t = 960)]
    pub width: u32,
}

fn detection_json(d: &Detection) -> serde_json::Value {
    let mut v = json!({
        "label": d.label,
        "class_id": d.class_id,
        "score": (d.score * 1000.0).round() / 1000.0,
        "bbox_in_frame": { "x": d.bbox_in_frame.x.round(), "y": d.bbox_in_frame.y.round(), "w": d.bbox_in_frame.w.round(), "h": d.bbox_in_frame.h.round() },
    });
    // A bicycle or motorcycle kept under `--score` for the person sitting on it.
    if let Some(r) = d.rider_score {
        v["rider_score"] = json!((r * 1000.0).round() / 1000.0);
    }
    v
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    if !args.file.is_file() {
        bail!(
            "no such file (name a JPEG/PNG still or a video file): {}",
            args.file.display()
        );
    }
    let m = measurement(global, "detect", std::slice::from_ref(&args.file))?;
    let mut frames_out = Vec::new();
    let mut out = crate::output::stdout();
    let mut print_frame = |frame: &RgbFrame, dets: &[Detection]| -> std::io::Result<()> {
        if global.json {
            frames_out.push(json!({
                "index": frame.index, "pts_ms": frame.pts_ms, "wall_ms": frame.wall_ms,
                "width": frame.width, "height": frame.height,
                "detections": dets.iter().map(detection_json).collect::<Vec<_>>(),
            }));
        } else {
            writeln!(
                out,
                "frame {} pts {} ms: {} objects",
                frame.index,
                frame.pts_ms,
                dets.len()
            )?;
            for d in dets {
                let b = d.bbox_in_frame;
                let rider = d
                    .rider_score
                    .map(|r| format!("  (kept for its rider, {r:.2})"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "  {:<11} {:.2}  x {:>5.0} y {:>5.0} w {:>5.0} h {:>5.0}{rider}",
                    d.label, d.score, b.x, b.y, b.w, b.h
                )?;
            }
        }
        Ok(())
    };
    let t = std::time::Instant::now();
    let req = vigie_app::bench::DetectFileRequest {
        file: args.file.clone(),
        detector: args.detector.params(),
        sample: args.sample,
        max_frames: args.max_frames,
        width: args.width,
    };
    let n = vigie_app::bench::detect_file(&m, &req, &mut print_frame)?;
    let secs = t.elapsed().as_secs_f64();
    if global.json {
        print_json(
            &json!({ "file": args.file.display().to_string(), "frames": frames_out, "frames_analysed": n, "seconds": secs }),
        )?;
    } else {
        eprintln!("{n} frame(s) in {secs:.2} s");
    }
    Ok(Outcome::Success)
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Folder of `*.jpg` / `*.png` images, each with a `.xml` Pascal VOC annotation.
    #[arg(default_value = "../shared/datasets/street-cctv-vehicles/frames_voc_train")]
    pub dir: PathBuf,
    /// Score every frame of this video instead (persons), against `--gt`.
    #[arg(long, requires = "gt")]
    pub video: Option<PathBuf>,
    /// MOTChallenge ground truth of `--video` (`gt/gt.txt`: frame n of the video, counted
    /// from 0, is ground-truth frame n + 1).
    #[arg(long, requires = "video")]
    pub gt: Option<PathBuf>,
    #[command(flatten)]
    pub detector: DetectorFlags,
    /// IoU at which a detection matches a ground-truth box.
    #[arg(long, default_value_t = 0.5)]
    pub iou: f32,
    /// Evaluate at most this many images (0 = all), in file-name order.
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
    /// Score a bicycle or motorcycle with the person sitting on it as one box covering
    /// both, as vigie reports a ridden vehicle (the tracker's per-frame rider rule;
    /// street-cctv's annotations box a motorcycle with its rider). Image folders only.
    #[arg(long, conflicts_with = "video")]
    pub riders: bool,
}

pub fn eval(a: EvalArgs, global: &Global) -> anyhow::Result<Outcome> {
    let (ev, data) = match (&a.video, &a.gt) {
        (Some(video), Some(gt)) => {
            for f in [video, gt] {
                if !f.is_file() {
                    bail!("no such file: {}", f.display());
                }
            }
            let m = measurement(global, "eval detect", &[video.clone(), gt.clone()])?;
            let ev = vigie_app::detect_eval::eval_detect_video(
                &m,
                &a.detector.params(),
                video,
                gt,
                a.iou,
            )?;
            (
                ev,
                json!({ "video": video.display().to_string(), "gt": gt.display().to_string() }),
            )
        }
        _ => {
            let pairs = vigie_app::bench::voc_pairs(&a.dir, a.limit)?;
            if pairs.is_empty() {
                bail!(
                    "no image with a .xml annotation found (expected NAME.jpg + NAME.xml): {}",
                    a.dir.display()
                );
            }
            let files: Vec<PathBuf> = pairs
                .iter()
                .flat_map(|(img, xml)| [img.clone(), xml.clone()])
                .collect();
            let m = measurement(global, "eval detect", &files)?;
            let ev =
                vigie_app::bench::eval_detect(&m, &a.detector.params(), &pairs, a.iou, a.riders)?;
            (ev, json!({ "dir": a.dir.display().to_string() }))
        }
    };
    // The model that ran (one per evaluation when the images share a shape; the
    // measured figures are per model).
    let models: Vec<serde_json::Value> = ev
        .models
        .iter()
        .map(|(m, images)| {
            let (id, sha256) = vigie_app::detect_eval::model_ref(*m);
            json!({ "id": id, "sha256": sha256, "images": images })
        })
        .collect();
    let (model_id, model_sha256) = match ev.single_model() {
        Some(m) => {
            let (id, sha) = vigie_app::detect_eval::model_ref(m);
            (id.to_owned(), sha)
        }
        None => (
            "several (by image shape, see models)".to_owned(),
            String::new(),
        ),
    };
    let infer_s = ev.detect_seconds;
    let unannotated = &ev.not_annotated;
    let fmt = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
    let total = ev.total;
    if global.json {
        let per: serde_json::Map<String, serde_json::Value> = ev
            .per_class
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    json!({
                        "counts": c, "objects": c.true_positives + c.false_negatives,
                        "precision": c.precision(), "recall": c.recall(),
                    }),
                )
            })
            .collect();
        let mut out = json!({
            "images": ev.images, "iou": a.iou, "score_threshold": a.detector.score,
            "ridden_score_min": a.detector.ridden_score,
            "ridden_kept": ev.ridden_kept,
            "model": ev.single_model().map(|_| json!({ "id": model_id, "sha256": model_sha256 })),
            "models": models,
            "detector_input": a.detector.detector_input.to_string(),
            "detector_precision": a.detector.detector_precision.to_string(),
            "vigie_version": env!("CARGO_PKG_VERSION"),
            "per_class": per,
            "all": {
                "counts": total, "objects": total.true_positives + total.false_negatives,
                "precision": total.precision(), "recall": total.recall(),
            },
            "not_annotated": unannotated,
            "detect_ms_per_image": 1000.0 * infer_s / ev.images as f64, "seconds": ev.seconds,
        });
        if let (Some(o), Some(d)) = (out.as_object_mut(), data.as_object()) {
            o.extend(d.clone());
        }
        print_json(&out)?;
    } else {
        let mut out = crate::output::stdout();
        writeln!(
            out,
            "{model_id} ({}...), {} {}, IoU >= {}, score >= {} (a bicycle or motorcycle from {} under a sure rider)",
            &model_sha256[..model_sha256.len().min(12)],
            ev.images,
            if a.video.is_some() {
                "frames"
            } else {
                "images"
            },
            a.iou,
            a.detector.score,
            a.detector.ridden_score.min(a.detector.score)
        )?;
        writeln!(
            out,
            "{:<11} {:>7} {:>6} {:>6} {:>6} {:>9} {:>7}",
            "class", "objects", "TP", "FP", "FN", "precision", "recall"
        )?;
        for (k, c) in ev
            .per_class
            .iter()
            .chain(std::iter::once((&"all".to_string(), &total)))
        {
            writeln!(
                out,
                "{:<11} {:>7} {:>6} {:>6} {:>6} {:>9} {:>7}",
                k,
                c.true_positives + c.false_negatives,
                c.true_positives,
                c.false_positives,
                c.false_negatives,
                fmt(c.precision()),
                fmt(c.recall())
            )?;
        }
        if !unannotated.is_empty() {
            writeln!(
                out,
                "not scored (no annotation of this class in the data): {}",
                unannotated.join(", ")
            )?;
        }
        writeln!(
            out,
            "bicycle or motorcycle boxes kept under the score for their rider: {}",
            ev.ridden_kept
        )?;
        writeln!(
            out,
            "detector: {:.1} ms per image (preprocess + inference + decoding)",
            1000.0 * infer_s / ev.images as f64
        )?;
    }
    Ok(Outcome::Success)
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// A still or a video (default: the real footage fetched by tools/setup).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub detector: DetectorFlags,
    /// Frames to time per run (after 3 warm-up frames).
    #[arg(long, default_value_t = 30)]
    pub frames: usize,
    /// Parallel workers for the throughput figure, each with its own session
    /// (threads per session: --threads, or cores / workers when --threads is 0).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
}

pub fn bench(a: BenchArgs, global: &Global) -> anyhow::Result<Outcome> {
    let file = a
        .file
        .clone()
        .unwrap_or_else(vigie_core::paths::default_footage);
    if !file.is_file() {
        bail!(
            "no such file (run tools/setup to fetch the default footage, or name a file): {}",
            file.display()
        );
    }
    let m = measurement(global, "bench detect", std::slice::from_ref(&file))?;
    let r = vigie_app::bench::bench_detect(&m, &a.detector.params(), &file, a.frames, a.workers)?;
    let (median, p90, fps, per, cores) = (
        r.median_ms,
        r.p90_ms,
        r.throughput_fps,
        r.threads_per_worker,
        r.cores,
    );
    let (w, h) = r.frame_size;
    if global.json {
        print_json(&json!({
            "file": file.display().to_string(), "frame_size": [w, h], "device": a.detector.device,
            "model": { "id": r.model.spec().id, "sha256": r.model.spec().sha256_hex() },
            "latency_ms": { "median": median, "p90": p90, "frames": a.frames, "threads": if a.detector.threads == 0 { cores } else { a.detector.threads } },
            "throughput_fps": fps, "workers": a.workers, "threads_per_worker": per, "cores": cores,
        }))?;
    } else {
        let mut out = crate::output::stdout();
        writeln!(
            out,
            "detector {} on {} ({}x{} frames, device {})",
            r.model.spec().id,
            file.display(),
            w,
            h,
            a.detector.device
        )?;
        writeln!(
            out,
            "  latency    median {median:.1} ms, p90 {p90:.1} ms per frame (1 session, {} threads)",
            if a.detector.threads == 0 {
                cores
            } else {
                a.detector.threads
            }
        )?;
        writeln!(
            out,
            "  throughput {fps:.1} frames/s ({} workers x {per} threads, {cores} cores)",
            a.workers
        )?;
    }
    Ok(Outcome::Success)
}
