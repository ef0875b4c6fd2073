//! Analysis: decode -> motion gate -> detector -> tracker -> describer -> index, for
//! sources of an entered case.
//!
//! Batch behaviour: sources already analysed are skipped unless `force` (an interrupted
//! batch resumes); a source that fails is reported and the batch goes on; each source is
//! written to the index in one transaction, after its thumbnails and plate crops, so a crash
//! or a stop never leaves half a source in the index. A re-analysis (`force`) never
//! touches what the rows in force name before its own rows are committed: its images have
//! names of their own ([`RunFiles`]). Each run has an id ([`crate::layout::new_run_id`]),
//! written in the source's tube file (atomically, *before* the commit) and in its index row
//! (by the commit): a run stopped between the two leaves a tube file of another run than
//! the rows, which every reader of the tubes refuses
//! ([`crate::layout::InterruptedAnalysis`]) and which `analyze` does not call "already
//! analysed" (it analyses the source again). The case's checkpoint runs at every frame:
//! closure (`case close --wait`) or a cancel stops the work before the source is written.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use vigie_audit::event::Event;
use vigie_core::{AlertSink, RgbFrame};
use vigie_evidence::SourceRecord;
use vigie_index::SourceRecord as IndexSource;
use vigie_motion::ForegroundMask;
use vigie_pipeline::{
    analyze_source_with_thumbnails, AnalyzeConfig, Detected, MotionObjectDetector, ObjectDetector,
    SourceInput, StageError,
};

use crate::entered::EnteredCase;
use crate::error::AppError;
use crate::layout::TubeFile;
use crate::plates::PlateOptions;
use crate::progress::Progress;

/// At most this many crop windows replace the whole frame. Each window costs one batch
/// item of NanoDet's fixed input (416x416, 416x352 or 512x288 by shape), as much as the
/// whole frame letterboxed (batch 2 measured at about 2.1x batch 1 on two threads, at
/// 416), so more than one never pays; with two,
/// detections at scale 1 also cost 0.026-0.031 MOTA on TUD-Campus and TUD-Stadtmitte.
pub const CROP_WINDOWS_MAX: usize = 1;

/// Which object detector analysis runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorChoice {
    /// NanoDet COCO object detector (allowlisted model, via ONNX Runtime).
    Nanodet,
    /// Model-free moving-blob detector (labels objects `moving_object`).
    Motion,
}

/// The detector model for a source of `source_w` x `source_h` pixels decoded at `output`:
/// the size the detector receives decides ([`vigie_detect::detector_model_for`], the one
/// rule). Analysis, shards (through analysis), `eval track`, `eval detect` and
/// `bench analyze` all choose through here or that function, so a source gets the same
/// model on every path. An unknown source size (0) keeps the square model. `precision` is
/// resolved by the caller ([`resolve_precision`]), once per run.
pub fn detector_model_for_source(
    source_w: u32,
    source_h: u32,
    output: vigie_decode::OutputSize,
    choice: vigie_detect::InputChoice,
    precision: vigie_detect::Precision,
) -> vigie_detect::DetectorModel {
    let (w, h) = if source_w == 0 || source_h == 0 {
        (0, 0)
    } else {
        output.resolve(source_w, source_h)
    };
    vigie_detect::detector_model_for(w, h, choice, precision)
}

/// The detector precision `choice` resolves to on this machine for `device` (`cpu`,
/// `cuda:0`): int8 is only ever chosen by `auto` for CPU execution (vigie_detect::choice).
/// An unparsable device counts as not the CPU (float); its error comes where it is used.
pub fn resolve_precision(
    choice: vigie_detect::PrecisionChoice,
    device: &str,
) -> vigie_detect::Precision {
    let on_cpu = matches!(
        device.parse::<vigie_policy::Device>(),
        Ok(vigie_policy::Device::Cpu)
    );
    choice.resolve_here(on_cpu)
}

/// NanoDet behind the pipeline's detector trait: one session on all the threads given,
/// and with two threads or more a pair of sessions on half of them each, which work on
/// two frames side by side ([`ObjectDetector::detect_pair`]); with its report name (the
/// model file's stem, `nanodet_coco_512x288`).
struct Nanodet {
    one: vigie_detect::Detector,
    pair: Option<[vigie_detect::Detector; 2]>,
    name: String,
}

fn to_pipeline(dets: Vec<vigie_detect::Detection>) -> Vec<vigie_core::Detection> {
    dets.into_iter().map(Into::into).collect()
}

impl ObjectDetector for Nanodet {
    fn detect(
        &mut self,
        frame: &RgbFrame,
        _mask: &ForegroundMask,
    ) -> Result<Vec<vigie_core::Detection>, StageError> {
        Ok(to_pipeline(self.one.detect(frame)?))
    }

    fn pairs(&self) -> bool {
        self.pair.is_some()
    }

    /// Each frame on its own session and thread, at once.
    fn detect_pair(
        &mut self,
        a: (&RgbFrame, &ForegroundMask),
        b: (&RgbFrame, &ForegroundMask),
    ) -> Result<[Vec<vigie_core::Detection>; 2], StageError> {
        let Some([first, second]) = self.pair.as_mut() else {
            return Ok([self.detect(a.0, a.1)?, self.detect(b.0, b.1)?]);
        };
        std::thread::scope(|s| {
            let other = std::thread::Builder::new()
                .name("vigie-detect-pair".into())
                .spawn_scoped(s, || second.detect(b.0))
                .map_err(|e| {
                    Box::new(std::io::Error::new(
                        e.kind(),
                        format!(
                            "cannot start the second detector thread ({e}); free some \
                             memory or threads and retry"
                        ),
                    )) as StageError
                })?;
            let da = first.detect(a.0);
            let db = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok([to_pipeline(da?), to_pipeline(db?)])
        })
    }

    /// Crops at scale 1 around the regions when they fit in as many windows as
    /// [`CROP_WINDOWS_MAX`] allows, the whole frame otherwise (`vigie_detect::crops`).
    fn detect_regions(
        &mut self,
        frame: &RgbFrame,
        mask: &ForegroundMask,
        regions: &[vigie_core::BBox],
    ) -> Result<Detected, StageError> {
        let (iw, ih) = self.one.input_size();
        let regions: Vec<vigie_detect::BBox> = regions
            .iter()
            .map(|b| vigie_detect::BBox {
                x: b.x,
                y: b.y,
                w: b.w,
                h: b.h,
            })
            .collect();
        let rule = vigie_detect::crops::WindowRule {
            max_windows: CROP_WINDOWS_MAX,
            ..Default::default()
        };
        let Some(windows) =
            vigie_detect::crops::plan_windows(frame.width, frame.height, iw, ih, &regions, &rule)
        else {
            return Ok(Detected {
                detections: self.detect(frame, mask)?,
                area_share: 1.0,
            });
        };
        let dets = self.one.detect_windows(frame, &windows)?;
        let frame_px = frame.width as f64 * frame.height as f64;
        Ok(Detected {
            detections: dets.into_iter().map(Into::into).collect(),
            area_share: vigie_detect::crops::union_area_px(&windows) as f64 / frame_px.max(1.0),
        })
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// A detector for the pipeline (`model`: the NanoDet model, chosen by
/// [`detector_model_for_source`]; unused by the motion detector). With `pairs` (the
/// analysis will detect ahead, `AnalyzeConfig::detect_ahead`) and at least two CPU
/// threads, NanoDet also opens the two sessions that detect two frames side by side
/// (their threads split as evenly as the count allows). Crate-private: only an entered
/// case ([`analyze_sources`]) and the measurement door build one.
pub(crate) fn make_detector(
    choice: DetectorChoice,
    model: vigie_detect::DetectorModel,
    device: &str,
    threads: usize,
    pairs: bool,
    alerts: &dyn AlertSink,
) -> Result<Box<dyn ObjectDetector + Send>, AppError> {
    Ok(match choice {
        DetectorChoice::Motion => Box::new(MotionObjectDetector {
            min_blob_frac: 0.0015,
        }),
        DetectorChoice::Nanodet => {
            let mut cfg = vigie_detect::DetectorConfig {
                model: model.model,
                ..Default::default()
            };
            cfg.session.device = device.parse()?;
            cfg.session.intra_op_threads = threads.max(1);
            let name = model.model.spec().file.trim_end_matches(".onnx").to_owned();
            let one = vigie_detect::Detector::new(cfg.clone(), alerts)?;
            // Two sessions on half the threads each, for frames detected side by side
            // (CPU only: a GPU runs one frame at a time either way).
            let pair = if pairs && threads >= 2 && cfg.session.device == vigie_policy::Device::Cpu {
                let mut second = cfg.clone();
                cfg.session.intra_op_threads = threads - threads / 2;
                second.session.intra_op_threads = threads / 2;
                Some([
                    vigie_detect::Detector::new(cfg, alerts)?,
                    vigie_detect::Detector::new(second, alerts)?,
                ])
            } else {
                None
            };
            Box::new(Nanodet { one, pair, name })
        }
    })
}

/// What to analyse and how (the front end's flags, validated here).
#[derive(Debug, Clone)]
pub struct AnalyzeRequest {
    /// Source ids or paths; empty with `all`.
    pub sources: Vec<String>,
    pub all: bool,
    pub detector: DetectorChoice,
    /// NanoDet's precision: `Auto` (int8 on CPUs with VNNI, float elsewhere) or forced,
    /// so that every node of a sharded run uses the precision the coordinator chose.
    pub detector_precision: vigie_detect::PrecisionChoice,
    /// NanoDet's input: `Auto` (by each source's shape, [`vigie_detect::detector_model_for`])
    /// or one size asked for every source (recorded per source with the model).
    pub detector_input: vigie_detect::InputChoice,
    /// Scene file (zones and lines).
    pub scene: Option<PathBuf>,
    pub force: bool,
    /// Sources analysed in parallel.
    pub jobs: usize,
    pub device: String,
    pub motion_gate: bool,
    pub sampling: vigie_core::SamplingMode,
    pub width: vigie_decode::OutputSize,
    pub decoder_threads: usize,
    /// Plate reading (with the nanodet detector only); `None` disables it.
    pub plates: Option<PlateOptions>,
    pub plate_min_width_px: f32,
}

/// One source analysed.
#[derive(Debug, Clone, Serialize)]
pub struct SourceDone {
    pub source_id: String,
    pub tracks: usize,
    pub frames_analysed: u64,
    /// Frames given to the detector (the rate adapts to the activity; the per-minute
    /// rate is in the index's source record, `stats.detect_rate`, for coverage).
    pub frames_detected: u64,
    pub duration_ms: i64,
    pub seconds: f64,
    pub realtime_factor: f64,
    pub warnings: Vec<String>,
}

/// What a batch did.
#[derive(Debug)]
pub struct AnalyzeOutcome {
    pub index: PathBuf,
    pub analysed: Vec<SourceDone>,
    pub skipped_already_analysed: Vec<String>,
    pub failed: Vec<(String, AppError)>,
}

impl AnalyzeOutcome {
    /// The `--json` document (stable: fields are only added).
    pub fn to_json(&self, case_id: &str) -> Value {
        json!({
            "case": case_id,
            "index": self.index,
            "analysed": self.analysed.iter().map(|d| json!({
                "source_id": d.source_id, "tracks": d.tracks, "frames_analysed": d.frames_analysed,
                "frames_detected": d.frames_detected,
                "seconds": d.seconds, "realtime_factor": d.realtime_factor,
                "warnings": d.warnings,
            })).collect::<Vec<_>>(),
            "skipped_already_analysed": self.skipped_already_analysed,
            "failed": self.failed.iter().map(|(s, e)| json!({ "source_id": s, "error": e.to_string() })).collect::<Vec<_>>(),
        })
    }
}

/// Analyse sources of the entered case into its index.
pub fn analyze_sources(
    case: &EnteredCase,
    req: &AnalyzeRequest,
    progress: &dyn Progress,
) -> Result<AnalyzeOutcome, AppError> {
    let records: Vec<SourceRecord> = if req.all {
        case.sources()?
    } else if req.sources.is_empty() {
        return Err(AppError::BadInput(
            "no source given: name sources (ids from `vigie sources`, or paths) or pass --all"
                .into(),
        ));
    } else {
        req.sources
            .iter()
            .map(|s| case.find_source(s))
            .collect::<Result<_, _>>()?
    };
    let scene_text = match &req.scene {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
            AppError::BadInput(format!("cannot read scene file ({e}): {}", p.display()))
        })?),
        None => None,
    };
    let scene = match &scene_text {
        Some(t) => vigie_describe::Scene::parse(t)?,
        None => vigie_describe::Scene::default(),
    };
    let mut cfg = AnalyzeConfig {
        scene,
        motion_gate: req.motion_gate,
        ..Default::default()
    };
    cfg.decode.sampling = req.sampling;
    cfg.decode.output_size = req.width;
    cfg.decode.threads = req.decoder_threads;
    cfg.decode.validate()?;

    let plates = req
        .plates
        .as_ref()
        .filter(|_| req.detector == DetectorChoice::Nanodet);
    let layout = case.layout();
    let derived = layout.ensure_derived()?;
    let index = Mutex::new(case.index_or_new()?);
    let thumbs = layout.thumbnails();
    // Resolved once for the whole run, on this machine (a shard records it in its
    // settings: shard.rs refuses to merge shards that resolved differently).
    let precision = resolve_precision(req.detector_precision, &req.device);
    let params = json!({
        "detector": req.detector,
        "detector_precision": (req.detector == DetectorChoice::Nanodet).then(|| precision.to_string()),
        "detector_input": (req.detector == DetectorChoice::Nanodet).then(|| req.detector_input.to_string()),
        "sampling": cfg.decode.sampling.to_string(),
        "width": format!("{:?}", cfg.decode.output_size),
        "motion_gate": cfg.motion_gate,
        "detect_rate": cfg.detect_rate,
        "plates": plates.map(|p| json!({
            "localiser": p.localiser, "recogniser": p.recogniser,
            "min_vehicle_width_px": req.plate_min_width_px,
        })),
        "scene": req.scene,
        "scene_sha256": scene_text.as_deref().map(|t| {
            vigie_evidence::hash_reader(t.as_bytes(), |_| {}).map(|(h, _)| h).unwrap_or_default()
        }),
        "vigie_version": env!("CARGO_PKG_VERSION"),
    });

    let failed = Mutex::new(Vec::<(String, AppError)>::new());
    let done = Mutex::new(Vec::<SourceDone>::new());
    let skipped = Mutex::new(Vec::<String>::new());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(req.jobs.max(1))
        .build()
        .map_err(|e| AppError::BadInput(format!("cannot start {} jobs: {e}", req.jobs)))?;
    pool.install(|| {
        records.par_iter().for_each(|rec| {
            let res = (|| -> Result<Option<SourceDone>, AppError> {
                case.checkpoint()?;
                // Skipped only when the last analysis completed: rows committed and the
                // tube file of the same run (an interrupted one is done again).
                if !req.force {
                    // The index only for its row; the tube file is read without it (the
                    // other sources' jobs use the index meanwhile).
                    let indexed_run = {
                        let ix = index.lock().expect("index lock");
                        match ix.is_analysed(&rec.source_id)? {
                            true => Some(ix.run_id(&rec.source_id)?),
                            false => None,
                        }
                    };
                    if let Some(run) = indexed_run {
                        if layout.tubes_of_run(&rec.source_id, run.as_deref()) {
                            return Ok(None);
                        }
                    }
                }
                // Opened once: every decoding of the source (analysis, thumbnails, plates)
                // reads the inode that was hashed.
                let opened = case.open_source(rec)?;
                let sink = case.alert_sink();
                // Sources analysed side by side share the cores: each detector gets its
                // share of them, not all of them (oversubscribed, `--jobs 2` on 2 cores
                // ran at half the speed of `--jobs 1`).
                let threads = (crate::plates::cores() / req.jobs.max(1)).max(1);
                let pairs = cfg.detect_ahead && !cfg.detect_regions;
                // The model by the shape of the frames the detector will receive.
                let model = detector_model_for_source(
                    rec.meta.width,
                    rec.meta.height,
                    req.width,
                    req.detector_input,
                    precision,
                );
                let mut detector =
                    make_detector(req.detector, model, &req.device, threads, pairs, &sink)?;
                let mut params = params.clone();
                if req.detector == DetectorChoice::Nanodet {
                    let spec = model.model.spec();
                    params["detector_model"] = json!({
                        "id": spec.id,
                        "sha256": spec.sha256_hex(),
                        "input": [spec.preprocess.width, spec.preprocess.height],
                        "precision": model.precision.to_string(),
                        "frame_size": req.width.resolve(rec.meta.width, rec.meta.height),
                    });
                    case.record(&Event::ModelLoaded {
                        model_id: spec.id.to_owned(),
                        sha256: spec.sha256_hex(),
                        task: spec.task.as_str().to_owned(),
                        device: req.device.clone(),
                        source_id: Some(rec.source_id.clone()),
                    })?;
                }
                // Camera and clock as the case's log records them now.
                let timing = case.timing(rec);
                let camera = timing.camera.clone();
                let input = SourceInput {
                    source_id: rec.source_id.clone(),
                    camera: camera.clone(),
                    path: opened.decode_path(),
                };
                let mut cfg = cfg.clone();
                cfg.decode = cfg.decode.clone().for_source(&rec.meta);
                // Zones and lines: the --scene file when given, else the camera's own.
                let mut camera_scene = None;
                if req.scene.is_none() {
                    if let Some((text, sha)) = case.time_book().scene_of(&camera) {
                        cfg.scene = vigie_describe::Scene::parse(text)?;
                        camera_scene = Some(sha.to_owned());
                    }
                }
                progress.begin(&rec.source_id, rec.meta.duration_ms);
                let t0 = Instant::now();
                // Each thumbnail written as soon as its pixels are final (a re-cut one as
                // soon as it is cut) and its pixels released at once: re-cut thumbnails
                // are never all held (`vigie_pipeline::thumbnails`). Files of this run
                // have names of their own ([`RunFiles`]): until the index rows that name
                // them are committed, the rows in force keep pointing at the previous
                // run's files, untouched.
                let run = RunFiles::new(&rec.source_id, case.app().clock().now().timestamp_millis());
                let run_id = crate::layout::new_run_id()?;
                let mut thumb_names: Vec<(usize, String)> = Vec::new();
                let analysed = analyze_source_with_thumbnails(
                    &input,
                    &cfg,
                    detector.as_mut(),
                    |pts| {
                        progress.frame(&rec.source_id, pts);
                        match case.checkpoint() {
                            Ok(()) => ControlFlow::Continue(()),
                            Err(e) => ControlFlow::Break(e.to_string()),
                        }
                    },
                    |i, d| {
                        let name = run.name(d.summary.track_id);
                        let written = vigie_pipeline::write_thumbnail(&thumbs, &name, d, 85)
                            .map_err(|e| Box::new(AppError::io(&thumbs)(e)) as StageError)?;
                        if written {
                            thumb_names.push((i, format!("thumbnails/{name}")));
                        }
                        Ok(())
                    },
                );
                let mut analysis = match analysed {
                    Ok(a) => a,
                    Err(vigie_pipeline::PipelineError::Stopped { why, .. }) => {
                        // Recorded (the work was started and is not finished), nothing
                        // of the source written.
                        let _ = case.record(&Event::WorkStopped {
                            command: case.command().to_owned(),
                            source_id: Some(rec.source_id.clone()),
                            why: why.clone(),
                        });
                        return Err(AppError::Stopped(why));
                    }
                    Err(e) => return Err(e.into()),
                };
                // The thumbnail files, by description (written during the analysis).
                let mut thumb_files: Vec<Option<String>> = vec![None; analysis.descriptions.len()];
                for (i, name) in thumb_names {
                    thumb_files[i] = Some(name);
                }
                let (plate_stats, plate_images) = match plates {
                    Some(opts) => {
                        let mut stage = crate::plates::open_stage(
                            case,
                            opts,
                            &req.device,
                            &rec.source_id,
                            (crate::plates::cores() / req.jobs.max(1)).max(1),
                        )?;
                        let plate_cfg = vigie_pipeline::plates::PlatePassConfig {
                            min_vehicle_width_px: req.plate_min_width_px,
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
                    }
                    None => (None, Default::default()),
                };
                case.checkpoint()?;
                let mut summaries = Vec::with_capacity(analysis.descriptions.len());
                for (d, thumbnail) in analysis.descriptions.iter().zip(thumb_files) {
                    let mut s = d.summary.clone();
                    s.first_wall_ms = timing.wall_ms(s.first_pts_ms);
                    s.last_wall_ms = timing.wall_ms(s.last_pts_ms);
                    s.thumbnail = thumbnail;
                    if let (Some(p), Some(o)) = (s.plate.as_mut(), plate_images.get(&s.track_id)) {
                        p.crop = Some(crate::plates::write_plate_crop(
                            &derived,
                            &run.name(s.track_id),
                            o,
                        )?);
                    }
                    summaries.push(s);
                }
                // Changed while it was read: nothing of it is committed.
                case.source_unchanged(&opened)?;
                let source = IndexSource {
                    source_id: rec.source_id.clone(),
                    sha256: rec.sha256.clone(),
                    camera,
                    path: Some(rec.path.display().to_string()),
                    analysed_at_ms: case.app().clock().now().timestamp_millis(),
                    params: json!({ "analysis": params, "decode": analysis.decode, "stats": analysis.stats, "plates": plate_stats, "camera_scene_sha256": camera_scene }),
                    run_id: Some(run_id.clone()),
                };
                commit_run(
                    layout,
                    &index,
                    &source,
                    &summaries,
                    &TubeFile {
                        format_version: crate::layout::TUBE_FORMAT,
                        source_id: rec.source_id.clone(),
                        run_id: Some(run_id.clone()),
                        frame_size: analysis.frame_size,
                        tubes: analysis.tubes.clone(),
                    },
                )?;
                // The previous run's images of this source are no longer named by any row.
                for dir in [thumbs.clone(), derived.join("plates")] {
                    run.remove_superseded(&dir).map_err(AppError::io(&dir))?;
                }
                let mut warnings = analysis.decode.warnings.clone();
                if analysis.decode.is_damaged() && warnings.is_empty() {
                    warnings.push("the source is damaged".into());
                }
                case.record(&Event::SourceAnalysed {
                    source_id: rec.source_id.clone(),
                    sha256: rec.sha256.clone(),
                    analysis: params.clone(),
                    tracks: summaries.len() as u64,
                    plates_read: summaries.iter().filter(|s| s.plate.is_some()).count() as u64,
                    frames_analysed: analysis.stats.frames_analysed,
                    corrupt_packets: analysis.decode.corrupt_packets,
                    truncated: analysis.decode.truncated,
                })?;
                let seconds = t0.elapsed().as_secs_f64();
                Ok(Some(SourceDone {
                    source_id: rec.source_id.clone(),
                    tracks: summaries.len(),
                    frames_analysed: analysis.stats.frames_analysed,
                    frames_detected: analysis.stats.frames_detected,
                    duration_ms: analysis.duration_ms,
                    seconds,
                    realtime_factor: analysis.duration_ms as f64 / 1000.0 / seconds.max(1e-9),
                    warnings,
                }))
            })();
            progress.end(&rec.source_id, res.is_ok());
            match res {
                Ok(Some(d)) => done.lock().expect("lock").push(d),
                Ok(None) => skipped.lock().expect("lock").push(rec.source_id.clone()),
                Err(e) => failed.lock().expect("lock").push((rec.source_id.clone(), e)),
            }
        })
    });
    Ok(AnalyzeOutcome {
        index: layout.index_path(),
        analysed: done.into_inner().expect("lock"),
        skipped_already_analysed: skipped.into_inner().expect("lock"),
        failed: failed.into_inner().expect("lock"),
    })
}

/// Write one run's tube file, then commit its index rows, both naming the run
/// (`source.run_id`, `tubes.run_id`).
///
/// Why this order: the tubes (boxes by track id, which redaction masks by) are written
/// first, atomically, so that once the rows are committed their boxes are already there.
/// Stopped in between (a crash, a kill), the tube file is of another run than the rows,
/// which every reader detects and refuses ([`crate::layout::InterruptedAnalysis`]); the
/// other order left the rows of the new run with the boxes of the old one, undetected. A
/// commit that *fails* puts the previous tube file back, so the source stays usable with
/// the rows still in force.
pub(crate) fn commit_run(
    layout: &crate::layout::DerivedLayout,
    index: &Mutex<vigie_index::Index>,
    source: &IndexSource,
    summaries: &[vigie_core::TrackSummary],
    tubes: &TubeFile,
) -> Result<(), AppError> {
    let tube_path = layout.tube_file(&tubes.source_id);
    let previous_tubes = std::fs::read(&tube_path).ok();
    layout.write_tubes(tubes)?;
    let committed = index
        .lock()
        .expect("index lock")
        .write_source(source, summaries);
    if let Err(e) = committed {
        // Should putting the previous file back fail too, the readers refuse the
        // mismatch; the commit's error is the one to report.
        let _ = match previous_tubes {
            Some(bytes) => vigie_audit::write_atomic(&tube_path, &bytes),
            None => std::fs::remove_file(&tube_path),
        };
        return Err(e.into());
    }
    Ok(())
}

/// The names of one analysis run's images of one source (thumbnails, plate crops):
/// `<source>_<track>_<run>.jpg`, `<run>` the run's start in milliseconds, base 36.
///
/// Why: a re-analysis (`--force`) renumbers tracks. Had it written `<source>_<track>.jpg`
/// over the files the index rows in force name, a run failing before its rows are
/// committed (a plate model refused, a disk error, the case closed) would leave those rows
/// pointing at crops of other objects, which a contact sheet would then disclose. With
/// names of its own a run never touches the files in use: if it fails they stay right,
/// and once its rows are committed [`RunFiles::remove_superseded`] deletes the previous
/// run's files (and those of runs that failed), whatever is left being unreferenced.
pub(crate) struct RunFiles<'a> {
    source_id: &'a str,
    run: String,
}

impl<'a> RunFiles<'a> {
    pub(crate) fn new(source_id: &'a str, started_ms: i64) -> Self {
        Self {
            source_id,
            run: base36(started_ms.max(0) as u64),
        }
    }

    /// The file name of track `track_id`'s image.
    pub(crate) fn name(&self, track_id: u64) -> String {
        format!("{}_{}_{}.jpg", self.source_id, track_id, self.run)
    }

    /// Delete the images of this source in `dir` that another run wrote (this run's
    /// are kept; other sources' are never touched). A missing `dir` is nothing to do.
    pub(crate) fn remove_superseded(&self, dir: &std::path::Path) -> std::io::Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if self.of_this_source(name) && !self.of_this_run(name) {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }

    /// `<source>_<track>.jpg` (before run names) or `<source>_<track>_<run>.jpg`.
    fn of_this_source(&self, name: &str) -> bool {
        let track = name
            .strip_prefix(self.source_id)
            .and_then(|r| r.strip_prefix('_'))
            .and_then(|r| r.split(['_', '.']).next())
            .and_then(|t| t.parse::<u64>().ok());
        track.is_some_and(|t| is_image_name_of(name, self.source_id, t))
    }

    fn of_this_run(&self, name: &str) -> bool {
        name.strip_suffix(".jpg")
            .and_then(|n| n.rsplit_once('_'))
            .is_some_and(|(_, run)| run == self.run)
    }
}

/// Whether `name` is the file name an analysis gives track `track_id`'s image of
/// `source_id`: `<source>_<track>_<run>.jpg`, or `<source>_<track>.jpg` as written before
/// runs had names ([`RunFiles`]). What a shard's rows may name (`shard::merge`).
pub(crate) fn is_image_name_of(name: &str, source_id: &str, track_id: u64) -> bool {
    let Some(rest) = name
        .strip_prefix(source_id)
        .and_then(|r| r.strip_prefix('_'))
        .and_then(|r| r.strip_suffix(".jpg"))
    else {
        return false;
    };
    let (track, run) = rest.split_once('_').unwrap_or((rest, "0"));
    track == track_id.to_string()
        && !run.is_empty()
        && run
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

fn base36(mut v: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(v % 36) as usize]);
        v /= 36;
        if v == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii digits")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commit that fails puts the previous run's tube file back: the rows in force (the
    /// previous run's) keep their boxes, and readers accept them.
    #[test]
    fn a_failed_commit_leaves_the_previous_run_usable() {
        let dir = tempfile::tempdir().unwrap();
        let layout = crate::layout::DerivedLayout::new(dir.path());
        let index = Mutex::new(layout.open_index().unwrap());
        let source = |run: &str, sha256: String| IndexSource {
            source_id: "src".into(),
            sha256,
            camera: "door".into(),
            path: None,
            analysed_at_ms: 0,
            params: json!({}),
            run_id: Some(run.into()),
        };
        let tubes = |run: &str, track_id: u64| TubeFile {
            format_version: crate::layout::TUBE_FORMAT,
            source_id: "src".into(),
            run_id: Some(run.into()),
            frame_size: (160, 120),
            tubes: vec![crate::layout::Tube {
                track_id,
                boxes: Vec::new(),
            }],
        };
        let ok = "ab".repeat(32);
        commit_run(
            &layout,
            &index,
            &source("a", ok.clone()),
            &[],
            &tubes("a", 1),
        )
        .unwrap();
        assert_eq!(layout.read_tubes("src").unwrap(), tubes("a", 1));
        // Run b's rows are refused (an invalid hash): nothing of b stays.
        let bad = source("b", "not a hash".into());
        assert!(commit_run(&layout, &index, &bad, &[], &tubes("b", 7)).is_err());
        assert_eq!(layout.read_tubes("src").unwrap(), tubes("a", 1));
        assert!(layout
            .analysis_complete(&index.lock().unwrap(), "src")
            .unwrap());
        // A first run that fails leaves no tube file behind.
        let first = IndexSource {
            source_id: "new".into(),
            ..source("c", "bad".into())
        };
        let first_tubes = TubeFile {
            source_id: "new".into(),
            ..tubes("c", 1)
        };
        assert!(commit_run(&layout, &index, &first, &[], &first_tubes).is_err());
        assert!(!layout.tube_file("new").exists());
    }

    /// NanoDet's two sessions (one thread each here) give, frame for frame, bit for bit,
    /// the boxes its one session on all the threads gives: detecting ahead cannot change
    /// what analysis finds. Needs the fetched model, ONNX Runtime and the default footage
    /// (`tools/setup`); skips loudly without them.
    #[test]
    fn a_pair_of_sessions_finds_what_one_session_finds() {
        let footage = vigie_core::paths::default_footage();
        let model = detector_model_for_source(
            768,
            576,
            vigie_decode::OutputSize::MaxWidth(640),
            vigie_detect::InputChoice::Auto,
            resolve_precision(vigie_detect::PrecisionChoice::default(), "cpu"),
        );
        let model_file = vigie_policy::model_path(model.model);
        let runtime = vigie_policy::runtime_library_path().0;
        for needed in [&footage, &model_file, &runtime] {
            if !needed.is_file() {
                vigie_core::test_support::skip(&format!(
                    "{} absent (run tools/setup)",
                    needed.display()
                ));
                return;
            }
        }
        let alerts = vigie_core::MemoryAlertSink::default();
        let mut det = make_detector(DetectorChoice::Nanodet, model, "cpu", 2, true, &alerts)
            .expect("NanoDet opens");
        assert!(
            det.pairs(),
            "two threads and detect ahead: a pair of sessions"
        );
        let cfg = vigie_decode::DecodeConfig {
            sampling: vigie_core::SamplingMode::TargetFps { fps: 2.0 },
            output_size: vigie_decode::OutputSize::MaxWidth(640),
            ..Default::default()
        };
        let mut dec = vigie_decode::Decoder::open(&footage, &cfg).unwrap();
        let frames: Vec<RgbFrame> = std::iter::from_fn(|| dec.next_frame().unwrap())
            .take(12)
            .collect();
        assert_eq!(frames.len(), 12);
        // NanoDet does not read the motion mask.
        let mask = ForegroundMask {
            width: 1,
            height: 1,
            data: vec![0],
            fg_frac: 0.0,
            gate_open: true,
        };
        let mut found = 0;
        for two in frames.chunks(2) {
            let [a, b] = det.detect_pair((&two[0], &mask), (&two[1], &mask)).unwrap();
            assert_eq!(a, det.detect(&two[0], &mask).unwrap());
            assert_eq!(b, det.detect(&two[1], &mask).unwrap());
            found += a.len() + b.len();
        }
        assert!(found > 20, "{found} boxes in 12 frames of vtest.avi");
    }

    #[test]
    fn a_run_names_its_images_apart_and_removes_only_what_it_supersedes() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunFiles::new("S45cddc9490be", 1_733_500_000_000);
        let name = run.name(7);
        assert_eq!(
            name,
            format!("S45cddc9490be_7_{}.jpg", base36(1_733_500_000_000))
        );
        assert_ne!(
            name,
            RunFiles::new("S45cddc9490be", 1_733_500_000_001).name(7),
            "two runs never share a name"
        );
        let files = [
            name.as_str(),             // this run: kept
            "S45cddc9490be_7.jpg",     // written before runs had names: superseded
            "S45cddc9490be_3_abc.jpg", // a previous (or failed) run: superseded
            "S45cddc9490beff_3.jpg",   // another source whose id starts alike: kept
            "Sother_3_abc.jpg",        // another source: kept
            "S45cddc9490be_x_abc.jpg", // not a track image: kept
            "S45cddc9490be_3_abc.png", // not ours: kept
        ];
        for f in files {
            std::fs::write(dir.path().join(f), b"jpeg").unwrap();
        }
        run.remove_superseded(dir.path()).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want: Vec<String> = [
            name.as_str(),
            "S45cddc9490beff_3.jpg",
            "Sother_3_abc.jpg",
            "S45cddc9490be_x_abc.jpg",
            "S45cddc9490be_3_abc.png",
        ]
        .map(String::from)
        .to_vec();
        want.sort();
        assert_eq!(left, want);
        // No folder yet (no plate read in any run): nothing to do.
        run.remove_superseded(&dir.path().join("plates")).unwrap();
    }

    #[test]
    fn image_names_are_bound_to_their_source_and_track() {
        assert!(is_image_name_of("S1_7_mxcc49cx.jpg", "S1", 7));
        assert!(is_image_name_of("S1_7.jpg", "S1", 7));
        for bad in [
            "S1_8_mxcc49cx.jpg",
            "S2_7_mxcc49cx.jpg",
            "S1_07_a.jpg",
            "S1_7_.jpg",
            "S1_7_A.jpg",
            "S1_7_a/../../x.jpg",
            "S1_7_a.png",
            "../S1_7.jpg",
        ] {
            assert!(!is_image_name_of(bad, "S1", 7), "{bad}");
        }
    }

    #[test]
    fn base36_digits() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
        assert_eq!(base36(u64::MAX), "3w5e11264sgsf");
    }
}
