//! `vigie analyze`: decode -> motion gate -> detector -> tracker -> describer -> index, for
//! every given source of the case.
//!
//! Batch behaviour: sources already analysed are skipped unless `--force` (so a long batch
//! that was interrupted resumes where it stopped); a source that fails is reported and the
//! batch goes on; each source is written to the index in one transaction, so a crash never
//! leaves half a source.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde_json::json;
use vigie_core::{AlertSink, RgbFrame};
use vigie_evidence::SourceRecord;
use vigie_index::{Index, SourceRecord as IndexSource, INDEX_FILE_NAME};
use vigie_motion::ForegroundMask;
use vigie_pipeline::{
    analyze_source, AnalyzeConfig, MotionObjectDetector, ObjectDetector, SourceInput,
};

use super::workspace::Workspace;
use crate::output::{print_json, Outcome};
use crate::Global;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DetectorChoice {
    /// NanoDet COCO object detector (allowlisted model, via ONNX Runtime).
    Nanodet,
    /// Model-free moving-blob detector (labels objects `moving_object`).
    Motion,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source ids or paths of registered sources (default with --all: every source).
    pub sources: Vec<String>,
    /// Analyse every source of the case.
    #[arg(long)]
    pub all: bool,
    #[arg(long, value_enum, default_value = "nanodet")]
    pub detector: DetectorChoice,
    /// Scene file (TOML) with the camera's zones and lines (format: see ARCHITECTURE.md).
    #[arg(long)]
    pub scene: Option<PathBuf>,
    /// Camera name recorded with the tracks (default: the file name without extension).
    #[arg(long)]
    pub camera: Option<String>,
    /// Re-analyse sources that are already in the index.
    #[arg(long)]
    pub force: bool,
    /// Sources analysed in parallel (each already uses a decoder thread and a detector).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Detector device: cpu, or cuda[:N] when built with the `cuda` feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Disable the motion gate (run the detector on every sampled frame).
    #[arg(long)]
    pub no_gate: bool,
    #[command(flatten)]
    pub decode: AnalyzeDecodeFlags,
    /// Do not read licence plates (they are read with the nanodet detector only, on cars,
    /// trucks, buses and motorcycles seen at least --plate-min-width pixels wide).
    #[arg(long)]
    pub no_plates: bool,
    /// Narrowest vehicle box, in source pixels, whose plate is read.
    #[arg(long, default_value_t = 160.0)]
    pub plate_min_width: f32,
    #[command(flatten)]
    pub plate: super::plates::PlateFlags,
}

/// Decoding flags with analysis defaults (10 fps, 640 px).
#[derive(Debug, Clone, clap::Args)]
pub struct AnalyzeDecodeFlags {
    /// Which frames to analyse: a frame rate such as 10fps, all, nonref or keyframes.
    #[arg(long, default_value = "10fps")]
    pub sampling: vigie_core::SamplingMode,
    /// Working width in pixels, or `native`.
    #[arg(long, default_value = "640", value_parser = super::decode::parse_width)]
    pub width: vigie_decode::OutputSize,
    /// Decoder threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// NanoDet behind the pipeline's detector trait.
struct Nanodet(vigie_detect::Detector);

impl ObjectDetector for Nanodet {
    fn detect(
        &mut self,
        frame: &RgbFrame,
        _mask: &ForegroundMask,
    ) -> Result<Vec<vigie_core::Detection>, vigie_pipeline::StageError> {
        let dets = self.0.detect(frame)?;
        Ok(dets.into_iter().map(Into::into).collect())
    }

    fn name(&self) -> &str {
        "nanodet_coco_416"
    }
}

fn make_detector(
    choice: DetectorChoice,
    device: &str,
    alerts: &dyn AlertSink,
) -> anyhow::Result<Box<dyn ObjectDetector + Send>> {
    Ok(match choice {
        DetectorChoice::Motion => Box::new(MotionObjectDetector {
            min_blob_frac: 0.0015,
        }),
        DetectorChoice::Nanodet => {
            let mut cfg = vigie_detect::DetectorConfig::default();
            cfg.session.device = device
                .parse()
                .map_err(|e: vigie_policy::PolicyError| anyhow::anyhow!("{e}"))?;
            Box::new(Nanodet(vigie_detect::Detector::new(cfg, alerts)?))
        }
    })
}

struct Done {
    source_id: String,
    tracks: usize,
    frames: u64,
    duration_ms: i64,
    seconds: f64,
    warnings: Vec<String>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let ws = Workspace::enter(global)?;
    let records: Vec<SourceRecord> = if args.all {
        ws.registry.sources()?
    } else if args.sources.is_empty() {
        bail!("no source given: name sources (ids from `vigie sources`, or paths) or pass --all");
    } else {
        args.sources
            .iter()
            .map(|s| ws.registry.find(s))
            .collect::<Result<_, _>>()?
    };
    let scene_text = match &args.scene {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read scene file {}", p.display()))?,
        ),
        None => None,
    };
    let scene = match &scene_text {
        Some(t) => vigie_describe::Scene::parse(t)?,
        None => vigie_describe::Scene::default(),
    };
    let mut cfg = AnalyzeConfig {
        scene,
        motion_gate: !args.no_gate,
        ..Default::default()
    };
    cfg.decode.sampling = args.decode.sampling;
    cfg.decode.output_size = args.decode.width;
    cfg.decode.threads = args.decode.threads;
    cfg.decode.validate()?;

    let plates = !args.no_plates && args.detector == DetectorChoice::Nanodet;
    let derived = ws.derived_dir();
    std::fs::create_dir_all(&derived)
        .with_context(|| format!("cannot create {}", derived.display()))?;
    let index_path = derived.join(INDEX_FILE_NAME);
    let index = Mutex::new(Index::open(&index_path)?);
    let thumbs = derived.join("thumbnails");
    let params = json!({
        "detector": format!("{:?}", args.detector).to_lowercase(),
        "sampling": cfg.decode.sampling.to_string(),
        "width": format!("{:?}", cfg.decode.output_size),
        "motion_gate": cfg.motion_gate,
        "plates": plates.then(|| json!({
            "localiser": args.plate.plate_localiser, "recogniser": args.plate.plate_recogniser,
            "min_vehicle_width_px": args.plate_min_width,
        })),
        "scene": args.scene,
        "scene_sha256": scene_text.as_deref().map(|t| {
            vigie_evidence::hash_reader(t.as_bytes(), |_| {}).map(|(h, _)| h).unwrap_or_default()
        }),
        "vigie_version": env!("CARGO_PKG_VERSION"),
    });

    let multi = if global.progress() {
        MultiProgress::new()
    } else {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    };
    let failures = Mutex::new(Vec::<(String, anyhow::Error)>::new());
    let done = Mutex::new(Vec::<Done>::new());
    let skipped = Mutex::new(Vec::<String>::new());
    let alerts = ws.alert_sink();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.max(1))
        .build()?;
    pool.install(|| {
        records.par_iter().for_each(|rec| {
            let res = (|| -> anyhow::Result<Option<Done>> {
                if !args.force && index.lock().expect("index lock").is_analysed(&rec.source_id)? {
                    return Ok(None);
                }
                ws.verify_source(rec)?;
                let mut detector = make_detector(args.detector, &args.device, alerts.as_ref())?;
                if args.detector == DetectorChoice::Nanodet {
                    let spec = vigie_detect::DetectorConfig::default().model.spec();
                    ws.log(
                        vigie_audit::Action::ModelLoad,
                        json!({ "model_id": spec.id, "sha256": spec.sha256_hex(), "task": spec.task.as_str(),
                                "device": args.device, "source_id": rec.source_id }),
                        json!({ "loaded": true }),
                    )?;
                }
                let camera = args.camera.clone().unwrap_or_else(|| {
                    rec.path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_else(|| rec.source_id.clone())
                });
                let input = SourceInput {
                    source_id: rec.source_id.clone(),
                    camera: camera.clone(),
                    path: rec.path.clone(),
                };
                let mut cfg = cfg.clone();
                cfg.decode.operator_start = rec.meta.start_time.map(|s| s.at);
                let bar = multi.add(ProgressBar::new(rec.meta.duration_ms.unwrap_or(0)));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix} [{bar:30}] {percent:>3}% {msg} eta {eta}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar.set_prefix(rec.source_id.clone());
                let t0 = Instant::now();
                let mut frames = 0u64;
                let mut analysis = analyze_source(&input, &cfg, detector.as_mut(), |pts| {
                    frames += 1;
                    bar.set_position(pts.max(0) as u64);
                    if frames.is_multiple_of(10) {
                        let fps = frames as f64 / t0.elapsed().as_secs_f64().max(1e-6);
                        bar.set_message(format!("{fps:.1} fps"));
                    }
                    std::ops::ControlFlow::Continue(())
                })?;
                bar.finish_and_clear();
                let (plate_stats, plate_images) = if plates {
                    let mut stage = super::plates::open_stage(
                        &args.plate,
                        &args.device,
                        &ws,
                        &rec.source_id,
                        alerts.as_ref(),
                    )?;
                    let plate_cfg = vigie_pipeline::plates::PlatePassConfig {
                        min_vehicle_width_px: args.plate_min_width,
                        ..Default::default()
                    };
                    let (st, images) = vigie_pipeline::plates::read_plates(
                        &input,
                        &cfg.decode,
                        &mut analysis,
                        &plate_cfg,
                        &mut stage,
                    )?;
                    (Some(st), images)
                } else {
                    (None, Default::default())
                };
                let mut summaries = Vec::with_capacity(analysis.descriptions.len());
                for d in &analysis.descriptions {
                    let mut s = d.summary.clone();
                    s.thumbnail = vigie_pipeline::write_thumbnail(&thumbs, d, 85)
                        .context("cannot write a thumbnail")?
                        .map(|name| format!("thumbnails/{name}"));
                    if let (Some(p), Some(o)) = (s.plate.as_mut(), plate_images.get(&s.track_id)) {
                        p.crop = Some(super::plates::write_plate_crop(
                            &derived,
                            &rec.source_id,
                            s.track_id,
                            o,
                        )?);
                    }
                    summaries.push(s);
                }
                // Per-frame boxes of every track, for synopses (derived data, erased at
                // closure like the index).
                let tubes_dir = derived.join("tubes");
                std::fs::create_dir_all(&tubes_dir)
                    .with_context(|| format!("cannot create {}", tubes_dir.display()))?;
                let tubes_json = serde_json::to_vec(&json!({
                    "source_id": rec.source_id,
                    "frame_size": [analysis.frame_size.0, analysis.frame_size.1],
                    "tubes": analysis.tubes,
                }))?;
                let tube_file = tubes_dir.join(format!("{}.json", rec.source_id));
                let tmp = tube_file.with_extension("json.partial");
                std::fs::write(&tmp, &tubes_json)
                    .and_then(|_| std::fs::rename(&tmp, &tube_file))
                    .with_context(|| format!("cannot write {}", tube_file.display()))?;
                let source = IndexSource {
                    source_id: rec.source_id.clone(),
                    sha256: rec.sha256.clone(),
                    camera,
                    path: Some(rec.path.display().to_string()),
                    analysed_at_ms: chrono::Utc::now().timestamp_millis(),
                    params: json!({ "analysis": params, "decode": analysis.decode, "stats": analysis.stats, "plates": plate_stats }),
                };
                index
                    .lock()
                    .expect("index lock")
                    .write_source(&source, &summaries)?;
                let mut warnings = analysis.decode.warnings.clone();
                if analysis.decode.is_damaged() && warnings.is_empty() {
                    warnings.push("the source is damaged".into());
                }
                ws.log_combination(
                    json!({ "source_id": rec.source_id, "sha256": rec.sha256, "analysis": params }),
                    json!({
                        "tracks": summaries.len(),
                        "plates_read": summaries.iter().filter(|s| s.plate.is_some()).count(),
                        "frames_analysed": analysis.stats.frames_analysed,
                        "corrupt_packets": analysis.decode.corrupt_packets,
                        "truncated": analysis.decode.truncated,
                    }),
                )?;
                Ok(Some(Done {
                    source_id: rec.source_id.clone(),
                    tracks: summaries.len(),
                    frames: analysis.stats.frames_analysed,
                    duration_ms: analysis.duration_ms,
                    seconds: t0.elapsed().as_secs_f64(),
                    warnings,
                }))
            })();
            match res {
                Ok(Some(d)) => done.lock().expect("lock").push(d),
                Ok(None) => skipped.lock().expect("lock").push(rec.source_id.clone()),
                Err(e) => failures.lock().expect("lock").push((rec.source_id.clone(), e)),
            }
        })
    });
    let done = done.into_inner().expect("lock");
    let skipped = skipped.into_inner().expect("lock");
    let mut failures = failures.into_inner().expect("lock");
    if global.json {
        print_json(&json!({
            "case": ws.case_id,
            "index": index_path,
            "analysed": done.iter().map(|d| json!({
                "source_id": d.source_id, "tracks": d.tracks, "frames_analysed": d.frames,
                "seconds": d.seconds, "realtime_factor": d.duration_ms as f64 / 1000.0 / d.seconds.max(1e-9),
                "warnings": d.warnings,
            })).collect::<Vec<_>>(),
            "skipped_already_analysed": skipped,
            "failed": failures.iter().map(|(s, e)| json!({ "source_id": s, "error": format!("{e:#}") })).collect::<Vec<_>>(),
        }))?;
    } else {
        for d in &done {
            println!(
                "{}: {} track(s), {} frame(s) analysed in {:.1} s ({:.1}x realtime)",
                d.source_id,
                d.tracks,
                d.frames,
                d.seconds,
                d.duration_ms as f64 / 1000.0 / d.seconds.max(1e-9)
            );
            for w in &d.warnings {
                eprintln!("vigie: warning: {}: {w}", d.source_id);
            }
        }
        for s in &skipped {
            println!("{s}: already analysed (use --force to redo)");
        }
    }
    for (s, e) in &failures {
        eprintln!("vigie: failed: {s}: {e:#}");
    }
    Ok(match (done.len() + skipped.len(), failures.len()) {
        (_, 0) => Outcome::Success,
        (0, _) => return Err(failures.remove(0).1),
        _ => Outcome::Partial,
    })
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Video file (default: the real footage fetched by tools/setup).
    pub file: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "nanodet")]
    pub detector: DetectorChoice,
    /// Detector device: cpu, or cuda[:N].
    #[arg(long, default_value = "cpu")]
    pub device: String,
    #[command(flatten)]
    pub decode: AnalyzeDecodeFlags,
    /// Skip the plate stage.
    #[arg(long)]
    pub no_plates: bool,
    /// Narrowest vehicle box, in source pixels, whose plate is read.
    #[arg(long, default_value_t = 160.0)]
    pub plate_min_width: f32,
    #[command(flatten)]
    pub plate: super::plates::PlateFlags,
}

/// Peak resident memory of this process, from the kernel (`VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// `vigie bench analyze FILE`: the whole pipeline against `ffmpeg -f null` decoding of the
/// same file, measured in the same run; nothing is written to any case.
pub fn bench(args: BenchArgs, global: &Global) -> anyhow::Result<Outcome> {
    let file = args.file.unwrap_or_else(vigie_core::paths::default_footage);
    if !file.exists() {
        bail!(
            "no such file {} (run tools/setup to fetch the default footage, or name a file)",
            file.display()
        );
    }
    let meta = vigie_decode::probe(&file, None, None)?;
    let root = vigie_case::DataRoot::from_env();
    let machine = root.machine_log(vigie_case::clock_from_env()?)?;
    let alerts = vigie_audit::AuditAlertSink::new(machine, None);
    let mut detector = make_detector(args.detector, &args.device, &alerts)?;
    let mut cfg = AnalyzeConfig::default();
    cfg.decode.sampling = args.decode.sampling;
    cfg.decode.output_size = args.decode.width;
    cfg.decode.threads = args.decode.threads;
    let input = SourceInput {
        source_id: "bench".into(),
        camera: "bench".into(),
        path: file.clone(),
    };
    // ffmpeg first (also warms the page cache for both).
    let ff_s = super::bench::time_ffmpeg(&file)?;
    let t0 = Instant::now();
    let mut a = analyze_source(&input, &cfg, detector.as_mut(), |_| std::ops::ControlFlow::Continue(()))?;
    let secs = t0.elapsed().as_secs_f64();
    // The plate stage, timed apart (it runs after tracking, on the vehicle tracks).
    let plates = if !args.no_plates && args.detector == DetectorChoice::Nanodet {
        let dev: vigie_policy::Device = args.device.parse()?;
        let pcfg = args.plate.config(
            dev,
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        )?;
        let mut stage =
            super::plates::PlateStage(vigie_plate::PlateReader::open(pcfg, &alerts).context(
                "cannot start the plate reader (run tools/fetch-models, or --no-plates)",
            )?);
        let pass = vigie_pipeline::plates::PlatePassConfig {
            min_vehicle_width_px: args.plate_min_width,
            ..Default::default()
        };
        let (st, _) =
            vigie_pipeline::plates::read_plates(&input, &cfg.decode, &mut a, &pass, &mut stage)?;
        Some(st)
    } else {
        None
    };
    let frames = a.decode.frames_decoded as f64;
    let source_s = a.duration_ms as f64 / 1000.0;
    let st = &a.stats;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let per = |d: std::time::Duration, n: u64| ms(d) / n.max(1) as f64;
    let ratio = (frames / secs) / (frames / ff_s);
    let v = json!({
        "file": file, "codec": meta.codec, "resolution": [meta.width, meta.height],
        "detector": detector.name(), "sampling": cfg.decode.sampling.to_string(),
        "source_seconds": source_s, "frames_decoded": a.decode.frames_decoded,
        "frames_analysed": st.frames_analysed, "frames_detected": st.frames_detected,
        "frames_gated_out": st.frames_gated_out, "tracks": a.descriptions.len(),
        "seconds": secs, "source_fps": frames / secs, "realtime_factor": source_s / secs,
        "ffmpeg_null_seconds": ff_s, "ratio_to_ffmpeg_decode": ratio,
        "ms_per_analysed_frame": {
            "waiting_for_decoder": per(st.times.wait_for_frames, st.frames_analysed),
            "motion": per(st.times.motion, st.frames_analysed),
            "track": per(st.times.track, st.frames_analysed),
            "describe": per(st.times.describe, st.frames_analysed),
        },
        "ms_per_detected_frame": per(st.times.detect, st.frames_detected),
        "plates": plates.as_ref().map(|p| json!({
            "vehicle_tracks": p.vehicle_tracks, "tracks_read": p.tracks_eligible,
            "tracks_with_plate": p.tracks_with_plate, "crops": p.crops,
            "decode_ms": ms(p.decode), "read_ms": ms(p.read),
            "ms_per_vehicle_track": p.ms_per_track(),
            "read_ms_per_crop": per(p.read, p.crops),
        })),
        "peak_rss_mib": peak_rss_mib(),
    });
    if global.json {
        print_json(&v)?;
    } else {
        println!(
            "file: {} ({} {}x{}, {:.1} s, {} frames), detector {}, sampling {}",
            file.display(),
            meta.codec,
            meta.width,
            meta.height,
            source_s,
            a.decode.frames_decoded,
            detector.name(),
            cfg.decode.sampling
        );
        println!(
            "pipeline        {:8.1} source fps  {:6.2}x realtime  {:.1} s",
            frames / secs,
            source_s / secs,
            secs
        );
        println!(
            "ffmpeg -f null  {:8.1} source fps  ratio {:.3}",
            frames / ff_s,
            ratio
        );
        println!(
            "frames: {} analysed, {} through the detector, {} skipped by the motion gate; {} tracks",
            st.frames_analysed,
            st.frames_detected,
            st.frames_gated_out,
            a.descriptions.len()
        );
        println!(
            "per analysed frame: motion {:.2} ms, track {:.2} ms, describe {:.2} ms, waiting for decoder {:.2} ms; detector {:.1} ms per detected frame",
            per(st.times.motion, st.frames_analysed),
            per(st.times.track, st.frames_analysed),
            per(st.times.describe, st.frames_analysed),
            per(st.times.wait_for_frames, st.frames_analysed),
            per(st.times.detect, st.frames_detected),
        );
        if let Some(p) = &plates {
            println!(
                "plates: {} vehicle tracks, {} large enough, {} with a plate; {:.0} ms per track read ({} crops, {:.1} ms each; native-resolution re-decode {:.0} ms)",
                p.vehicle_tracks,
                p.tracks_eligible,
                p.tracks_with_plate,
                p.ms_per_track(),
                p.crops,
                per(p.read, p.crops),
                ms(p.decode)
            );
        }
        if let Some(m) = peak_rss_mib() {
            println!("peak RSS {m:.0} MiB");
        }
    }
    Ok(Outcome::Success)
}
