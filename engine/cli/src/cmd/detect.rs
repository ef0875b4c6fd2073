//! `vigie detect IMAGE|VIDEO`, `vigie eval detect`, `vigie bench detect`: the object
//! detector on stills and footage, its precision/recall against Pascal VOC boxes, and its
//! latency and throughput.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use serde_json::json;
use vigie_core::{AlertSink, RgbFrame, SamplingMode};
use vigie_decode::{DecodeConfig, Decoder, OutputSize};
use vigie_detect::eval::{parse_voc, Evaluator};
use vigie_detect::still::load_still;
use vigie_detect::{Detection, Detector, DetectorConfig, CCTV_CLASSES};
use vigie_policy::{Device, SessionConfig};

use crate::output::{print_json, Outcome};
use crate::Global;

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
    /// IoU above which overlapping boxes of one class are merged (0..1).
    #[arg(long, default_value_t = 0.6)]
    pub nms_iou: f32,
    /// Execution device: cpu, cuda or cuda:N (CUDA needs a `--features cuda` build).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// ONNX Runtime intra-op threads per session (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

impl DetectorFlags {
    fn config(&self, threads_override: Option<usize>) -> anyhow::Result<DetectorConfig> {
        let device: Device = self.device.parse()?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let threads = threads_override.unwrap_or(if self.threads == 0 {
            cores
        } else {
            self.threads
        });
        let classes = match &self.classes {
            None => CCTV_CLASSES.iter().map(|s| s.to_string()).collect(),
            Some(c) if c.len() == 1 && c[0] == "all" => Vec::new(),
            Some(c) => c.clone(),
        };
        let config = DetectorConfig {
            classes,
            score_threshold: self.score,
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

fn is_still(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("jpg" | "jpeg" | "png")
    )
}

fn detection_json(d: &Detection) -> serde_json::Value {
    json!({
        "label": d.label,
        "class_id": d.class_id,
        "score": (d.score * 1000.0).round() / 1000.0,
        "bbox_in_frame": { "x": d.bbox_in_frame.x.round(), "y": d.bbox_in_frame.y.round(), "w": d.bbox_in_frame.w.round(), "h": d.bbox_in_frame.h.round() },
    })
}

fn open_detector(config: DetectorConfig, sink: &dyn AlertSink) -> anyhow::Result<Detector> {
    Detector::new(config, sink).context("cannot start the object detector")
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    if !args.file.is_file() {
        bail!(
            "no such file (name a JPEG/PNG still or a video file): {}",
            args.file.display()
        );
    }
    let config = args.detector.config(None)?;
    let sink = super::models::alert_sink(global)?;
    let mut det = open_detector(config, sink.as_ref())?;
    let mut frames_out = Vec::new();
    let mut out = std::io::stdout().lock();
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
                writeln!(
                    out,
                    "  {:<11} {:.2}  x {:>5.0} y {:>5.0} w {:>5.0} h {:>5.0}",
                    d.label, d.score, b.x, b.y, b.w, b.h
                )?;
            }
        }
        Ok(())
    };
    let t = Instant::now();
    let mut n = 0u64;
    if is_still(&args.file) {
        let frame = load_still(&args.file)?;
        let dets = det.detect(&frame)?;
        print_frame(&frame, &dets)?;
        n = 1;
    } else {
        vigie_decode::init();
        let cfg = DecodeConfig {
            sampling: args.sample,
            output_size: OutputSize::MaxWidth(args.width),
            ..DecodeConfig::default()
        };
        cfg.validate()?;
        let mut dec = Decoder::open(&args.file, &cfg)?;
        while let Some(frame) = dec.next_frame()? {
            let dets = det.detect(&frame)?;
            print_frame(&frame, &dets)?;
            n += 1;
            if args.max_frames > 0 && n >= args.max_frames {
                break;
            }
        }
    }
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
    #[command(flatten)]
    pub detector: DetectorFlags,
    /// IoU at which a detection matches a ground-truth box.
    #[arg(long, default_value_t = 0.5)]
    pub iou: f32,
    /// Evaluate at most this many images (0 = all), in file-name order.
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
}

pub fn eval(a: EvalArgs, global: &Global) -> anyhow::Result<Outcome> {
    if !(a.iou > 0.0 && a.iou <= 1.0) {
        bail!("invalid --iou {} (expected > 0 and <= 1)", a.iou);
    }
    let mut pairs = Vec::new();
    let entries = std::fs::read_dir(&a.dir).with_context(|| {
        format!(
            "cannot list the evaluation folder (name a folder of images with VOC .xml files): {}",
            a.dir.display()
        )
    })?;
    for e in entries {
        let p = e?.path();
        if is_still(&p) {
            let xml = p.with_extension("xml");
            if xml.is_file() {
                pairs.push((p, xml));
            }
        }
    }
    pairs.sort();
    if a.limit > 0 {
        pairs.truncate(a.limit);
    }
    if pairs.is_empty() {
        bail!(
            "no image with a .xml annotation found (expected NAME.jpg + NAME.xml): {}",
            a.dir.display()
        );
    }
    let config = a.detector.config(None)?;
    let mut truths = Vec::with_capacity(pairs.len());
    for (_, xml) in &pairs {
        let text = std::fs::read_to_string(xml)
            .with_context(|| format!("cannot read the annotation: {}", xml.display()))?;
        truths.push(parse_voc(&text, &xml.display().to_string())?);
    }
    // Classes scored: the kept ones that the annotations use at all (a vehicle data set
    // does not annotate people; counting every detected person as a false positive would
    // say nothing about the detector).
    let annotated: std::collections::BTreeSet<&str> =
        truths.iter().flatten().map(|g| g.label.as_str()).collect();
    let kept: Vec<String> = if config.classes.is_empty() {
        CCTV_CLASSES.iter().map(|s| s.to_string()).collect()
    } else {
        config.classes.clone()
    };
    let (classes, unannotated): (Vec<String>, Vec<String>) = kept
        .into_iter()
        .partition(|c| annotated.contains(c.as_str()));
    if classes.is_empty() {
        bail!("none of the requested classes is annotated in this folder (annotated: {}); choose some with --classes", annotated.into_iter().collect::<Vec<_>>().join(", "));
    }
    let sink = super::models::alert_sink(global)?;
    let mut det = open_detector(config, sink.as_ref())?;
    let mut ev = Evaluator::new(a.iou, &classes);
    let t = Instant::now();
    let mut infer_s = 0.0;
    for ((img, _), truth) in pairs.iter().zip(&truths) {
        let frame = load_still(img)?;
        let ti = Instant::now();
        let dets = det.detect(&frame)?;
        infer_s += ti.elapsed().as_secs_f64();
        ev.add(&dets, truth);
    }
    let fmt = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
    let total = ev.total();
    if global.json {
        let per: serde_json::Map<String, serde_json::Value> = ev
            .counts
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    json!({ "counts": c, "precision": c.precision(), "recall": c.recall() }),
                )
            })
            .collect();
        print_json(&json!({
            "dir": a.dir.display().to_string(), "images": ev.images, "iou": a.iou, "score_threshold": a.detector.score,
            "per_class": per, "all": { "counts": total, "precision": total.precision(), "recall": total.recall() },
            "not_annotated": unannotated,
            "detect_ms_per_image": 1000.0 * infer_s / ev.images as f64, "seconds": t.elapsed().as_secs_f64(),
        }))?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{} images, IoU >= {}, score >= {}",
            ev.images, a.iou, a.detector.score
        )?;
        writeln!(
            out,
            "{:<11} {:>6} {:>6} {:>6} {:>9} {:>7}",
            "class", "TP", "FP", "FN", "precision", "recall"
        )?;
        for (k, c) in ev
            .counts
            .iter()
            .chain(std::iter::once((&"all".to_string(), &total)))
        {
            writeln!(
                out,
                "{:<11} {:>6} {:>6} {:>6} {:>9} {:>7}",
                k,
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
                "not scored (no annotation of this class in the folder): {}",
                unannotated.join(", ")
            )?;
        }
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

fn bench_frames(path: &Path, n: usize) -> anyhow::Result<Vec<RgbFrame>> {
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
        bail!("the file has no decodable frame: {}", path.display());
    }
    Ok(frames)
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
    if a.frames == 0 || a.workers == 0 {
        bail!("invalid --frames/--workers 0 (expected >= 1)");
    }
    let frames = bench_frames(&file, a.frames)?;
    let sink = super::models::alert_sink(global)?;
    // Latency: one session using every core.
    let mut det = open_detector(a.detector.config(None)?, sink.as_ref())?;
    for f in frames.iter().cycle().take(3) {
        det.detect(f)?;
    }
    let mut lat_ms = Vec::with_capacity(a.frames);
    for f in frames.iter().cycle().take(a.frames) {
        let t = Instant::now();
        det.detect(f)?;
        lat_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    drop(det);
    lat_ms.sort_by(f64::total_cmp);
    let median = lat_ms[lat_ms.len() / 2];
    let p90 = lat_ms[(lat_ms.len() * 9 / 10).min(lat_ms.len() - 1)];
    // Throughput: `workers` sessions in parallel, one per thread.
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let per = if a.detector.threads == 0 {
        (cores / a.workers).max(1)
    } else {
        a.detector.threads
    };
    let mut dets = Vec::new();
    for _ in 0..a.workers {
        dets.push(open_detector(a.detector.config(Some(per))?, sink.as_ref())?);
    }
    let t = Instant::now();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let handles: Vec<_> = dets
            .iter_mut()
            .enumerate()
            .map(|(w, d)| {
                let frames = &frames;
                let n = a.frames;
                let workers = a.workers;
                s.spawn(move || -> Result<(), vigie_detect::DetectError> {
                    for f in frames
                        .iter()
                        .cycle()
                        .skip(w)
                        .step_by(workers)
                        .take(n / workers + usize::from(w < n % workers))
                    {
                        d.detect(f)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a benchmark worker panicked"))??;
        }
        Ok(())
    })?;
    let fps = a.frames as f64 / t.elapsed().as_secs_f64();
    let (w, h) = (frames[0].width, frames[0].height);
    if global.json {
        print_json(&json!({
            "file": file.display().to_string(), "frame_size": [w, h], "device": a.detector.device,
            "latency_ms": { "median": median, "p90": p90, "frames": a.frames, "threads": if a.detector.threads == 0 { cores } else { a.detector.threads } },
            "throughput_fps": fps, "workers": a.workers, "threads_per_worker": per, "cores": cores,
        }))?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "detector nanodet-coco-416 on {} ({}x{} frames, device {})",
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
